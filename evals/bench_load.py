"""HTTP load benchmark on loopback: `citewise serve` over the news corpus, then bursts of concurrent requests.

200 `POST /v1/search` at concurrency 20, then 40 `POST /v1/ask` at concurrency 8 (the embedded model answers one
at a time; the rest wait in the bounded generation queue). Prints per phase: throughput, latency p50/p95/p99,
status counts, connection errors, and the server's RSS at the middle and the end of the phase.
Acceptance: no 5xx except deliberate 503 backpressure, no connection errors, RSS growth < 10% between the two
halves of each phase. Exits non-zero (raises) when a criterion fails.

    python -m evals.bench_load [--searches 200] [--search-concurrency 20] [--asks 40] [--ask-concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from evals.scorers import percentile
from service.llm import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
NEWS_DIR = REPO_ROOT.parent / "shared" / "corpus" / "news"
NEWS_SUITE = REPO_ROOT / "evals" / "suites" / "news.yaml"
CITEWISE = Path(sys.executable).parent / "citewise"
MAX_RSS_GROWTH = 0.10
STARTUP_TIMEOUT_S = 300.0
REQUEST_TIMEOUT_S = 600.0


@dataclass
class Phase:
    name: str
    requests: int
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    connection_errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    rss_mb: list[float] = field(default_factory=list)  # at the middle and at the end of the phase

    def percentile(self, q: float) -> float:
        value = percentile(self.latencies_ms, q)
        return float("nan") if value is None else value

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 and status != 503)

    @property
    def rss_growth(self) -> float:
        return (self.rss_mb[1] - self.rss_mb[0]) / self.rss_mb[0] if len(self.rss_mb) == 2 else float("nan")

    def report(self) -> str:
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        return (
            f"{self.name}: {self.requests} requests at concurrency {self.concurrency} in {self.wall_s:.1f} s "
            f"→ {self.requests / self.wall_s:.2f} req/s; latency ms p50 {self.percentile(50):.0f}, "
            f"p95 {self.percentile(95):.0f}, p99 {self.percentile(99):.0f}; statuses {{{statuses}}}; "
            f"connection errors {len(self.connection_errors)}; server RSS MB mid {self.rss_mb[0]:.0f} → "
            f"end {self.rss_mb[1]:.0f} ({self.rss_growth:+.1%})"
        )


def rss_mb(pid: int) -> float:
    """Resident memory of the server process (it runs the embedded model in-process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def questions() -> list[str]:
    """The news suite's questions: realistic, varied requests over the news corpus."""
    suite = yaml.safe_load(NEWS_SUITE.read_text(encoding="utf-8"))
    return [q["question"] for q in suite["questions"]]


async def run_phase(client: httpx.AsyncClient, phase: Phase, path: str, bodies: list[dict], pid: int) -> None:
    gate = asyncio.Semaphore(phase.concurrency)
    finished = 0

    async def one(body: dict) -> None:
        nonlocal finished
        async with gate:
            started = time.perf_counter()
            try:
                response = await client.post(path, json=body)
                phase.statuses[response.status_code] += 1
            except httpx.HTTPError as exc:
                phase.connection_errors.append(f"{type(exc).__name__}: {exc}")
            phase.latencies_ms.append((time.perf_counter() - started) * 1000)
            finished += 1
            if finished == phase.requests // 2:
                phase.rss_mb.append(rss_mb(pid))

    started = time.perf_counter()
    await asyncio.gather(*(one(body) for body in bodies))
    phase.wall_s = time.perf_counter() - started
    phase.rss_mb.append(rss_mb(pid))


async def load(url: str, pid: int, args: argparse.Namespace) -> list[Phase]:
    texts = questions()
    limits = httpx.Limits(max_connections=max(args.search_concurrency, args.ask_concurrency) + 2)
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        # Warm-up, not measured: one concurrent round of each, so the embedder's and the model's buffers reach
        # their working size first (measured: RSS then stays flat; without it the first asks add ~10%).
        warm = [client.post("/v1/search", json={"query": t}) for t in texts[: args.search_concurrency]]
        warm += [client.post("/v1/ask", json={"question": t}) for t in texts[-args.ask_concurrency :]]
        for response in await asyncio.gather(*warm):
            response.raise_for_status()
        search = Phase("search", args.searches, args.search_concurrency)
        bodies = [{"query": texts[i % len(texts)], "k": 8} for i in range(args.searches)]
        await run_phase(client, search, "/v1/search", bodies, pid)
        print(search.report(), flush=True)
        ask = Phase("ask", args.asks, args.ask_concurrency)
        bodies = [{"question": texts[i % len(texts)]} for i in range(args.asks)]
        await run_phase(client, ask, "/v1/ask", bodies, pid)
        print(ask.report(), flush=True)
    return [search, ask]


def start_server(home: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEWISE_")}
    env.update(CITEWISE_HOME=str(home), CITEWISE_LLM_THREADS="1")
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [str(CITEWISE), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait_ready(url: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"citewise serve did not become ready:\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=30).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)


def acceptance(phases: list[Phase]) -> list[str]:
    problems = []
    for phase in phases:
        if phase.server_errors:
            problems.append(f"{phase.name}: {phase.server_errors} 5xx responses other than 503")
        if phase.connection_errors:
            problems.append(f"{phase.name}: {len(phase.connection_errors)} connection errors, e.g. {phase.connection_errors[0]}")
        if not phase.rss_growth < MAX_RSS_GROWTH:
            problems.append(f"{phase.name}: server RSS grew {phase.rss_growth:+.1%} between the halves (limit {MAX_RSS_GROWTH:.0%})")
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_load", description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--search-concurrency", type=int, default=20)
    parser.add_argument("--asks", type=int, default=40)
    parser.add_argument("--ask-concurrency", type=int, default=8)
    args = parser.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory(prefix="citewise-load-") as tmp:
        home, log_path = Path(tmp) / "home", Path(tmp) / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CITEWISE_")} | {"CITEWISE_HOME": str(home)}
        subprocess.run([str(CITEWISE), "ingest", str(NEWS_DIR)], env=env, check=True, capture_output=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(home, port, log_path)
        try:
            wait_ready(url, server, log_path)
            print(f"citewise serve (pid {server.pid}) on {url}, news corpus; RSS {rss_mb(server.pid):.0f} MB at start", flush=True)
            phases = asyncio.run(load(url, server.pid, args))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    problems = acceptance(phases)
    for problem in problems:
        print(f"FAIL {problem}", flush=True)
    if problems:
        raise RuntimeError(f"load acceptance failed ({len(problems)} problems)")
    print("PASS: no 5xx other than 503 backpressure, no connection errors, RSS growth < 10% in each phase", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
