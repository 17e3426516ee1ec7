"""Writes the sample corpus's two binary documents: a field inspection report (.pdf) and a contractor letter (.docx).

Binary files are generated rather than committed so the repo holds only reviewable text. The text lives here
(not in .txt files under examples/, which would be ingested as duplicates). Output goes to examples/generated/
(git-ignored). The build is deterministic and only rewrites a file whose bytes would change, so re-running
`make examples` never makes an unchanged corpus look changed to the ingest.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
GENERATED_DIR = EXAMPLES_DIR / "generated"
PDF_NAME = "inspection-report.pdf"
DOCX_NAME = "contractor-letter.docx"

# Fixed timestamps keep the output byte-identical from run to run.
_PDF_DATE = datetime(2024, 10, 29, 9, 0, tzinfo=UTC)
_DOCX_DATE = datetime(2025, 6, 16, 9, 0, tzinfo=UTC)
_ZIP_DATE = (2025, 6, 16, 9, 0, 0)

# ASCII only: the PDF uses a core font (latin-1), and plain text extracts cleanly.
INSPECTION_REPORT_TITLE = "FIELD INSPECTION REPORT - NORTHGATE RESERVOIR"
INSPECTION_REPORT_PARAGRAPHS: list[str] = [
    "Report No. CF-2024-117. Calder Falls Water Utility.",
    "Inspection date: October 22, 2024.",
    "Inspected by: Samuel Okafor, lead diver, Aquatech Diving Services, with Dana Whitfield of the utility's "
    "operations staff.",
    "Method: The tank stayed full and in service during the inspection. A diver entered through the east roof "
    "hatch and inspected the floor, the walls and the underside of the roof with a video camera. The water "
    "temperature was 14 degrees Celsius.",
    "Findings",
    "1. Roof: Daylight was visible through 14 gaps around the roof hatches and vents. Staining under the roof "
    "joints shows that rain water enters the tank.",
    "2. Interior coating: The coating has failed over about 30 percent of the wall area, mainly near the water "
    "line. Bare concrete is exposed in these areas.",
    "3. Walls: One crack about 6 feet long runs along the north wall. It does not leak to the outside today, but "
    "it should be repaired.",
    "4. Sediment: Sediment on the floor is 3 inches deep on average, and up to 8 inches deep near the outlet.",
    "5. Inlet valve: The 16-inch inlet valve is heavily corroded. Operators can only open it to about 60 percent.",
    "Overall condition rating: 2 out of 5 (poor).",
    "Recommendations: Replace the roof hatches and seal the roof. Remove the old coating and reline the tank. "
    "Repair the crack in the north wall. Replace the inlet valve. Remove the sediment before the tank returns "
    "to service. Inspect the tank again within one year after the work is finished.",
    "Signed: Samuel Okafor, October 29, 2024.",
]

CONTRACTOR_LETTER_PARAGRAPHS: list[str] = [
    "From: Brennan & Holt Construction, 418 Mill Street, Ashford.",
    "Date: June 16, 2025.",
    "To: Priya Nandakumar, P.E., Project Manager, Calder Falls Water Utility.",
    "Subject: Contract NR-2025-01, Northgate Reservoir Renewal - progress report and Change Order No. 2.",
    "Dear Ms. Nandakumar,",
    "This letter reports our progress on the Northgate Reservoir work under our contract value of $5,490,000 "
    "and asks for your approval of a change order.",
    "Progress to date: The reservoir was drained and taken offline on April 7, 2025, as planned. Removal of the "
    "old interior coating was completed on May 9, 2025. Demolition of the old roof was completed on "
    "May 30, 2025. About 19 tons of sediment were removed from the tank floor.",
    "Additional work: Under the old roof membrane we found that 11 of the precast roof panels are cracked and "
    "cannot be repaired. We propose to replace them under Change Order No. 2 for $86,500. The price includes "
    "the new panels, a crane for two days and labor.",
    "Schedule: The new panels can be delivered within three weeks. With this change we still expect the "
    "reservoir to return to service by September 30, 2025. Our crew of 14 workers is on site Monday to Friday "
    "from 7 a.m. to 6 p.m.",
    "Please confirm your approval of Change Order No. 2 by June 27, 2025, so that we can order the panels.",
    "Sincerely,",
    "Colin Brennan, Project Superintendent, Brennan & Holt Construction.",
]


def build_fingerprint() -> str:
    """Identifies the text and layout this script produces: a hash of the script itself."""
    return "citewise-examples-" + hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def is_current(path: Path) -> bool:
    """True when `path` was built by this very script, so rebuilding (and importing fpdf, ~2 s) can be skipped."""
    if not path.is_file():
        return False
    data = path.read_bytes()
    if path.suffix == ".docx":
        try:
            data = zipfile.ZipFile(io.BytesIO(data)).read("docProps/core.xml")
        except (zipfile.BadZipFile, KeyError):
            return False
    return build_fingerprint().encode() in data


def build_pdf() -> bytes:
    """The inspection report as a one-page PDF with a real text layer."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(_PDF_DATE)
    pdf.set_title("Field Inspection Report - Northgate Reservoir")
    pdf.set_author("Samuel Okafor")
    pdf.set_producer("citewise examples")
    pdf.set_keywords(build_fingerprint())
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=13)
    pdf.multi_cell(0, 7, INSPECTION_REPORT_TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for paragraph in INSPECTION_REPORT_PARAGRAPHS:
        is_heading = paragraph == "Findings"
        pdf.set_font("Helvetica", style="B" if is_heading else "", size=11)
        pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())


def build_docx() -> bytes:
    """The contractor letter as a .docx whose zip entries carry fixed timestamps."""
    from docx import Document

    document = Document()
    core = document.core_properties
    core.author = "Colin Brennan"
    core.title = "Northgate Reservoir - progress report and Change Order No. 2"
    core.created = _DOCX_DATE
    core.modified = _DOCX_DATE
    core.last_modified_by = "Colin Brennan"
    core.revision = 1
    core.keywords = build_fingerprint()
    for paragraph in CONTRACTOR_LETTER_PARAGRAPHS:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return _with_fixed_zip_dates(buffer.getvalue())


def _with_fixed_zip_dates(data: bytes) -> bytes:
    """python-docx stamps each zip entry with the current time; rewrite them with a fixed one."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly those bytes; True when written."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")  # hidden, so a concurrent ingest skips it
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def build_all(out_dir: Path = GENERATED_DIR, *, force: bool = False) -> dict[Path, bool]:
    """Build both documents into `out_dir`; maps each path to whether it was (re)written.

    Files already built by this version of the script are left alone unless `force`.
    """
    builders = {out_dir / PDF_NAME: build_pdf, out_dir / DOCX_NAME: build_docx}
    return {
        path: (force or not is_current(path)) and write_if_changed(path, build())
        for path, build in builders.items()
    }


def main() -> None:
    for path, written in build_all().items():
        print(f"{'wrote' if written else 'unchanged'} {path.relative_to(EXAMPLES_DIR.parent)}")


if __name__ == "__main__":
    main()
