"""Files to plain text: finding ingestible files under the given paths, and extracting each one's text.

Line numbers everywhere refer to lines of the extracted text, so each loader keeps paragraph and line structure;
each also records where every extracted line is in the original file (`index.locations`).
Every way a file can be unusable becomes a `LoadError` whose message is a one-line reason.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from index.locations import LineMap, Where

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
DOCX_MAX_UNPACKED_MB = 256  # a .docx is a zip: refuse one that would unpack to more (a zip bomb) before unpacking


@dataclass(frozen=True)
class Extracted:
    """A file's extracted text and where each of its lines is in the file."""

    text: str
    line_map: LineMap


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


_NEWLINE = re.compile(r"\r\n|\r|\n")

Line = tuple[str, Where | None]  # one extracted line (no newline in it) and where in the file it came from


def _split(text: str, where: Where | None) -> list[Line]:
    """`text` split into lines ("\r\n", "\r" and "\n" all end one), each one at `where`."""
    return [(line, where) for line in _NEWLINE.split(text)]


def _normalise(lines: list[Line]) -> Extracted:
    """The extracted text and its line map: trailing whitespace dropped per line, NULs dropped, leading and
    trailing blank lines dropped (lines are numbered after that, so line 1 is the first line with text)."""
    cleaned = [(line.replace("\x00", "").rstrip(), where) for line, where in lines]
    first = next((i for i, (line, _) in enumerate(cleaned) if line), len(cleaned))
    last = next((i for i in range(len(cleaned) - 1, -1, -1) if cleaned[i][0]), -1)
    kept = cleaned[first : last + 1]
    return Extracted(
        text="\n".join(line for line, _ in kept),
        line_map=LineMap.build([where for _, where in kept]),
    )


def _looks_binary(text: str) -> bool:
    """Mostly control characters after decoding: not text, whatever the suffix says."""
    sample = text[:4096]
    if not sample:
        return False
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\n\r\t\f")
    return controls / len(sample) > 0.05


def extract_plain(data: bytes) -> list[Line]:
    text = decode_text(data)
    if _looks_binary(text):
        raise LoadError("binary content in a text file")
    return [(line, Where(n, n)) for n, line in enumerate(_NEWLINE.split(text), start=1)]


_BLOCK_TAGS = frozenset((
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "li", "ul", "ol", "dl", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "blockquote", "pre", "figure", "figcaption", "br", "hr",
    "title", "address", "form", "fieldset", "legend", "details", "summary", "caption", "thead", "tbody", "tfoot",
))  # fmt: skip
# Not document text: never rendered, page chrome, or form controls.
_SKIP_TAGS = frozenset((
    "head", "title", "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas", "nav",
    "aside", "button", "select", "textarea", "datalist", "dialog",
))  # fmt: skip
_SKIP_ROLES = frozenset(("navigation", "banner", "contentinfo", "search", "complementary"))
# <header>/<footer> are the page's banner and footer (skipped) only outside these (ARIA's rule); inside an article
# they hold its title or byline, which are document text.
_SECTIONING = frozenset(("article", "main", "section"))
_HEAD_CONTENT = frozenset(("title", "meta", "link", "style", "script", "base", "noscript", "template"))
_VOID_TAGS = frozenset((
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
))  # fmt: skip


