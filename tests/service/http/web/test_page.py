"""The web page in a real browser (Debian's chromium via Playwright) against a real `citewise serve`.

Each step saves a screenshot under test-artifacts/web/; every test fails on console errors it did not provoke.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

NEWS = Path(__file__).resolve().parents[5] / "shared" / "corpus" / "news"

pytestmark = pytest.mark.slow

ANSWER_TIMEOUT_MS = 300_000  # the embedded model shares 2 cores with everything else
QUESTION = "Which treaty bans antipersonnel mines?"
OFF_TOPIC = "What is the boiling point of liquid nitrogen in kelvin?"
UPLOAD_NAME = "lighthouse_notes.txt"
UPLOAD_TEXT = (
    "Corran Island lighthouse notes\n"
    "The Corran Island lighthouse was repainted bright green in 1987 by the harbour trust.\n"
    "Its lamp is visible for 22 nautical miles on a clear night.\n"
)


def normalize(text: str) -> str:
    return " ".join(text.split()).lower()


def open_page(page: Page, server) -> None:
    page.goto(server.url + "/")
    expect(page.locator("#docs-list .doc").first).to_be_attached()


def ask(page: Page, question: str) -> object:
    """Type the question, submit with Enter, wait for the verified answer; returns the answer's turn."""
    before = page.locator(".turn.assistant").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    turn = page.locator(".turn.assistant").nth(before)
    expect(turn).to_be_attached()
    expect(turn).to_have_attribute("data-state", re.compile("^(done|refused|error)$"), timeout=ANSWER_TIMEOUT_MS)
    return turn


def open_docs_drawer(page: Page, viewport: str) -> None:
    if viewport == "phone" and not page.locator("#docs-panel").is_visible():
        page.click("#docs-toggle")
    expect(page.locator("#docs-panel")).to_be_visible()


def file_lines(path: Path) -> list[str]:
    return path.read_text().split("\n")


# --- the text route (no browser) -------------------------------------------------------------------------------------


def test_text_route_numbers_lines_like_the_file(news_server) -> None:
    source = "000_1ca178c960a0782e.txt"
    with news_server.client() as http:
        body = http.get(f"/v1/documents/{source}/text").json()
        missing = http.get("/v1/documents/no/such/file.txt/text")
    expected = (NEWS / source).read_text().strip("\n").split("\n")
    assert body["source"] == source
    assert [line["n"] for line in body["lines"]] == list(range(1, len(expected) + 1))
    assert [line["text"] for line in body["lines"]] == [line.rstrip() for line in expected]
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_source"


def test_text_route_obeys_the_api_key_and_the_page_does_not(keyed_server, api_key: str) -> None:
    with keyed_server.client() as anonymous, keyed_server.client(api_key) as authorized:
        assert anonymous.get("/v1/documents/a.txt/text").status_code == 401
        assert anonymous.get("/").status_code == 200
        assert "text/javascript" in anonymous.get("/static/app.js").headers["content-type"]
        assert anonymous.get("/static/web.py").status_code == 404
        assert authorized.get("/v1/documents/a.txt/text").status_code == 404  # past auth: unknown source


# --- the page ---------------------------------------------------------------------------------------------------------


