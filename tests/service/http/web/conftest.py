"""Browser-test fixtures: a real `citewise serve` on 127.0.0.1 over the news corpus, and Debian's chromium.

The server, the model and the browser start once per session; each test gets a fresh page (desktop or phone
viewport) whose console errors fail the test, and a `shot(name)` helper that saves screenshots under
test-artifacts/web/.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from service.llm import free_port

REPO = Path(__file__).resolve().parents[4]
SHARED = REPO.parent / "shared"
NEWS = SHARED / "corpus" / "news"
ARTIFACTS = REPO / "test-artifacts" / "web"
CITEWISE = Path(sys.executable).parent / "citewise"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
API_KEY = "web-test-key-7f3a"
STARTUP_TIMEOUT_S = 180


@dataclass
class Server:
    url: str
    home: Path
    api_key: str | None = None

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=300)


def _env(home: Path, api_key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEWISE_")}
    env["CITEWISE_HOME"] = str(home)
    if api_key:
        env["CITEWISE_API_KEY"] = api_key
    return env


def _start_server(home: Path, log_path: Path, api_key: str | None = None) -> tuple[subprocess.Popen, Server]:
    port = free_port()
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [str(CITEWISE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=_env(home, api_key),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(url=f"http://127.0.0.1:{port}", home=home, api_key=api_key)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"citewise serve exited with {proc.returncode}; log: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return proc, server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    _stop(proc)
    raise RuntimeError(f"citewise serve did not come up in {STARTUP_TIMEOUT_S}s; log: {log_path.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def news_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`citewise serve` over a fresh index of ../shared/corpus/news (no API key)."""
    home = tmp_path_factory.mktemp("web-home")
    ingest = subprocess.run(
        [str(CITEWISE), "ingest", str(NEWS)], cwd=REPO, env=_env(home, None), capture_output=True, text=True, timeout=600
    )
    assert ingest.returncode == 0, f"ingest failed: {ingest.stdout}{ingest.stderr}"
    proc, server = _start_server(home, home.parent / "web-serve.log")
    yield server
    _stop(proc)


@pytest.fixture(scope="session")
def api_key() -> str:
    return API_KEY


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`citewise serve` with CITEWISE_API_KEY set, over an empty index."""
    home = tmp_path_factory.mktemp("web-keyed-home")
    proc, server = _start_server(home, home.parent / "web-keyed-serve.log", api_key=API_KEY)
    yield server
    _stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Playwright's sync API keeps an event loop running on the main thread while it is open: module scope
    closes it with the page tests, so a later test file on the same pytest worker can still `asyncio.run`."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run `make install-browser` (Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class ConsoleWatch:
    """Console errors and uncaught exceptions of a page; `expect(pattern)` allows an error the test provokes."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
def page(browser, viewport: str, console: ConsoleWatch) -> Iterator[object]:
    context = browser.new_context(**VIEWPORTS[viewport])
    context.set_default_timeout(30_000)
    pg = context.new_page()
    pg.on("console", lambda m: console.errors.append(f"console: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: console.errors.append(f"pageerror: {e}"))
    yield pg
    context.close()
    assert console.unexpected() == [], "the page logged errors"


@pytest.fixture
def shot(page, viewport: str, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Save a full-window screenshot of the current step: test-artifacts/web/<test>-<viewport>-<step>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    test_name = request.node.originalname.removeprefix("test_")

    def take(step: str) -> Path:
        path = ARTIFACTS / f"{test_name}-{viewport}-{step}.png"
        page.screenshot(path=str(path))
        return path

    return take
