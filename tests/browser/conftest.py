"""Browser fixtures: a real motcua server on 127.0.0.1 (fresh SQLite copy of the demo province per test)
driven by Debian's chromium through Playwright. Never a downloaded browser, never silently skipped."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.config import load_settings
from engine.db import Database

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PASSWORD = "motcua2026"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    url: str
    db: Database
    instance_path: Path


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """The real app on a fresh copy of the demo database, served by werkzeug in a thread."""
    from werkzeug.serving import make_server

    import web

    instance = tmp_path / "instance"
    instance.mkdir()
    path = instance / "motcua.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    database = Database(url)
    app = web.create_app(load_settings(database_url=url, instance_path=instance), database=database)
    app.config["MOTCUA_BROWSER_TEST"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", db=database, instance_path=instance)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        database.dispose()


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """One chromium for the browser tests; closed when they are done, because Playwright's sync API keeps an
    asyncio loop running in this thread meanwhile, and later tests calling asyncio.run (pyHanko) would fail."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is required for the browser tests and {CHROMIUM} is missing: "
                    "run `apt-get install -y chromium` (or `make chromium`) and test again.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--no-first-run", "--disable-sync"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN",  # type: ignore[attr-defined]
                                  timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    # The Content-Security-Policy refuses inline script: a page that still needs some would break silently,
    # so every browser test also fails on a CSP violation reported by chromium.
    violations: list[str] = []
    pg.on("console", lambda msg: violations.append(msg.text)  # type: ignore[attr-defined]
          if "Content Security Policy" in msg.text else None)
    try:
        yield pg
    finally:
        context.close()
    assert not violations, violations


def do_logout(page: object, url: str) -> None:
    """Sign out as an official does: logout is a POST form (with CSRF) in the header of every page."""
    page.goto(f"{url}/login")  # type: ignore[attr-defined]  — redirects home when someone is signed in
    button = page.locator("form[action$='/logout'] button")  # type: ignore[attr-defined]
    if button.count():
        button.click()
        page.wait_for_load_state()  # type: ignore[attr-defined]


def do_login(page: object, server: LiveServer, username: str, password: str = PASSWORD) -> None:
    """Log in through the form (logging out whoever was logged in first, with the header's logout button)."""
    do_logout(page, server.url)
    page.goto(f"{server.url}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("main form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]


@pytest.fixture
def login(page: object, live_server: LiveServer) -> Callable[..., None]:
    """Logs a page in as a demo user: `login("xa_a1_clerk")` (the test's page and server) or
    `login(page, live_server, "xa_a1_clerk", password="motcua2026")`."""

    def _login(*args: object, password: str = PASSWORD) -> None:
        if args and isinstance(args[0], str):
            username = args[0]
            do_login(page, live_server, username, str(args[1]) if len(args) > 1 else password)
        else:
            pg, server, username = args[0], args[1], args[2]
            do_login(pg, server, str(username), str(args[3]) if len(args) > 3 else password)  # type: ignore[arg-type]

    return _login


def shot(page: object, name: str, full_page: bool = True) -> Path:
    """A screenshot under tests/artifacts/<name>.png (git-ignored); full page unless told otherwise."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path


@pytest.fixture(name="shot")
def shot_fixture() -> Callable[..., Path]:
    return shot
