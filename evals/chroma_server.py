"""A `chroma run` server for benchmarks (the installed chromadb's own server, on 127.0.0.1, persisting under a
folder): started, waited for, and stopped again. The tests have their own launcher; evals do not import tests."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from service.llm import free_port

CHROMA = Path(sys.executable).parent / "chroma"


@contextmanager
def chroma_server(data: Path, timeout: float = 60.0) -> Iterator[str]:
    """The server's URL while the block runs; its log goes to `data`/chroma.log."""
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (data / "chroma.log").open("ab") as log:
        argv = [str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited early (see {data / 'chroma.log'})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"chroma run not ready after {timeout:.0f} s (see {data / 'chroma.log'})")
            try:
                if httpx.get(url + "/api/v2/heartbeat", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
