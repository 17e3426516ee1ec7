"""`citewise serve` as a real process: readiness, API key from the environment, workers sharing one model, and a
clean shutdown on SIGTERM / Ctrl-C that leaves no process behind (the server runs in its own process group, so
anything it started — reparented or not — is still found by group id)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from service.config import Settings
from service.http.server import is_loopback, warn_if_exposed
from service.llm import free_port

CITEWISE = Path(sys.executable).parent / "citewise"
STARTUP_TIMEOUT_S = 300
SHUTDOWN_TIMEOUT_S = 60
KEY = "serve-test-key-91c2"

pytestmark = pytest.mark.slow


def group_members(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes in a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            members.append(int(entry.name))
    return members


@contextmanager
def serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    port = free_port()
    log_path = tmp_path / f"serve-{port}.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CITEWISE_")}
    full_env.update({"CITEWISE_HOME": str(tmp_path / "home"), **(env or {})})
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(CITEWISE), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert proc.poll() is None, f"serve exited early:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"serve not ready:\n{log_path.read_text()[-3000:]}"
            try:
                if httpx.get(f"{url}/readyz", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        yield proc, url, log_path
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def stop_and_check(proc: subprocess.Popen, signum: int, log_path: Path) -> None:
    os.kill(proc.pid, signum)
    try:
        code = proc.wait(SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve did not stop within {SHUTDOWN_TIMEOUT_S}s:\n{log_path.read_text()[-3000:]}")
    log = log_path.read_text()
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells what stopped it
    assert code in (0, -signum, 128 + signum), log[-3000:]
    assert "engine closed" in log and "Finished server process" in log, log[-3000:]
    deadline = time.monotonic() + 10
    while group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert group_members(proc.pid) == [], "processes left behind after shutdown"
    assert "Traceback" not in log, log[-3000:]


def test_sigterm_stops_cleanly_with_api_key_from_environment(tmp_path: Path) -> None:
    with serve(tmp_path, env={"CITEWISE_API_KEY": KEY}) as (proc, url, log_path):
        assert group_members(proc.pid) == [proc.pid]  # the model runs in-process: no helper processes
        assert httpx.get(f"{url}/healthz").status_code == 200
        assert httpx.get(f"{url}/v1/documents").status_code == 401
        r = httpx.get(f"{url}/v1/documents", headers={"Authorization": f"Bearer {KEY}"})
        assert r.status_code == 200 and r.json() == []
        assert httpx.get(f"{url}/readyz").json()["llm"] is True
        stop_and_check(proc, signal.SIGTERM, log_path)
    log = log_path.read_text()
    assert KEY not in log
    assert "request_id=" in log and "GET /v1/documents 200" in log
    # each request is logged once, by the request middleware (with its id and timing), not also by uvicorn
    assert log.count("GET /v1/documents 200") == 1 and "HTTP/1.1" not in log, log[-3000:]


def test_port_in_use_fails_at_once_in_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [str(CITEWISE), "serve", "--port", str(port)], capture_output=True, text=True, timeout=120,
            env={**os.environ, "CITEWISE_HOME": str(tmp_path / "home")},
        )  # fmt: skip
    assert done.returncode == 1, done
    assert done.stderr.strip() == f"error: 127.0.0.1:{port} is already in use: choose another with --port"
    assert not (tmp_path / "home").exists(), "nothing was loaded or created before the port was checked"
    print(f"port check took {time.monotonic() - started:.1f} s")


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    with serve(tmp_path) as (proc, url, log_path):
        assert httpx.get(f"{url}/v1/models").status_code == 200
        stop_and_check(proc, signal.SIGINT, log_path)


def test_workers_share_one_model_and_stop_cleanly(tmp_path: Path) -> None:
    with serve(tmp_path, "--workers", "2") as (proc, url, log_path):
        readiness = [httpx.get(f"{url}/readyz", timeout=30).json() for _ in range(4)]
        assert all(r["ready"] and r["llm"] for r in readiness)
        assert len(group_members(proc.pid)) >= 3  # supervisor (holding the model) + 2 workers
        assert "embedded model shared by 2 workers" in log_path.read_text()
        stop_and_check(proc, signal.SIGTERM, log_path)


def test_binding_beyond_loopback_without_a_key_warns(caplog: pytest.LogCaptureFixture) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with caplog.at_level(logging.WARNING, logger="citewise.server"):
        assert warn_if_exposed(Settings(api_key=None), "0.0.0.0")
        assert not warn_if_exposed(Settings(api_key="k"), "0.0.0.0")
        assert not warn_if_exposed(Settings(api_key=None), "127.0.0.1")
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "CITEWISE_API_KEY" in caplog.text
