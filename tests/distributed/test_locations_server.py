"""Server mode keeps line maps in the Chroma server (`lines:<sha256>:<part>` beside the text): a replica with
another CITEWISE_HOME locates citations of documents a different replica ingested, and removal leaves nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest

from index.chroma_manifest import manifest_collection_name
from index.corpus import Corpus
from index.locations import Location
from service.config import Settings
from service.pipeline.retrieval import search
from tests.hardening.processes import Process, running, start_chroma
from tests.index.test_line_maps import HTML_PAGE, write_docx_with_table, write_pages_pdf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    workdir = tmp_path_factory.mktemp("chroma-locations")
    with running(start_chroma(workdir / "chroma-data", workdir)) as process:
        yield process


def test_a_second_replica_locates_from_the_server(chroma: Process, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pages_pdf(folder / "report.pdf", [["Inspection report"], ["The starboard propeller shaft is bent."]])
    (folder / "timetable.html").write_text(HTML_PAGE, encoding="utf-8")
    write_docx_with_table(folder / "prices.docx")
    writer = Corpus(Settings(home=tmp_path / "writer", chroma_url=chroma.url, collection="located"))
    reader = Corpus(Settings(home=tmp_path / "reader", chroma_url=chroma.url, collection="located"))
    try:
        assert writer.ingest([folder]).count("added") == 3
        assert not list((tmp_path / "writer").rglob("*.lines.json"))  # nothing kept locally in server mode
        lines = reader.text("report.pdf").split("\n")
        shaft = lines.index("The starboard propeller shaft is bent.") + 1
        assert reader.locate("report.pdf", shaft, shaft) == Location(page=2)
        assert reader.locate("prices.docx", 5, 5) == Location(docx_table=1, docx_row=3)
        assert reader.locate("timetable.html", 2, 3) == Location(file_start_line=15, file_end_line=16)
        hits = search(reader, "starboard propeller shaft", k=3).results
        assert any(h.source == "report.pdf" and h.page is not None for h in hits), hits

        client = chromadb.HttpClient(host="127.0.0.1", port=int(chroma.url.rsplit(":", 1)[1]))
        records = client.get_collection(manifest_collection_name("located"))
        kinds = [m["kind"] for m in records.get(include=["metadatas"])["metadatas"]]  # type: ignore[index]
        assert kinds.count("lines") == 3 and kinds.count("text") == 3
        writer.remove(["report.pdf", "prices.docx", "timetable.html"])
        kinds = [m["kind"] for m in records.get(include=["metadatas"])["metadatas"]]  # type: ignore[index]
        assert "lines" not in kinds and "text" not in kinds
        assert reader.locate("report.pdf", shaft, shaft) == Location()
    finally:
        writer.close()
        reader.close()
