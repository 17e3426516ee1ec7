"""`citewise eval`: the CLI shell over the runner, the reports, the gate and the BEIR retrieval evaluation.

`service/cli/app.py` calls `register(app, engine_factory)` through the `citewise.commands` entry point. The suite's documents go into a temporary
index unless CITEWISE_HOME was given explicitly (then that index is reused; ingesting is idempotent).

`citewise eval --dataset realtimeqa|squad2|hotpotqa PATH [--split dev|test|all] [--limit N]` reads a public dev
set (evals/datasets.py), writes its documents as files into a temporary index (always a fresh one: the gold
sources must be the only documents), and asks the selected questions like a suite.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from service.cli.models import ModelOption, use_model
from service.cli.progress import ProgressBar
from service.errors import InvalidInput, UsageProblem

# The scoring modules load with the command, not with the CLI: `citewise --help` should not pay for them.
if TYPE_CHECKING:
    from evals.beir import BeirReport
    from evals.datasets import Dataset, DatasetCase
    from evals.runner import EvalResult
    from evals.suite import Suite
    from service.cli.remote import RemoteEngine
    from service.engine import Engine

err = Console(stderr=True)


def eval_engine(base: Engine, stack: ExitStack, purpose: str) -> Engine:
    """`base` when CITEWISE_HOME was set explicitly; otherwise an engine over a fresh temporary index."""
    from service.engine import Engine

    if "home" in base.settings.model_fields_set:
        return stack.enter_context(base)
    home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"citewise-eval-{purpose}-")))
    return stack.enter_context(Engine(base.settings.model_copy(update={"home": home})))


def local_engine(base: Engine | RemoteEngine, what: str) -> Engine:
    """`base` when it runs in this process; a usage error when the CLI talks to a server (CITEWISE_URL)."""
    from service.engine import Engine

    if not isinstance(base, Engine):
        raise UsageProblem(f"{what} builds its own index in this process: unset CITEWISE_URL / --server")
    return base


def check_served_suite(server: RemoteEngine, suite: Suite) -> None:
    """Through a server (CITEWISE_URL), a suite is asked of the documents the server already holds: every source
    the suite expects must be among them (nothing is uploaded into the user's index)."""
    held = {d.source for d in server.list_documents()}
    expected = {s for q in suite.questions for s in q.sources} | {c.source for c in suite.summaries if c.source}
    missing = sorted(expected - held)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise InvalidInput(
            f"the server at {server.url} does not hold the suite's documents ({shown}): "
            f"ingest {suite.docs_dir or suite.docs} there first, or run without CITEWISE_URL"
        )


def make_judge(engine: Engine) -> Callable:
    from evals.judge import judge_faithfulness

    return lambda question, answer: judge_faithfulness(engine.llm, question, answer)


def register(app: typer.Typer, engine_factory: Callable[[], Engine | RemoteEngine]) -> None:
    """Add `citewise eval` to the CLI."""

    @app.command("eval")
    def eval_command(
        suite: Annotated[Optional[Path], typer.Argument(metavar="SUITE", help="A suite YAML file (see evals/suites/).")] = None,
        docs: Annotated[Optional[Path], typer.Option("--docs", metavar="DIR", help="Documents folder (overrides the suite's docs:).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
        report: Annotated[Optional[Path], typer.Option("--report", metavar="FILE", help="Write a report: FILE.md or FILE.html.")] = None,
        baseline: Annotated[Optional[Path], typer.Option("--baseline", metavar="FILE", help="A previous --json result to compare with.")] = None,
        k: Annotated[Optional[int], typer.Option("-k", min=1, metavar="N", help="Chunks retrieved per question (and for hit@k).")] = None,
        beir: Annotated[Optional[Path], typer.Option("--beir", metavar="DIR", help="A BEIR folder: score dense, BM25 and hybrid retrieval.")] = None,
        judge: Annotated[bool, typer.Option("--judge", help="Add LLM-judged faithfulness (external LLM only).")] = False,
        tolerance: Annotated[float, typer.Option("--tolerance", metavar="X", help="Allowed drop vs --baseline before failing.")] = 0.05,
        rescore_file: Annotated[Optional[Path], typer.Option("--rescore", metavar="FILE", help="Re-score a saved --json result instead of running.")] = None,
        dataset: Annotated[Optional[str], typer.Option("--dataset", metavar="NAME", help="Read SUITE as a public dataset: realtimeqa, squad2 or hotpotqa.")] = None,
        limit: Annotated[Optional[int], typer.Option("--limit", min=1, metavar="N", help="With --dataset: a deterministic sample of N questions.")] = None,
        split: Annotated[str, typer.Option("--split", metavar="dev|test|all", help="With --dataset: dev (even id hash, for tuning), test (odd, for reporting) or all.")] = "all",
        model: ModelOption = None,
    ) -> None:
        """Score answers against a suite's expected facts and sources; exit 1 below thresholds or on regression."""
        from evals.runner import load_result, rescore, run_suite
        from evals.suite import load_suite
        from service.engine import Engine

        use_model(model)
        if dataset is not None:
            from evals.datasets import DATASETS, SPLITS

            if dataset not in DATASETS:
                raise UsageProblem(f"--dataset {dataset}: use one of {', '.join(DATASETS)}")
            if split not in SPLITS:
                raise UsageProblem(f"--split {split}: use one of {', '.join(SPLITS)}")
            if suite is None:
                raise UsageProblem("--dataset NAME needs the dataset PATH as its argument")
            if beir is not None or rescore_file is not None or judge or docs is not None:
                raise UsageProblem("--dataset runs alone: not with --beir, --rescore, --judge or --docs")
            _eval_dataset(engine_factory, dataset, suite, split, limit, k, baseline, tolerance, report, as_json)
            return
        if limit is not None or split != "all":
            raise UsageProblem("--limit and --split apply to --dataset runs")
        if rescore_file is not None:
            if suite is not None or beir is not None:
                raise UsageProblem("--rescore takes a saved result, not a SUITE.yaml or --beir")
            previous = load_result(baseline) if baseline is not None else None
            rescored = rescore(load_result(rescore_file), k=k)
            _finish(rescored, None, previous, tolerance, report, as_json)
            return
        if suite is None and beir is None:
            raise UsageProblem("give a SUITE.yaml, --beir DIR, or both")
        # Validate every input before starting a model or building an index.
        loaded = load_suite(suite, docs) if suite is not None else None
        previous = load_result(baseline) if baseline is not None else None
        if beir is not None:
            from evals.beir import load_beir

            load_beir(beir)  # fails fast on a malformed folder
        if report is not None and report.suffix.lower() not in (".md", ".markdown", ".html", ".htm"):
            raise UsageProblem(f"--report {report}: use a .md or .html file name")
        served = engine_factory()
        if not isinstance(served, Engine):  # CITEWISE_URL: the suite's questions go to the running server
            if beir is not None or judge:
                local_engine(served, "--beir or --judge")
            assert loaded is not None
            with served:
                check_served_suite(served, loaded)
                with ProgressBar(err.is_terminal) as bar:
                    answered = run_suite(served, loaded, k=k, progress=bar)
            _finish(answered, None, previous, tolerance, report, as_json)
            return
        base = served
        if judge and not base.settings.llm_base_url:
            raise InvalidInput("--judge needs an external LLM: set CITEWISE_LLM_BASE_URL")

        result: EvalResult | None = None
        beir_report = None
        with ExitStack() as stack:
            bar = stack.enter_context(ProgressBar(err.is_terminal))
            if loaded is not None:
                engine = eval_engine(base, stack, "suite")
                assert loaded.docs_dir is not None  # load_suite resolved it
                ingest = engine.ingest([loaded.docs_dir], progress=bar)
                if ingest.failed_paths:
                    raise InvalidInput(f"could not ingest {', '.join(ingest.failed_paths)}")
                result = run_suite(engine, loaded, k=k, judge=make_judge(engine) if judge else None, progress=bar)
            if beir is not None:
                from evals.beir import run_beir
                from service.engine import Engine

                if loaded is not None and "home" in base.settings.model_fields_set:
                    # The suite already uses the explicit index; keep the BEIR corpus out of it.
                    home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="citewise-eval-beir-")))
                    beir_engine = stack.enter_context(Engine(base.settings.model_copy(update={"home": home})))
                else:
                    beir_engine = eval_engine(base, stack, "beir")
                files_dir = beir_engine.settings.home / "beir-corpus" / beir.resolve().name
                beir_report = run_beir(beir_engine, beir, files_dir, progress=bar)

        _finish(result, beir_report, previous, tolerance, report, as_json)