def test_answer_streams_and_citation_opens_the_cited_lines(
    page: Page, news_server, viewport: str, shot
) -> None:
    requests: list[dict] = []
    page.on("request", lambda r: requests.append(json.loads(r.post_data)) if r.url.endswith("/v1/ask") else None)
    open_page(page, news_server)
    expect(page.locator("#docs-list .doc")).to_have_count(2)
    shot("1-loaded")

    turn = ask(page, QUESTION)
    shot("2-answer")
    assert turn.get_attribute("data-state") == "done", turn.inner_text()
    assert int(turn.get_attribute("data-tokens") or 0) > 0, "no verified text was shown while streaming"
    assert int(turn.get_attribute("data-drafts") or 0) > 0, "the provisional draft was not shown while streaming"
    # the verified answer replaced the draft in place: no draft element, label or text remains
    assert turn.locator(".draft, .draft-text, .streaming-text").count() == 0, turn.inner_html()
    assert "draft" not in turn.inner_text().lower()
    assert requests[0] == {"question": QUESTION, "history": [], "stream": True}
    links = turn.locator(".answer-text a.cite")
    assert links.count() >= 1, "the answer has no [n] citation links"
    first = turn.locator('.answer-text a.cite[data-cite="1"]')
    link = first.first if first.count() else links.first
    source = link.get_attribute("data-source")
    start, end = int(link.get_attribute("data-start")), int(link.get_attribute("data-end"))
    cite_id = link.get_attribute("data-cite")
    quote = turn.locator(f'.sources a.cite[data-cite="{cite_id}"] + blockquote').inner_text()

    link.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#source-title")).to_have_text(source)
    highlighted = page.locator("#source-lines .line.hl")
    expect(highlighted.first).to_be_visible()
    assert [int(n) for n in highlighted.evaluate_all("els => els.map(e => e.dataset.n)")] == list(range(start, end + 1))
    expect(page.locator(f"#L{start}")).to_be_in_viewport()
    marked = " ".join(page.locator("#source-lines .line.hl mark").all_inner_texts())
    assert normalize(marked) == normalize(quote)
    # ... and the quote really is in that file's cited lines (checked against the file itself, not the server).
    cited_text = "\n".join(file_lines(NEWS / source)[start - 1 : end])
    assert normalize(quote) in normalize(cited_text)
    shot("3-source-panel")

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(link).to_be_focused()

    # A follow-up question carries the conversation so far.
    follow_up = ask(page, "Has the US signed it?")
    shot("4-follow-up")
    history = requests[1]["history"]
    assert history[0] == {"role": "user", "content": QUESTION}
    assert history[1]["role"] == "assistant"
    assert normalize(history[1]["content"]) == normalize(turn.locator(".answer-text").inner_text())
    assert follow_up.get_attribute("data-state") in ("done", "refused")


def test_unanswerable_question_shows_a_refusal(page: Page, news_server, viewport: str, shot) -> None:
    open_page(page, news_server)
    page.fill("#question", "first line")
    page.press("#question", "Shift+Enter")  # a newline, not a submit
    expect(page.locator("#question")).to_have_value("first line\n")
    expect(page.locator(".turn")).to_have_count(0)
    turn = ask(page, OFF_TOPIC)
    shot("1-refusal")
    assert turn.get_attribute("data-state") == "refused", turn.inner_text()
    expect(turn.locator(".refusal-badge")).to_have_text("Not in the documents")
    expect(turn.locator(".answer-text")).to_contain_text("The documents don't say")
    expect(turn.locator(".answer-text a.cite")).to_have_count(0)
    suggestions = turn.locator(".suggestions a.suggestion")
    assert suggestions.count() >= 1, "a refusal offers the closest passages"
    suggestions.first.click()
    expect(page.locator("#source-lines .line.hl").first).to_be_visible()
    shot("2-suggestion")


def test_upload_ask_about_it_then_delete(
    page: Page, news_server, viewport: str, shot, console, tmp_path: Path
) -> None:
    console.expect(r"status of 422")  # the broken file's upload is rejected, on purpose
    good = tmp_path / UPLOAD_NAME
    good.write_text(UPLOAD_TEXT)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 this is not really a PDF")
    open_page(page, news_server)
    open_docs_drawer(page, viewport)

    # Drag and drop the good file onto the drop zone (a real DataTransfer with a File in it).
    page.locator("#dropzone").dispatch_event("drop", {"dataTransfer": page.evaluate_handle(
        """([name, text]) => { const dt = new DataTransfer();
             dt.items.add(new File([text], name, {type: "text/plain"})); return dt; }""",
        [UPLOAD_NAME, UPLOAD_TEXT],
    )})
    row = page.locator(f'#upload-list .upload[data-name="{UPLOAD_NAME}"]')
    expect(row).to_have_attribute("data-state", "done", timeout=120_000)
    expect(row.locator(".upload-state")).to_contain_text("added")
    expect(page.locator(f'#docs-list .doc[data-source="{UPLOAD_NAME}"]')).to_be_visible()
    # The file picker with a file that cannot be ingested: its own row says why.
    page.set_input_files("#file-input", str(broken))
    bad_row = page.locator('#upload-list .upload[data-name="broken.pdf"]')
    expect(bad_row).to_have_attribute("data-state", "error", timeout=120_000)
    expect(bad_row.locator(".upload-state")).to_contain_text("failed")
    shot("1-uploaded")
    if viewport == "phone":
        page.click("#docs-toggle")

    # "Argyll" is in no document: answered from the notes, with the name the documents never mention said beside it
    turn = ask(page, "What colour was the Corran Island lighthouse in Argyll repainted in 1987?")
    shot("2-answer-about-upload")
    assert turn.get_attribute("data-state") == "done", turn.inner_text()
    cited_sources = turn.locator(".answer-text a.cite").evaluate_all("els => els.map(e => e.dataset.source)")
    assert UPLOAD_NAME in cited_sources
    expect(turn.locator(".unmentioned")).to_have_text("The documents never mention Argyll.")

    open_docs_drawer(page, viewport)
    doc = page.locator(f'#docs-list .doc[data-source="{UPLOAD_NAME}"]')
    doc.get_by_role("button", name=f"Delete {UPLOAD_NAME}").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(UPLOAD_NAME)
    shot("3-confirm-delete")
    dialog.get_by_role("button", name="Cancel").click()
    expect(doc).to_be_visible()  # cancelling keeps it
    doc.get_by_role("button", name=f"Delete {UPLOAD_NAME}").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(doc).to_have_count(0)
    expect(page.locator("#docs-status")).to_contain_text(f"Deleted {UPLOAD_NAME}")
    shot("4-deleted")
    with news_server.client() as http:
        assert UPLOAD_NAME not in [d["source"] for d in http.get("/v1/documents").json()]


