"""`citewise models` and the `--model NAME` option (ask, chat, serve, eval, llm-server): registered in service/cli/app.py."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.console import Console

# service.config and service.model_files (pydantic) load inside the functions: `citewise --help` does not pay for them.


def _known_model(name: str | None) -> str | None:
    if name is None:
        return None
    from service.model_files import REGISTRY

    if name not in REGISTRY:
        raise typer.BadParameter(f"{name!r} is not a registered model (known: {', '.join(REGISTRY)})")
    return name


ModelOption = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        metavar="NAME",
        callback=_known_model,
        help="Embedded model to run (as CITEWISE_LLM): tiny (default) or quality (after make install-quality-model).",
        show_default=False,
    ),
]


def use_model(name: str | None) -> None:
    """`--model NAME` = CITEWISE_LLM=NAME for this process and the workers/replicas it starts."""
    if name:
        from service.config import export_to_workers

        export_to_workers(llm=name)


def register(app: typer.Typer) -> None:
    @app.command("models")
    def models(
        as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
        check: Annotated[bool, typer.Option("--verify/--no-verify", help="Hash files not yet verified.")] = True,
    ) -> None:
        """The local models: installed, sha256 verified, GGUF name and licence, where they come from."""
        from service.config import get_settings
        from service.model_files import default_models_dir, list_status

        settings = get_settings()
        statuses = list_status(settings.models_dir or default_models_dir(), check=check)
        if as_json:
            print(json.dumps([s.model_dump(mode="json") for s in statuses], ensure_ascii=False))
            return
        out = Console()
        for s in statuses:
            info = s.info
            state = "not installed" if not s.installed else {True: "sha256 verified", False: "sha256 MISMATCH",
                                                             None: "installed (not verified: --no-verify)"}[s.verified]
            lines = [f"{s.name}{' (in use)' if s.name == settings.llm else ''}: {s.alias}, {s.size / 1e6:,.0f} MB, {state}",
                     f"  file: {s.path}" if s.installed else f"  install: {s.install_hint}"]
            if info:
                lines.append(
                    f"  GGUF: {info.name or '-'}; {info.architecture or '-'} {info.parameters or ''} "
                    f"{info.quantization or '-'}, context {info.context_length or '-'}; "
                    f"licence {info.licence or f'not in the file ({s.licence} upstream)'}"
                )
            shown = ", ".join(s.packages[:2]) + (f", … ({len(s.packages)} packages)" if len(s.packages) > 2 else "")
            lines.append(f"  from PyPI: {shown}; upstream: {s.upstream}")
            if s.error:
                lines.append(f"  error: {s.error}")
            out.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