def _eval_dataset(
    engine_factory: Callable[[], Engine | RemoteEngine], name: str, path: Path, split: str, limit: int | None, k: int | None,
    baseline: Path | None, tolerance: float, report: Path | None, as_json: bool,
) -> None:
    from evals.datasets import load_dataset, select_cases
    from evals.runner import load_result

    base = local_engine(engine_factory(), "--dataset")
    loaded = load_dataset(name, path)
    cases = select_cases(loaded.cases, split, limit)
    if not cases:
        raise InvalidInput(f"{path}: no {name} questions in split {split}")
    previous = load_result(baseline) if baseline is not None else None
    if report is not None and report.suffix.lower() not in (".md", ".markdown", ".html", ".htm"):
        raise UsageProblem(f"--report {report}: use a .md or .html file name")
    with ExitStack() as stack:
        bar = stack.enter_context(ProgressBar(err.is_terminal))
        engine = dataset_engine(base, stack, name)
        result = run_loaded_dataset(engine, loaded, cases, split=split, limit=limit, k=k, progress=bar)
    _finish(result, None, previous, tolerance, report, as_json)


def dataset_engine(base: Engine, stack: ExitStack, name: str) -> Engine:
    """An engine like `base` over a fresh temporary index (also when CITEWISE_HOME was set: the dataset's
    documents must be the only ones, or citation precision would count the user's files)."""
    from service.engine import Engine

    home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"citewise-eval-{name}-")))
    return stack.enter_context(Engine(base.settings.model_copy(update={"home": home})))


