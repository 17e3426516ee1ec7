"""Real processes for the distributed and hardening tests: `citewise serve`, `citewise llm-server`, `chroma run`
and CLI runs, all on 127.0.0.1, each in its own process group so a test can kill -9 it (and everything it
started) by group id and nothing outlives the test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from service.llm import free_port

BIN = Path(sys.executable).parent
CITEWISE = BIN / "citewise"
CHROMA = BIN / "chroma"
REPO_ROOT = Path(__file__).resolve().parents[2]
NEWS_DIR = REPO_ROOT.parent / "shared" / "corpus" / "news"
NEWS_A = "000_1ca178c960a0782e.txt"
NEWS_B = "001_846b2a5c2ae0efae.txt"
STARTUP_TIMEOUT_S = 240.0
PAUSE_TIMEOUT_S = 240.0


def clean_env(**overrides: str) -> dict[str, str]:
    """This environment without any CITEWISE_*/OPENAI_* variable, plus `overrides` (CITEWISE_<NAME>=value)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEWISE_", "OPENAI_"))}
    env.update({f"CITEWISE_{k.upper()}": v for k, v in overrides.items()})
    return env


def cli(*args: str, env: dict[str, str], timeout: float = 300.0, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run `citewise ARGS` to completion (text output)."""
    return subprocess.run(
        [str(CITEWISE), *args], env=env, capture_output=True, text=True, timeout=timeout,
        input=None if stdin is None else stdin.decode(),
    )  # fmt: skip


@dataclass
class Process:
    """A started process group with its combined output in `log_path`."""

    proc: subprocess.Popen
    log_path: Path
    url: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL the whole group (the server and anything it started)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit within 20 s."""
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        self.kill9()


def start(argv: list[str], env: dict[str, str], log_path: Path, url: str) -> Process:
    with log_path.open("ab") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return Process(proc, log_path, url)


def wait_until(process: Process, probe_path: str, ok: tuple[int, ...] = (200,), timeout: float = STARTUP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.alive(), f"{process.proc.args[:2]} exited early:\n{process.log()[-3000:]}"
        assert time.monotonic() < deadline, f"{process.proc.args[:2]} not ready:\n{process.log()[-3000:]}"
        try:
            if httpx.get(process.url + probe_path, timeout=10).status_code in ok:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)


@contextmanager
def running(process: Process) -> Iterator[Process]:
    try:
        yield process
    finally:
        process.stop()


def start_serve(home: Path, log_dir: Path, port: int | None = None, ready: bool = True, **settings: str) -> Process:
    """`citewise serve` on 127.0.0.1 with CITEWISE_HOME=home and the given CITEWISE_* settings."""
    port = port or free_port()
    env = clean_env(home=str(home), llm_threads="1", **settings)
    process = start(
        [str(CITEWISE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env, log_dir / f"serve-{port}.log", f"http://127.0.0.1:{port}",
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {settings['api_key']}"} if "api_key" in settings else {}
    try:
        wait_until(process, "/healthz")
        if ready:  # /readyz: index open and model reachable (it is behind the key only under /v1, so open)
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while httpx.get(process.url + "/readyz", headers=headers, timeout=60).status_code != 200:
                assert process.alive() and time.monotonic() < deadline, f"serve not ready:\n{process.log()[-3000:]}"
                time.sleep(0.5)
    except BaseException:
        process.stop()
        raise
    return process


def start_llm_server(log_dir: Path, port: int | None = None, model: str | None = None) -> Process:
    """`citewise llm-server [--model NAME]`: an embedded model as a separate OpenAI-compatible server (one thread)."""
    port = port or free_port()
    env = clean_env(llm_threads="1")
    process = start(
        [str(CITEWISE), "llm-server", "--host", "127.0.0.1", "--port", str(port), *(["--model", model] if model else [])],
        env, log_dir / f"llm-{port}-{time.monotonic_ns()}.log", f"http://127.0.0.1:{port}",
    )  # fmt: skip
    try:
        wait_until(process, "/v1/models")
    except BaseException:
        process.stop()
        raise
    return process


def start_chroma(data: Path, log_dir: Path) -> Process:
    """`chroma run` (the installed chromadb's server) on 127.0.0.1, persisting under `data`."""
    port = free_port()
    process = start(
        [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        clean_env(), log_dir / f"chroma-{port}.log", f"http://127.0.0.1:{port}",
    )  # fmt: skip
    try:
        wait_until(process, "/api/v2/heartbeat", timeout=60)
    except BaseException:
        process.stop()
        raise
    return process


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def settles_idle(proc: subprocess.Popen, window_s: float = 3.0, timeout: float = 180.0) -> bool:
    """True once the live process used under 5% of a core over `window_s`: it has started up and is now waiting
    (polling the lock costs a few ticks; importing, reading or embedding would cost far more)."""
    deadline = time.monotonic() + timeout
    samples: list[tuple[float, int]] = []
    while time.monotonic() < deadline and proc.poll() is None:
        now = time.monotonic()
        samples.append((now, _cpu_ticks(proc.pid)))
        old = [(t, ticks) for t, ticks in samples if now - t >= window_s]
        if old and (samples[-1][1] - old[-1][1]) / (100 * (now - old[-1][0])) < 0.05:
            return True
        time.sleep(0.25)
    return False


def start_paused(
    step: str, env: dict[str, str], *paths: Path | str, command: tuple[str, ...] = ("ingest",)
) -> subprocess.Popen:
    """`citewise ingest PATHS` (or another write `command`, e.g. ("docs", "rm")) with settings from `env`, paused
    at the named step, holding the write lock; the caller kills it. Waits until it is there (readline blocks,
    bounded by the command's own progress)."""
    proc = subprocess.Popen(
        [str(CITEWISE), *command, *map(str, paths)], env={**env, "CITEWISE_DEBUG_PAUSE_AT": step},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + PAUSE_TIMEOUT_S
        seen = b""
        while f"paused at {step}".encode() not in seen:
            assert proc.poll() is None, f"ingest exited before pausing at {step}: {seen.decode(errors='replace')}"
            assert time.monotonic() < deadline, f"ingest never reached {step}"
            seen += proc.stderr.readline()  # type: ignore[union-attr]
    except BaseException:
        proc.kill()
        proc.wait(timeout=30)
        raise
    return proc


def kill_at(step: str, home: Path, *paths: Path | str, command: tuple[str, ...] = ("ingest",)) -> None:
    """`citewise ingest PATHS` (or `command`) on `home`, killed with SIGKILL (no cleanup of any kind) while paused
    at `step`."""
    proc = start_paused(step, clean_env(home=str(home)), *paths, command=command)
    proc.kill()
    proc.wait(timeout=30)


def build_news_home(home: Path) -> Path:
    """A CITEWISE_HOME holding the news corpus, built with the real CLI."""
    done = cli("ingest", str(NEWS_DIR), env=clean_env(home=str(home)))
    assert done.returncode == 0, done.stderr
    return home


def copy_home(template: Path, target: Path) -> Path:
    """A private copy of a built index (cheaper than ingesting again; nothing may have it open for writing)."""
    shutil.copytree(template, target, ignore=shutil.ignore_patterns("write.lock"))
    return target


def api(process: Process, key: str | None = None, timeout: float = 180.0) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=process.url, headers=headers, timeout=timeout)
