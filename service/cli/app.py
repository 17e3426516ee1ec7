"""`citewise` command line: a thin shell over `Engine`. Usage errors → one readable line on stderr, exit 2;
failures → one line, exit 1."""

from __future__ import annotations

import json
import signal
import sys
import threading
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from service.cli.models import ModelOption, use_model
from service.cli.models import register as register_models
from service.cli.progress import ProgressBar
from service.errors import CitewiseError, UsageProblem

# What needs pydantic (settings, schemas, rendering) or more loads inside the commands that use it:
# `citewise --help` pays for typer and rich only.
if TYPE_CHECKING:
    from service.cli.remote import RemoteEngine
    from service.config import Settings
    from service.engine import Engine
    from service.schemas import IngestReport

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, help="Cited answers and summaries over your documents.")
docs_app = typer.Typer(no_args_is_help=True, help="List or remove ingested documents.")
app.add_typer(docs_app, name="docs")

out = Console(soft_wrap=not sys.stdout.isatty())  # piped output: one line per line, not wrapped at 80 columns
err = Console(stderr=True, soft_wrap=True)  # one-line errors stay one line when piped

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"citewise {version('citewise')}", markup=False, highlight=False)
        raise typer.Exit()


_server: list[str] = []  # --server URL, given before the command


@app.callback()
def _root(
    _version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    server: Annotated[
        Optional[str],
        typer.Option("--server", metavar="URL", help="Talk to a running `citewise serve` (as CITEWISE_URL)."),
    ] = None,
) -> None:
    """Cited answers and summaries over your documents."""
    if server:
        _server[:] = [server]


def get_settings() -> Settings:
    from service.config import get_settings as read_settings

    return read_settings()


def _engine() -> Engine | RemoteEngine:
    """The engine in this process, or a running server's (`--server` / CITEWISE_URL) behind the same methods."""
    settings = get_settings()
    url = _server[0] if _server else settings.url
    if url:
        from service.cli.remote import RemoteEngine

        return RemoteEngine(url, settings.api_key.get_secret_value() if settings.api_key else None)
    from service.engine import Engine

    return Engine(settings)


def _dump(model_or_list: object) -> None:
    """Print JSON to stdout (plain print: no rich markup or wrapping)."""
    if isinstance(model_or_list, list):
        print(json.dumps([m.model_dump(mode="json") for m in model_or_list], ensure_ascii=False))
    else:
        print(model_or_list.model_dump_json(exclude_none=False))  # type: ignore[attr-defined]


def _print_report(
    report: IngestReport, as_json: bool, counts: bool = True, told: set[str] | None = None, quiet: bool = False
) -> None:
    """What changed on stdout (not when `quiet`), what was not indexed (and why) on stderr, then the counts.
    `told`: lines already printed by an earlier batch of a watch, not repeated."""
    if as_json:
        _dump(report)
        return
    for f in report.files:
        if f.outcome in ("added", "updated", "removed"):
            if quiet:
                continue
            out.print(f"{f.outcome}: {f.source}", markup=False, highlight=False, soft_wrap=True)
        elif f.outcome in ("skipped", "failed"):
            line = f"{f.outcome}: {f.source}: {f.reason}"
            if told is None or line not in told:
                err.print(line, markup=False, highlight=False)
            if told is not None:
                told.add(line)
    if counts:
        out.print(report.summary_line(), markup=False, highlight=False)
    sys.stdout.flush()  # a watch reports batch by batch, also into a pipe


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="Files or folders to ingest.")],
    prune: Annotated[bool, typer.Option("--prune", help="Remove documents whose files are gone.")] = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="Then keep the index in sync with the folders until Ctrl-C (implies --prune).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the counts (and what failed).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Ingest files and folders (idempotent: unchanged files are not re-embedded)."""
    from service.watching import watch_folders, watched_folders

    folders = watched_folders(paths) if watch else []
    with _engine() as engine:
        with ProgressBar(err.is_terminal and not as_json) as bar:
            report = engine.ingest(paths, prune=prune or watch, progress=bar)
        told: set[str] = set()
        _print_report(report, as_json, told=told, quiet=quiet)
        if not watch:
            if report.failed_paths:
                raise typer.Exit(1)
            return
        watching = f"watching {', '.join(map(str, folders))} (Ctrl-C to stop)"
        stop = threading.Event()  # Ctrl-C / SIGTERM end the watch after the batch in progress (no interrupt mid-write)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        watch_folders(
            folders,
            ingest=engine.ingest,
            # each batch: what changed (JSON: the whole report, one line)
            on_report=lambda changed: _print_report(changed, as_json, counts=quiet, told=told, quiet=quiet),
            on_error=lambda e: err.print(f"error: {e}", markup=False, highlight=False),
            on_ready=lambda: err.print(watching, markup=False, highlight=False),
            ignore=[get_settings().home],
            stop=stop,
        )
        err.print("stopped watching", markup=False, highlight=False)


@docs_app.command("list")
def docs_list(as_json: JsonFlag = False) -> None:
    """List ingested documents."""
    with _engine() as engine:
        docs = engine.list_documents()
    if as_json:
        _dump(docs)
        return
    if not docs:
        out.print("No documents ingested yet. Try: citewise ingest PATH")
        return
    from rich.table import Table

    table = Table("source", "chunks", "sha256", "ingested_at", box=None, pad_edge=False)
    for d in docs:
        table.add_row(d.source, str(d.chunks), d.sha256[:12], f"{d.ingested_at:%Y-%m-%d %H:%M:%S}")
    out.print(table, soft_wrap=True)


