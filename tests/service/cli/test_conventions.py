"""Command-line conventions: usage errors exit 2 with one readable line, --version, options shown by metavar.

These runs stop before any engine starts (typer rejects the arguments first), so they need no index or model.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


def citewise(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask"], "error: Missing argument 'QUESTION'."),
        (["--nope"], "error: No such option: --nope"),
        (["ask", "-k", "two", "x"], "error: Invalid value for '-k': "),
        (["ask", "-k", "0", "x"], "error: Invalid value for '-k': "),
        (["search"], "error: give either QUERY or --queries FILE"),
        (["serve", "--port", "0"], "error: Invalid value for '--port': "),
        (["ask", "--model", "gpt-9", "x"], "error: Invalid value for '--model': 'gpt-9' is not a registered model"),
    ],
)
def test_usage_errors_exit_2_with_one_line_naming_the_option(args: list[str], message: str) -> None:
    done = citewise(*args)
    assert done.returncode == 2, (args, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), (args, done.stderr)
    assert lines[0].endswith(" --help')"), "a usage error points at the command's help"
    # no exception class names ("MissingParameter:", "NoSuchOption:") and no traceback
    assert not re.search(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)+:", lines[0]) and "Traceback" not in done.stderr


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    done = citewise("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"citewise {version('citewise')}", done


def test_bare_command_prints_help_not_an_error() -> None:
    done = citewise()
    assert done.returncode == 2 and done.stderr.startswith("Usage: ") and "error:" not in done.stderr


@pytest.mark.parametrize("command", ["ingest", "search", "ask", "summarize", "eval", "docs rm", "serve"])
def test_help_shows_metavars_not_python_types(command: str) -> None:
    """Options read `-k N`, `--report FILE`, flags bare. (typer 0.29 still prints an argument's type, e.g.
    `PATH... <list[Path]>`, after the metavar; options are what was unreadable.)"""
    done = citewise(*command.split(), "--help")
    assert done.returncode == 0, done.stderr
    options = done.stdout.split("Options:", 1)[1]
    assert not re.search(r"<\w+(?:\[\w+\])?>", options), done.stdout
    assert "--k" not in done.stdout  # -k is spelt one way


def test_docs_list_reads_only_the_manifest(tmp_path: Path) -> None:
    """A listing is one manifest read: no Chroma client is opened (its folder is never created) and no model is
    loaded, so it costs a process start, not an index start."""
    env = {**os.environ, "CITEWISE_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-m", "service.cli", "docs", "list"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "No documents ingested yet. Try: citewise ingest PATH"
    assert not (tmp_path / "home" / "chroma").exists()
