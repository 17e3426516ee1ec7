"""`citewise chat` as a user runs it: piped (one question per line, as `echo q | make run` does) and on a real
terminal (a pty), with the real embedding model and the embedded LLM in the subprocess."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from service.config import Settings

NEWS_A = "000_1ca178c960a0782e.txt"

pytestmark = pytest.mark.slow  # the real embedded model, end to end

CITEWISE = Path(sys.executable).parent / "citewise"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEWISE_", "OPENAI_"))}
    return {**env, "CITEWISE_HOME": str(settings.home), "CITEWISE_LLM_THREADS": "1"}


def test_piped_chat_answers_each_line_and_follows_up(news_settings: Settings) -> None:
    questions = "How many landmine victims were confirmed?\n/sources\nand how many were injured?\n"
    done = subprocess.run(
        [str(CITEWISE), "chat"], input=questions, capture_output=True, text=True, env=_env(news_settings), timeout=600
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    first, _, rest = out.partition("> and how many were injured?")
    assert "> How many landmine victims were confirmed?" in first and "5,757" in first
    assert "Sources" in first and NEWS_A in first
    assert re.search(r"\[1\] 000_1ca178c960a0782e\.txt:\d+-\d+ \(score", first), "/sources lists the evidence"
    assert "3,663" in rest and NEWS_A in rest, "the follow-up was answered from the conversation's topic"
    # piped output is not wrapped at 80 columns: each quoted source stays on its own line
    assert re.search(r"^\s+\[1\] 000_1ca178c960a0782e\.txt:\d+(-\d+)?\s+“[^\n]{60,}”$", first, re.M), first


def test_piped_chat_commands_are_not_questions(news_settings: Settings) -> None:
    """An unknown /command is reported (not searched for); /exit ends the chat before the next line."""
    lines = "/sorces\n/exit\nHow many landmine victims were confirmed?\n"
    done = subprocess.run(
        [str(CITEWISE), "chat"], input=lines, capture_output=True, text=True, env=_env(news_settings), timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "unknown command /sorces (see /help)"


def _read_terminal(fd: int, done: Callable[[str], bool], what: str, timeout: float) -> str:
    """Read the terminal (ANSI codes stripped) until `done(text so far)`; always draining it, since a child's
    writes — and its exit, which closes the tty — wait until the output is read."""
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                seen += ANSI.sub("", os.read(fd, 65536).decode("utf-8", "replace"))
            except OSError:  # the child closed the terminal
                pass
        if done(seen):
            return seen
    raise AssertionError(f"{what}; the terminal showed:\n{seen[-2000:]}")


def _read_until(fd: int, pattern: str, timeout: float = 300) -> str:
    return _read_terminal(fd, lambda seen: re.search(pattern, seen) is not None, f"no {pattern!r}", timeout)


def _exit_code(fd: int, pid: int, timeout: float = 60) -> int:
    status: list[int] = []

    def exited(_: str) -> bool:
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status.append(os.waitstatus_to_exitcode(code))
        return bool(status)

    _read_terminal(fd, exited, "citewise chat did not exit after Ctrl-D", timeout)
    return status[0]


@contextmanager
def _chat_on_pty(env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """`citewise chat` on a fresh pty: (pid, fd of the terminal); killed and closed afterwards."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: citewise chat on the pty
        os.execve(str(CITEWISE), [str(CITEWISE), "chat"], env)
    try:
        yield pid, fd
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


def test_terminal_chat_streams_and_handles_commands(news_settings: Settings) -> None:
    # each command is typed once the prompt is back, as a person would (and readline is listening)
    with _chat_on_pty(_env(news_settings)) as (pid, fd):
        _read_until(fd, r"/help for commands[\s\S]*> $")
        os.write(fd, b"/help\r")
        assert "/reset" in _read_until(fd, r"/exit\s+quit \(or Ctrl-D\)[\s\S]*> $")
        os.write(fd, b"Which treaty bans antipersonnel mines?\r")
        answered = _read_until(fd, r"Sources[\s\S]*\n> $")
        assert "Ottawa" in answered.split("antipersonnel mines?")[1]
        os.write(fd, b"/reset\r")
        _read_until(fd, r"Conversation cleared[\s\S]*> $")
        os.write(fd, b"/sources\r")
        _read_until(fd, r"No evidence yet[\s\S]*> $")
        os.write(fd, b"\x04")  # Ctrl-D
        assert _exit_code(fd, pid) == 0


@pytest.fixture(scope="module")
def examples_settings(tmp_path_factory: pytest.TempPathFactory, examples_dir: Path) -> Settings:
    """An index of the three text examples (the Calder Falls utility's documents)."""
    from index.corpus import Corpus

    settings = Settings(home=tmp_path_factory.mktemp("examples-index") / "citewise-home")
    corpus = Corpus.open(settings)
    try:
        corpus.ingest([examples_dir / n for n in ("project-overview.md", "board-minutes-2025-01-14.txt", "customer-faq.html")])
    finally:
        corpus.close()
    return settings


def test_terminal_chat_replaces_the_draft_with_the_verified_answer(examples_settings: Settings) -> None:
    """The embedded model drafts "The mayor of Calder Falls is Margaret Osei" (she chairs the board): it may show
    while streaming, dimmed and labelled "draft", but the screen a person reads afterwards holds only the
    verified answer. A terminal emulator (pyte) replays every byte the chat wrote, cursor moves included."""
    import pyte

    screen = pyte.Screen(100, 40)
    terminal = pyte.ByteStream(screen)
    raw = b""
    with _chat_on_pty({**_env(examples_settings), "COLUMNS": "100", "LINES": "40"}) as (_, fd):
        def shown(pattern: str, timeout: float = 300) -> str:
            nonlocal raw
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if select.select([fd], [], [], 0.2)[0]:
                    try:
                        data = os.read(fd, 65536)
                    except OSError:
                        data = b""
                    raw += data
                    terminal.feed(data)
                text = "\n".join(line.rstrip() for line in screen.display).rstrip()  # the screen, unpadded
                if re.search(pattern, text):
                    return text
            raise AssertionError(f"no {pattern!r} on screen:\n" + "\n".join(screen.display))

        shown(r"/help for commands[\s\S]*\n>$")
        os.write(fd, b"Who is the mayor of Calder Falls?\r")
        final = shown(r"Sources[\s\S]*\n>$")
        streamed = ANSI.sub("", raw.decode("utf-8", "replace"))
        assert "draft: " in streamed, "the draft streams, labelled"
        last_draft = re.split(r"[\r\n]", streamed.rsplit("draft: ", 1)[1])[0].strip()
        assert "mayor of Calder Falls is" in last_draft, last_draft  # the model's unsupported claim
        answer = final.split("mayor of Calder Falls?")[1]
        assert "mayor of Calder Falls is" not in answer and "draft:" not in answer, final
        assert "Calder Falls" in answer, "the verified answer is shown"