def summarize_and_check(page: Page, button_name: str) -> object:
    """Click a Summarize button; the rendered bullets and differences match the JSON the server sent."""
    with page.expect_response(lambda r: r.url.endswith("/v1/summarize"), timeout=ANSWER_TIMEOUT_MS) as response:
        page.get_by_role("button", name=button_name).click()
    turn = page.locator(".turn.summary").last
    expect(turn).to_have_attribute("data-state", re.compile("^(done|unavailable|error)$"), timeout=ANSWER_TIMEOUT_MS)
    assert turn.get_attribute("data-state") == "done", turn.inner_text()
    assert response.value.status == 200
    summary = response.value.json()
    assert summary["bullets"] and summary["citations"]
    assert turn.locator(":scope .turn-body > .bullets > li").count() == len(summary["bullets"])
    differences = turn.locator(".differences li")
    assert differences.count() == len(summary["differences"])
    if summary["differences"]:
        expect(turn.locator(".differences h3")).to_have_text("Where the sources differ")
    return turn


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_summarize_a_document_and_the_corpus(page: Page, news_server, viewport: str, shot, console) -> None:
    open_page(page, news_server)
    source = "001_846b2a5c2ae0efae.txt"
    turn = summarize_and_check(page, f"Summarize {source}")
    expect(turn.locator(".summary-title")).to_have_text(f"Summary of {source}")
    shot("1-document-summary")
    links = turn.locator(".bullets a.cite")
    assert links.count() >= 1, "summary bullets carry clickable citations"
    links.first.click()
    expect(page.locator("#source-title")).to_have_text(source)
    expect(page.locator("#source-lines .line.hl").first).to_be_visible()
    shot("2-summary-citation")
    page.keyboard.press("Escape")
    corpus = summarize_and_check(page, "Summarize all")
    expect(corpus.locator(".summary-title")).to_have_text("Summary of all documents")
    corpus.scroll_into_view_if_needed()
    shot("3-corpus-summary")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_api_key_is_asked_once_and_kept_for_the_tab(
    page: Page, keyed_server, api_key: str, viewport: str, shot, console
) -> None:
    console.expect(r"status of 401")  # the unauthenticated first request, and the wrong key
    sent: list[str | None] = []
    page.on("request", lambda r: sent.append(r.headers.get("authorization")) if "/v1/" in r.url else None)
    page.goto(keyed_server.url + "/")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#key-input")).to_be_focused()
    shot("1-key-asked")
    page.fill("#key-input", "wrong-key")
    page.keyboard.press("Enter")
    expect(page.locator("#key-message")).to_contain_text("not accepted")
    page.fill("#key-input", api_key)
    dialog.get_by_role("button", name="Use key").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#docs-status")).to_contain_text("No documents yet")
    assert page.evaluate("sessionStorage.getItem('citewise.apiKey')") == api_key
    shot("2-key-accepted")

    sent.clear()
    page.reload()
    expect(page.locator("#docs-status")).to_contain_text("No documents yet")
    expect(dialog).to_be_hidden()
    assert sent and all(h == f"Bearer {api_key}" for h in sent)
