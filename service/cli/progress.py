"""A terminal progress bar used as the (label, done, total) callback of long operations; silent when not a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress


class ProgressBar:
    """A rich progress bar on stderr when it is a terminal; silent otherwise. A (label, done, total) callback."""

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.progress: Progress | None = None
        if enabled:  # rich.progress loads only when a bar is drawn (commands start faster without it)
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            self.progress = Progress(*columns, console=console or Console(stderr=True))
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