class _HTMLText(HTMLParser):
    """Visible text of an HTML page as lines, each with the file lines its characters sit on.

    A streaming parse (the stdlib's `html.parser`, which reports the file position of every piece of text) rather
    than a tree: a tree parser (lexbor via selectolax) builds a better DOM but keeps no source positions, and the
    text only needs block boundaries, skipped regions and positions. Lines break at block elements and at
    newlines in the page's text; whitespace inside a line collapses to single spaces. Skipped: see _SKIP_TAGS,
    _SKIP_ROLES, `hidden` elements, <header>/<footer> outside an article, and <form>s — except a form holding
    <main> or <article> (a whole-page form, as ASP.NET WebForms emits), which is kept.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[str, int, int]] = []  # text, first and last file line of its characters
        self._parts: list[str] = []
        self._first: int | None = None
        self._last: int | None = None
        self._open: list[str] = []  # open elements (html.parser does not imply end tags: closed by name)
        self._skip: str | None = None  # the skipped element we are inside, and how many of it are open
        self._skip_depth = 0
        self._form_start: int | None = None  # index in `lines` where the open <form> began; None: not in one
        self._form_keep = False
        self._cells = 0  # cells so far in the current table row (cells are joined by " | ", as in DOCX)

    # --- building lines ---
    def _break(self) -> None:
        text = " ".join("".join(self._parts).split())
        if text and self._first is not None and self._last is not None:
            self.lines.append((text, self._first, self._last))
        self._parts, self._first, self._last = [], None, None

    def handle_data(self, data: str) -> None:
        if self._skip is not None:
            return
        line = self.getpos()[0]
        for k, piece in enumerate(data.split("\n")):
            if k:
                self._break()
            self._parts.append(piece)
            if piece.strip():
                self._first = line + k if self._first is None else self._first
                self._last = line + k

    # --- structure ---
    def _skipped(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        attributes = dict(attrs)
        if tag in _SKIP_TAGS or "hidden" in attributes:
            return True
        if (attributes.get("role") or "").strip().lower() in _SKIP_ROLES:
            return True
        return tag in ("header", "footer") and not any(t in _SECTIONING for t in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip is not None:
            if tag == self._skip and tag not in _VOID_TAGS:
                self._skip_depth += 1
            elif self._skip == "head" and (tag == "body" or tag not in _HEAD_CONTENT):
                self._skip, self._skip_depth = None, 0  # <head> ends implicitly at the first body element
                self.handle_starttag(tag, attrs)
            return
        if tag in _VOID_TAGS:
            if tag in ("br", "hr"):
                self._break()
            return
        if self._skipped(tag, attrs):
            self._break()
            self._skip, self._skip_depth = tag, 1
            return
        self._open.append(tag)
        if tag == "form" and self._form_start is None:
            self._break()
            self._form_start, self._form_keep = len(self.lines), False
        if tag in ("main", "article") and self._form_start is not None:
            self._form_keep = True
        if tag in _BLOCK_TAGS:
            self._break()
            self._cells = 0
        elif tag in ("td", "th"):
            self._parts.append(" | " if self._cells else " ")
            self._cells += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID_TAGS:  # "<div/>" opens nothing in HTML; treat it as an empty element
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)
        else:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skip is not None:
            if tag == self._skip:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip = None
            return
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass
        if tag in _BLOCK_TAGS or tag == "br":
            self._break()
        if tag == "form" and self._form_start is not None and "form" not in self._open:
            self._break()
            if not self._form_keep:
                del self.lines[self._form_start :]
            self._form_start = None

    def text_lines(self) -> list[tuple[str, int, int]]:
        self.close()
        self._break()
        return self.lines


def extract_html(data: bytes) -> list[Line]:
    """Visible text of an HTML page, one line per block element (paragraph, heading, list item, row), each line
    with the file lines its text is on (see `_HTMLText`)."""
    parser = _HTMLText()
    # Universal newlines first, so the parser's line numbers count lines as editors (and the txt loader) do.
    parser.feed(_NEWLINE.sub("\n", decode_text(data)))
    return [(text, Where(first, last)) for text, first, last in parser.text_lines()]


def _first_line(error: Exception, default: str) -> str:
    """An exception's message as a reason: its first line, without the exception's class name."""
    text = str(error).strip().splitlines()
    return text[0][:200] if text else default


def extract_pdf(data: bytes) -> list[Line]:
    """The PDF's text layer, pages separated by a blank line; each line knows its page."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # pypdf logs what it repairs or gives up on ("invalid pdf header"); a failure is reported once, as the reason
    logging.getLogger("pypdf").setLevel(logging.ERROR)

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
        raise LoadError(f"corrupt PDF ({_first_line(e, 'unreadable')})") from e
    if not any(p.strip() for p in pages):
        raise LoadError("PDF has no text layer (scanned image?)")
    lines: list[Line] = []
    for number, page in enumerate(pages, start=1):
        if number > 1:
            lines.append(("", None))
        lines += _split(page.strip(), Where(page=number))
    return lines


def extract_docx(data: bytes) -> list[Line]:
    """Paragraphs and table rows (cells joined by " | ") of a .docx in document order, one per line."""
    import zipfile

    from docx import Document
    from docx.table import Table

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:  # declared sizes bound what zipfile will unpack
            unpacked_mb = sum(info.file_size for info in archive.infolist()) / 1024 / 1024
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise LoadError("corrupt .docx (not a zip archive)") from e
    if unpacked_mb > DOCX_MAX_UNPACKED_MB:
        raise LoadError(f".docx would unpack to {unpacked_mb:.0f} MB (limit {DOCX_MAX_UNPACKED_MB} MB; a zip bomb?)")
    try:
        document = Document(io.BytesIO(data))
        lines: list[Line] = []
        paragraphs = tables = 0
        for block in document.iter_inner_content():  # the body's paragraphs and tables, in document order
            if isinstance(block, Table):
                tables += 1
                for r, row in enumerate(block.rows, start=1):
                    cells = " | ".join(cell.text.strip() for cell in row.cells)
                    lines += _split(cells, Where(table=tables, row=r))
            else:
                paragraphs += 1
                lines += _split(block.text, Where(paragraph=paragraphs))
    except Exception as e:  # python-docx raises a variety of zip/lxml/package errors on damaged files
        raise LoadError(f"corrupt .docx ({_first_line(e, 'unreadable document part')})") from e
    return lines


_EXTRACTORS: dict[str, Callable[[bytes], list[Line]]] = {
    ".txt": extract_plain,
    ".md": extract_plain,
    ".markdown": extract_plain,
    ".html": extract_html,
    ".htm": extract_html,
    ".pdf": extract_pdf,
    ".docx": extract_docx,
}


def extract(path: Path, data: bytes) -> Extracted:
    """The normalised text of a file's bytes (chosen by suffix) and its line map; `LoadError` when there is none."""
    if not data:
        raise LoadError("empty file")
    extractor = _EXTRACTORS.get(path.suffix.lower())
    if extractor is None:
        raise LoadError(f"unsupported file type {path.suffix!r}")
    extracted = _normalise(extractor(data))
    if not extracted.text.strip():
        raise LoadError("no text content")
    return extracted


def extract_text(path: Path, data: bytes) -> str:
    """The normalised text of a file's bytes (what line numbers refer to); `LoadError` when there is none."""
    return extract(path, data).text
