"""Browser tests: Debian's headless Chromium, driven by Playwright, against pytest-django's live
server (a real HTTP server on 127.0.0.1 over the test database).

Every page a test opens is watched: a console error (a Content-Security-Policy refusal among
them), an uncaught script error, a request to another host, a 5xx answer (but a 503 page with
Retry-After, the deliberate answer of a site too busy) or a page of ours
without its Content-Security-Policy header fails the test, so a broken template or a
third-party asset cannot slip through a journey that "only" clicks.
Screenshots land in test-artifacts/screenshots/ (not committed) for a person to review.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    sync_playwright,
)

from petitions.tasks import petition_counts_update
from tests.services import celery_worker_process, smtp_server

__all__ = ["celery_worker_process", "smtp_server"]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Without the networking flags Chromium phones home at start, and this machine refuses it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]

DESKTOP: dict[str, object] = {"viewport": {"width": 1280, "height": 900}}
PHONE: dict[str, object] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/156.0.0.0 Mobile Safari/537.36"
    ),
}


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: `make test` installs Debian's chromium package "
            "(or set CHROMIUM_PATH)."
        )
    # Playwright's sync API keeps an event loop on this thread, which makes Django refuse ORM
    # calls from it; the tests and the live server still run strictly one request at a time.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def site(live_server, settings) -> str:
    """The live server's base URL; emails sent in-process link back to it."""
    settings.SITE_URL = live_server.url
    return live_server.url


@dataclass
class Watch:
    """What went wrong on a page while a test used it."""

    origin: str
    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("request", self._request)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        # A 4xx answer to a page is a test's business (a form with errors answers 400);
        # `_response` catches the statuses that are never right.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _request(self, request: Request) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("http", "https") and f"{url.scheme}://{url.netloc}" != self.origin:
            self.problems.append(f"request to another host: {request.url}")

    def _response(self, response: Response) -> None:
        page_itself = response.request.resource_type == "document"
        # The one deliberate 5xx: a page saying the site is too busy, and when to try again
        # (mechanisms.admission).
        busy = page_itself and response.status == 503 and "retry-after" in response.headers
        if (response.status >= 500 and not busy) or (response.status >= 400 and not page_itself):
            self.problems.append(f"{response.status} from {response.url}")
        # Every page of ours (an iframe's too, a redirect too) carries the policy: one without
        # it would run whatever script an injection put there.
        if page_itself and response.url.startswith(self.origin + "/"):
            # `headers`, not `all_headers()`: the latter is a round trip to the browser, which
            # must not happen inside an event handler (it can wait for ever).
            policy = response.headers.get("content-security-policy", "")
            if "script-src 'self'" not in policy:
                self.problems.append(f"no Content-Security-Policy on {response.url}")


class Browse:
    """Opens pages as a given kind of visitor and checks, at the end, that none misbehaved."""

    def __init__(self, browser: Browser, site: str) -> None:
        self._browser = browser
        self._site = site
        self._opened: list[tuple[BrowserContext, Watch]] = []

    def __call__(
        self, *, device: str = "desktop", javascript: bool = True, **overrides: object
    ) -> Page:
        """`overrides` are Playwright's context options beyond the two devices (a 320-pixel
        viewport, a zoom as a device scale factor...)."""
        options = {**(PHONE if device == "phone" else DESKTOP), **overrides}
        context = self._browser.new_context(
            base_url=self._site, java_script_enabled=javascript, locale="en-US", **options
        )
        # A slow CI machine is no reason to fail; a page that never comes is.
        context.set_default_timeout(15_000)
        watch = Watch(origin=self._site)
        context.on("page", watch.attach)
        page = context.new_page()
        self._opened.append((context, watch))
        return page

    def forgive(self, text: str) -> None:
        """Drop, from the browser opened last, the problems seen so far that contain `text`: a
        known exception a test names and comments (the admin's scripts against our policy)."""
        _context, watch = self._opened[-1]
        watch.problems[:] = [problem for problem in watch.problems if text not in problem]

    def close(self) -> list[str]:
        problems = []
        for context, watch in self._opened:
            context.close()
            problems.extend(watch.problems)
        return problems


@pytest.fixture
def browse(browser: Browser, site: str) -> Iterator[Browse]:
    opener = Browse(browser, site)
    yield opener
    problems = opener.close()
    assert not problems, "the pages misbehaved:\n" + "\n".join(problems)


@pytest.fixture
def run_counter() -> Callable[[], None]:
    """The beat tick that adds confirmed signatures to the public count (every few seconds in
    production, and beside `make run`)."""
    return lambda: petition_counts_update.apply()


@pytest.fixture
def worker_site_url(site: str) -> str:
    return site


class _Campaigner(BaseHTTPRequestHandler):
    """A campaigner's own site, on another origin of this machine, serving `body`. A real
    server rather than a routed reply: Chromium lets only a page it fetched from a local address
    frame a local one, as the live server is (local network access checks)."""

    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def campaigner_site() -> Iterator[tuple[str, type[_Campaigner]]]:
    handler = type("Handler", (_Campaigner,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    finally:
        server.shutdown()
        server.server_close()
