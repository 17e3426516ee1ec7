"""Fuzz the running server's own OpenAPI schema with schemathesis (loopback, a bounded number of examples per
operation): no 5xx, and every response matches the schema (status codes, content types, bodies, headers).

Operations that reach the model get fewer examples: each one is a real generation on the embedded model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from tests.hardening.processes import Process, build_news_home, running, start_serve

pytestmark = pytest.mark.slow  # the model routes are real generations

KEY = "fuzz-key-3c4d5e6f"
AUTH = {"Authorization": f"Bearer {KEY}"}
MODEL_PATHS = r"^/v1/(ask|summarize|chat/completions)$"
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    workdir = tmp_path_factory.mktemp("fuzz")
    home = build_news_home(workdir / "home")
    with running(start_serve(home, workdir, api_key=KEY, generation_queue_timeout_s="300")) as process:
        yield process


COMMON = settings(
    deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found, in bounded time
)  # fmt: skip


def _examples(path: str) -> int:
    return 3 if re.match(MODEL_PATHS, path) else 15


def _finding(exc: BaseException) -> str:
    """The failure's title and what was received, on one line."""
    lines = [line.strip(" |") for line in str(exc).splitlines() if line.strip(" |")]
    for group in getattr(exc, "exceptions", ()):
        lines += [line.strip(" |") for line in str(group).splitlines() if line.strip(" |")][:3]
    return " / ".join(lines[:6])[:600]


def test_every_operation_holds_to_the_schema(fuzz_server: Process) -> None:
    """Every operation in /openapi.json, driven by hypothesis (schemathesis's pytest plugin does not support the
    pytest release used here, so the strategies are run directly); failures are collected, then reported."""
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json", headers=AUTH)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/ask", "/v1/search", "/v1/documents", "/v1/documents/{source}"}
    for operation in operations:

        @settings(COMMON, max_examples=_examples(operation.path))
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case) -> None:
            timeout = 300 if re.match(MODEL_PATHS, case.path) else 120
            case.call_and_validate(base_url=fuzz_server.url, headers=AUTH, checks=CHECKS, timeout=timeout)

        try:
            call()
        except (Exception, BaseExceptionGroup) as exc:  # one line per failing operation, then the next one
            failures.append(f"{operation.method.upper()} {operation.path}: {_finding(exc)}")
    assert not failures, "\n".join(failures)


def test_fuzzing_left_the_server_healthy(fuzz_server: Process, tmp_path: Path) -> None:
    import httpx

    assert fuzz_server.alive()
    assert httpx.get(fuzz_server.url + "/readyz", timeout=60).status_code == 200
    assert "Traceback" not in fuzz_server.log(), fuzz_server.log()[-3000:]
