"""Files to plain text: finding ingestible files under the given paths, and extracting each one's text.

Line numbers everywhere refer to lines of the extracted text, so each loader keeps paragraph and line structure.
Every way a file can be unusable becomes a `LoadError` whose message is a one-line reason.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
DOCX_MAX_UNPACKED_MB = 256  # a .docx is a zip: refuse one that would unpack to more (a zip bomb) before unpacking


class LoadError(Exception):
    """A file that cannot be ingested; `str(error)` is the one-line reason."""


@dataclass(frozen=True)
class Candidate:
    """A file to ingest, with the source name it will have in the index."""

    source: str
    path: Path
    root: str  # the command-line path (absolute) it was found under, for --prune


@dataclass
class Discovery:
    """What walking the given paths found."""

    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source or path, reason)
    missing: list[str] = field(default_factory=list)  # command-line paths that do not exist
    folders: list[Path] = field(default_factory=list)  # absolute folders walked (the scope of --prune)


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def discover(paths: list[Path]) -> Discovery:
    """Walk folders recursively (sorted, so runs are deterministic); skip hidden and unsupported files."""
    found = Discovery()
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            found.missing.append(str(given))
            continue
        path = path.resolve()
        if path.is_file():
            if not _supported(path):
                found.skipped.append((path.name, f"unsupported file type {path.suffix or '(none)'!r}"))
            else:
                found.candidates.append(Candidate(source=path.name, path=path, root=str(path)))
            continue
        found.folders.append(path)
        for dirpath, dirnames, filenames in os.walk(path):
            here = Path(dirpath)
            for d in sorted(dirnames):
                if _is_hidden(d):
                    found.skipped.append(((here / d).relative_to(path).as_posix() + "/", "hidden folder"))
            dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d))
            for name in sorted(filenames):
                file = here / name
                source = file.relative_to(path).as_posix()
                if _is_hidden(name):
                    found.skipped.append((source, "hidden file"))
                elif not _supported(file):
                    found.skipped.append((source, f"unsupported file type {file.suffix or '(none)'!r}"))
                elif not file.is_file():
                    found.skipped.append((source, "not a regular file"))
                else:
                    found.candidates.append(Candidate(source=source, path=file, root=str(path)))
    return found


def read_bytes(path: Path, max_file_mb: float) -> bytes:
    """The file's bytes; refuses files above the size limit without reading them."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror or e}") from e
    limit = int(max_file_mb * 1024 * 1024)
    if size > limit:
        raise LoadError(f"file too large ({size / 1024 / 1024:.1f} MB > limit {max_file_mb:g} MB)")
    try:
        return path.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror or e}") from e


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- text extraction, one function per format -------------------------------------------------


def decode_text(data: bytes) -> str:
    """Bytes of a text file to str: UTF-8 (or a UTF-16 BOM), else cp1252, else latin-1; never fails on text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:8192]:
        raise LoadError("binary content (NUL bytes) in a text file")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _normalise(text: str) -> str:
    """Unify newlines so line numbers mean the same everywhere; drop trailing whitespace per line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _looks_binary(text: str) -> bool:
    """Mostly control characters after decoding: not text, whatever the suffix says."""
    sample = text[:4096]
    if not sample:
        return False
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\n\r\t\f")
    return controls / len(sample) > 0.05


def extract_plain(data: bytes) -> str:
    text = decode_text(data)
    if _looks_binary(text):
        raise LoadError("binary content in a text file")
    return text


_BLOCK_TAGS = (
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "li", "ul", "ol", "dl", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "blockquote", "pre", "figure", "figcaption", "br", "hr",
    "title", "address",
)  # fmt: skip


def extract_html(data: bytes) -> str:
    """Visible text of an HTML page, one line per block element (paragraph, heading, list item, row)."""
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(decode_text(data))
    for tag in ("script", "style", "noscript", "template", "svg", "head"):
        for node in tree.css(tag):
            node.decompose()
    body = tree.body or tree.root
    if body is None:
        return ""
    # Mark block boundaries with newlines, then collapse whitespace inside each line.
    for tag in _BLOCK_TAGS:
        for node in body.css(tag):
            node.insert_before("\n")
            node.insert_after("\n")
    raw = body.text(deep=True, separator="", strip=False)
    lines = [" ".join(line.split()) for line in raw.split("\n")]
    return "\n".join(line for line in lines if line)


def extract_pdf(data: bytes) -> str:
    """The PDF's text layer, pages separated by a blank line."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise LoadError("encrypted PDF (password required)")
            except LoadError:
                raise
            except Exception as e:
                raise LoadError("encrypted PDF (cannot decrypt)") from e
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, IndexError) as e:
        raise LoadError(f"corrupt PDF ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'unreadable'})") from e
    text = "\n\n".join(p.strip() for p in pages)
    if not text.strip():
        raise LoadError("PDF has no text layer (scanned image?)")
    return text


def extract_docx(data: bytes) -> str:
    """Paragraphs of a .docx (then table cells), one per line."""
    import zipfile

    from docx import Document

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:  # declared sizes bound what zipfile will unpack
            unpacked_mb = sum(info.file_size for info in archive.infolist()) / 1024 / 1024
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise LoadError(f"corrupt .docx ({type(e).__name__})") from e
    if unpacked_mb > DOCX_MAX_UNPACKED_MB:
        raise LoadError(f".docx would unpack to {unpacked_mb:.0f} MB (limit {DOCX_MAX_UNPACKED_MB} MB; a zip bomb?)")
    try:
        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise LoadError(f"corrupt .docx ({type(e).__name__})") from e
    except Exception as e:  # python-docx raises a variety of lxml/package errors on damaged files
        raise LoadError(f"corrupt .docx ({type(e).__name__})") from e
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(lines)


_EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    ".txt": extract_plain,
    ".md": extract_plain,
    ".markdown": extract_plain,
    ".html": extract_html,
    ".htm": extract_html,
    ".pdf": extract_pdf,
    ".docx": extract_docx,
}


def extract_text(path: Path, data: bytes) -> str:
    """The normalised text of a file's bytes, chosen by suffix; `LoadError` when there is none."""
    if not data:
        raise LoadError("empty file")
    extractor = _EXTRACTORS.get(path.suffix.lower())
    if extractor is None:
        raise LoadError(f"unsupported file type {path.suffix!r}")
    text = _normalise(extractor(data))
    if not text.strip():
        raise LoadError("no text content")
    return text