def run_loaded_dataset(
    engine: Engine, loaded: Dataset, cases: list[DatasetCase], *, split: str, limit: int | None,
    k: int | None = None, progress: Callable | None = None,
) -> EvalResult:
    """Write the dataset's documents under the engine's home, ingest them (skipped when already there) and run
    the cases. Used by `citewise eval --dataset` and `make bench BENCH=quality`."""
    from evals.runner import run_dataset

    folder = loaded.write(engine.settings.home / "dataset-corpus" / loaded.name)
    ingest = engine.ingest([folder], progress=progress)
    if ingest.failed_paths:
        raise InvalidInput(f"could not ingest {', '.join(ingest.failed_paths)}")
    return run_dataset(engine, loaded, cases, k=k, progress=progress, split=split, limit=limit)


def _finish(
    result: EvalResult | None, beir_report: BeirReport | None, previous: EvalResult | None, tolerance: float,
    report: Path | None, as_json: bool,
) -> None:
    """Gate, write the report, print (JSON or the summary), and exit 1 when the gate fails."""
    from evals.report import console_summary, write_report
    from evals.runner import gate

    failures = gate(result, previous, tolerance) if result is not None else []
    if report is not None:
        write_report(report, result, previous, failures, tolerance, beir_report)
    if as_json:
        payload = result.model_dump(mode="json") if result is not None else {}
        if beir_report is not None:
            payload["beir"] = beir_report.model_dump(mode="json")
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(console_summary(result, previous, failures, tolerance, beir_report))
    if failures:
        raise typer.Exit(1)