@docs_app.command("rm")
def docs_rm(sources: Annotated[list[str], typer.Argument(metavar="SOURCE...", help="Document sources as shown by `docs list`.")]) -> None:
    """Remove documents and all their chunks."""
    with _engine() as engine:
        removed = engine.remove_documents(sources)
    out.print(f"removed {len(removed)} document(s): {', '.join(removed)}", markup=False, highlight=False)


@app.command()
def search(
    query: Annotated[Optional[str], typer.Argument(metavar="QUERY", help="The search query.")] = None,
    k: Annotated[Optional[int], typer.Option("-k", min=1, metavar="N", help="How many chunks to return.")] = None,
    queries: Annotated[Optional[Path], typer.Option("--queries", metavar="FILE", help="File: one query per line, or JSONL with id and text.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Retrieval only: ranked chunks with source, lines and score."""
    if (query is None) == (queries is None):
        raise UsageProblem("give either QUERY or --queries FILE")
    from service.cli.render import print_search

    with _engine() as engine:
        if queries is not None:
            from service.pipeline.retrieval import read_queries

            for qid, text in read_queries(queries):
                result = engine.search(text, k)
                result.id = qid
                if as_json:
                    _dump(result)
                else:
                    print_search(out, result)
            return
        result = engine.search(query or "", k)
    _dump(result) if as_json else print_search(out, result)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="Your question.")],
    k: Annotated[Optional[int], typer.Option("-k", min=1, metavar="N", help="How many chunks to retrieve.")] = None,
    as_json: JsonFlag = False,
    model: ModelOption = None,
) -> None:
    """One grounded answer with verified citations."""
    from service.cli.render import print_answer

    use_model(model)
    with _engine() as engine:
        answer = engine.ask(question, k=k)
    _dump(answer) if as_json else print_answer(out, answer)


@app.command()
def chat(model: ModelOption = None) -> None:
    """Interactive multi-turn chat (streams tokens). Without a terminal: one question per stdin line."""
    from service.cli.chat import run_chat

    use_model(model)
    with _engine() as engine:
        run_chat(engine, out, interactive=sys.stdin.isatty())


@app.command()
def summarize(
    source: Annotated[Optional[str], typer.Argument(metavar="SOURCE", help="A document source; omit for the whole corpus.")] = None,
    focus: Annotated[Optional[str], typer.Option("--focus", metavar="TOPIC", help="Only what the documents say about this topic.")] = None,
    length: Annotated[str, typer.Option("--length", metavar="short|medium|long", help="How long a summary.")] = "medium",
    extractive: Annotated[
        bool, typer.Option("--extractive", help="Quote the documents' own sentences; no model (so none can fail).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Summarize one document or the whole corpus, with citations (a failing model is an error, unless --extractive)."""
    from service.cli.render import print_summary

    with _engine() as engine, ProgressBar(err.is_terminal and not as_json) as bar:
        summary = engine.summarize(source=source, focus=focus, length=length, progress=bar, extractive=extractive)
    _dump(summary) if as_json else print_summary(out, summary)


@app.command()
def serve(
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, metavar="PORT", help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, metavar="N", help="Worker processes.")] = 1,
    watch: Annotated[
        Optional[list[Path]], typer.Option("--watch", metavar="FOLDER", help="Keep the index in sync with FOLDER (repeatable).")
    ] = None,
    model: ModelOption = None,
) -> None:
    """Run the HTTP API."""
    from service.http.server import run_server

    use_model(model)
    run_server(get_settings(), host=host, port=port, workers=workers, watch=watch or [])


@app.command()
def mcp() -> None:
    """Serve the MCP tools (ask, search, summarize, list_documents) and documents over stdio, for agents."""
    from service.http.mcp import run_stdio

    run_stdio(get_settings())


@app.command("llm-server")
def llm_server(
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, metavar="PORT", help="Port.")] = 8081,
    model: ModelOption = None,
) -> None:
    """Serve the embedded model as a standalone OpenAI-compatible server (for replicas sharing one model)."""
    from service.llm import serve_forever

    use_model(model)
    serve_forever(get_settings(), host=host, port=port)


def _register_plugin_commands() -> None:
    """Commands registered by other packages of the distribution (`citewise eval` from evals/) through the
    `citewise.commands` entry-point group, so that service/ never imports evals/ (evals sits above it)."""
    for entry_point in entry_points(group="citewise.commands"):
        entry_point.load()(app, _engine)


register_models(app)


_register_plugin_commands()


def main() -> None:
    try:
        code = app(standalone_mode=False)  # click returns (not raises) typer.Exit's code in this mode
        if isinstance(code, int) and code:
            sys.exit(code)
    except CitewiseError as e:
        command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
        hint = f" (see 'citewise {command} --help')" if isinstance(e, UsageProblem) and command else ""
        err.print(f"error: {e}{hint}", markup=False, highlight=False)
        sys.exit(e.exit_code)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.TyperException as e:  # usage errors (typer's bundled click): exit 2, one line
        if type(e).__name__ == "NoArgsIsHelpError":  # bare `citewise`: the help, not an "error:" (as typer checks it)
            e.show()  # type: ignore[attr-defined]
            sys.exit(e.exit_code)
        ctx = getattr(e, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        err.print(f"error: {e.format_message()}{hint}", markup=False, highlight=False)
        sys.exit(e.exit_code)
    except Exception as e:  # anything unexpected: still one line
        err.print(f"error: {type(e).__name__}: {e}", markup=False, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
