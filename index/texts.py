"""Extracted document texts on disk, keyed by the file's sha256, so quotes and line spans can be checked later.

Content-addressed: writing a new version never overwrites the text the manifest currently points to. Beside each
text, `<sha256>.lines.json` holds its line map (`index.locations`: where each line is in the original file);
texts written before line maps existed have none, and their locations are simply unknown.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from index.locations import LineMap

_MAP_SUFFIX = ".lines.json"


class TextStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.folder / f"{sha256}.txt"

    def map_path(self, sha256: str) -> Path:
        return self.folder / f"{sha256}{_MAP_SUFFIX}"

    def _write_atomic(self, target: Path, content: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=target.suffix, dir=self.folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(content)
        os.replace(tmp, target)

    def write(self, sha256: str, text: str, line_map: LineMap | None = None) -> None:
        """Atomic writes (temp file + rename), the line map before the text: a text that exists is complete.
        An existing file for this sha is already right."""
        if line_map is not None and not self.map_path(sha256).exists():
            self._write_atomic(self.map_path(sha256), line_map.to_json())
        if not self.path(sha256).exists():
            self._write_atomic(self.path(sha256), text)

    def read(self, sha256: str) -> str:
        return self.path(sha256).read_text(encoding="utf-8")

    def read_line_map(self, sha256: str) -> LineMap | None:
        """The text's line map; None when it has none (written before line maps existed)."""
        try:
            return LineMap.from_json(self.map_path(sha256).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def stored(self) -> set[str]:
        """Shas with a text or a line map here (a map without its text: a write interrupted in between)."""
        texts = {p.stem for p in self.folder.glob("*.txt") if not p.name.startswith(".")}
        maps = {p.name[: -len(_MAP_SUFFIX)] for p in self.folder.glob(f"*{_MAP_SUFFIX}") if not p.name.startswith(".")}
        return texts | maps

    def delete(self, shas: set[str]) -> None:
        for sha in shas:
            self.path(sha).unlink(missing_ok=True)
            self.map_path(sha).unlink(missing_ok=True)

    def sweep(self, referenced: set[str]) -> None:
        """Delete every text the manifest does not reference, and temp files a killed write left (a scan of the
        folder: run after an interrupted write, not on every one)."""
        self.delete(self.stored() - referenced)
        for leftover in self.folder.glob(".tmp-*"):
            leftover.unlink(missing_ok=True)
