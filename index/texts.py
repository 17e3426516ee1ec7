"""Extracted document texts on disk, keyed by the file's sha256, so quotes and line spans can be checked later.

Content-addressed: writing a new version never overwrites the text the manifest currently points to.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class TextStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.folder / f"{sha256}.txt"

    def write(self, sha256: str, text: str) -> None:
        """Atomic write (temp file + rename); an existing file for this sha is already right."""
        target = self.path(sha256)
        if target.exists():
            return
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".txt", dir=self.folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, target)

    def read(self, sha256: str) -> str:
        return self.path(sha256).read_text(encoding="utf-8")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def stored(self) -> set[str]:
        return {p.stem for p in self.folder.glob("*.txt") if not p.name.startswith(".")}

    def delete(self, shas: set[str]) -> None:
        for sha in shas:
            self.path(sha).unlink(missing_ok=True)
        for leftover in self.folder.glob(".tmp-*"):
            leftover.unlink(missing_ok=True)
