"""A terminal progress bar used as the (label, done, total) callback of long operations; silent when not a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)


class ProgressBar:
    """A rich progress bar on stderr when it is a terminal; silent otherwise. A (label, done, total) callback."""

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        console = console or Console(stderr=True)
        self.progress = (
            Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)
            if enabled
            else None
        )
        self.tasks: dict[str, object] = {}

    def __enter__(self) -> ProgressBar:
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress:
            self.progress.stop()

    def __call__(self, label: str, done: int, total: int) -> None:
        if not self.progress:
            return
        group = label.split(" ", 1)[0]  # one bar per kind of work ("asking", "BEIR dense", ingest labels…)
        if group not in self.tasks:
            self.tasks[group] = self.progress.add_task(label, total=total)
        self.progress.update(self.tasks[group], description=label, completed=done, total=total)  # type: ignore[arg-type]
