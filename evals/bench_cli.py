"""`make bench BENCH=cli`: how long CLI commands take as a person runs them, beside `python -c pass`.

Each command runs REPEAT times as a fresh process over a news-corpus index (../shared/corpus/news) built first;
the median is printed with the ratio to `python -c pass` measured in the same run (the machine is shared: ratios
travel, absolute times depend on the load, printed too). "cold" = a new process that opens the index and, for
`ask`, starts the embedded model. The same commands then run through `CITEWISE_URL` against a `citewise serve`
started here (the server's model is warm), which is what repeated CLI use costs.

`chat` on a terminal (a pty): the prompt shows, a person takes TYPING_S seconds to type the first question (the
model and index warm up meanwhile), then the time from Enter to the first answer text on screen is measured.

Targets (issue 15, idle 2-core machine): docs list ≤ 0.5 s, --help ≤ 0.3 s, search ≤ 1.5 s cold, ask ≤ 5 s cold,
chat first token ≤ 2 s after the question is typed, any command through CITEWISE_URL ≤ 0.5 s plus the server's
own time.
"""

from __future__ import annotations

import os
import pty
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.bench_load import wait_ready
from service.llm import free_port

REPO = Path(__file__).resolve().parents[1]
NEWS = REPO.parent / "shared" / "corpus" / "news"
CITEWISE = str(Path(sys.executable).parent / "citewise")
REPEAT = int(os.environ.get("CLI_REPEAT", "3"))
QUESTION = "Which treaty bans antipersonnel mines?"
TYPING_S = 5.0  # how long the first question takes to type
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEWISE_", "OPENAI_"))}
    return {**env, "CITEWISE_HOME": str(home), "CITEWISE_LLM_THREADS": "1", **extra}


def _median_s(argv: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[1:])} failed: {done.stderr.strip()[-300:]}")
    return statistics.median(times)


def _read_pty(fd: int, seen: str, pattern: str, timeout: float = 300) -> str:
    """The terminal's text (ANSI codes stripped) once `pattern` appears in what came after `seen`."""
    deadline = time.monotonic() + timeout
    text = seen
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.01)[0]:
            try:
                text += ANSI.sub("", os.read(fd, 65536).decode("utf-8", "replace"))
            except OSError:
                break
        if re.search(pattern, text[len(seen):]):
            return text
    raise RuntimeError(f"chat: no {pattern!r} on the terminal: {text[-500:]!r}")


def _chat_first_token_s(env: dict[str, str]) -> float:
    """Seconds from Enter to the first answer text `citewise chat` shows (draft or verified), on a pty."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(CITEWISE, [CITEWISE, "chat"], env)
    try:
        seen = _read_pty(fd, "", r"> $")
        time.sleep(TYPING_S)
        os.write(fd, QUESTION.encode() + b"\r")
        seen = _read_pty(fd, seen, re.escape(QUESTION) + r"\s*\r?\n")
        typed = time.perf_counter()
        _read_pty(fd, seen, r"\w")  # the first character of an answer (the draft streams, labelled)
        return time.perf_counter() - typed
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="citewise-bench-cli-") as tmp:
        home = Path(tmp) / "home"
        env = _env(home)
        subprocess.run([CITEWISE, "ingest", "--quiet", str(NEWS)], env=env, check=True, capture_output=True, timeout=600)
        baseline = _median_s([sys.executable, "-c", "pass"], env)
        commands = {
            "--help": [CITEWISE, "--help"],
            "docs list": [CITEWISE, "docs", "list"],
            "search (cold)": [CITEWISE, "search", "Ottawa Treaty"],
            "ask (cold)": [CITEWISE, "ask", QUESTION],
        }
        rows = [("python -c pass", baseline)]
        rows += [(name, _median_s(argv, env)) for name, argv in commands.items()]
        chats = [_chat_first_token_s(env) for _ in range(REPEAT)]
        rows.append((f"chat: first token, {TYPING_S:.0f} s after the prompt", statistics.median(chats)))

        port = free_port()
        log_path = Path(tmp) / "serve.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen([CITEWISE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, server, log_path)
            remote = _env(home, CITEWISE_URL=url)
            for name in ("docs list", "search (cold)", "ask (cold)"):
                rows.append((f"{name.replace(' (cold)', '')} via CITEWISE_URL", _median_s(commands[name], remote)))
            served = _median_s([sys.executable, "-c", _SERVER_ASK.format(url=url, question=QUESTION)], env)
            rows.append(("(the server's own ask, from python -c)", served))
        finally:
            server.terminate()
            server.wait(timeout=60)
    load = os.getloadavg()[0]
    print(f"CLI commands, median of {REPEAT} fresh processes (load average {load:.1f} on {os.cpu_count()} cores)")
    print(f"{'command':42s} {'seconds':>8s} {'× python -c pass':>17s}")
    for name, seconds in rows:
        print(f"{name:42s} {seconds:8.2f} {seconds / baseline:17.1f}")


_SERVER_ASK = (
    "import httpx; r = httpx.post('{url}/v1/ask', json={{'question': '{question}'}}, timeout=600); r.raise_for_status()"
)


if __name__ == "__main__":
    main()
