"""Issue 9, items 1, 6 and 9: every response carries the security headers (a CSP that refuses inline script,
no framing, nosniff, referrer policy, HSTS over https); cookies are Secure over https, also behind a trusted
proxy (MOTCUA_PROXY_FIX) and only then; templates hold no inline script the CSP would block; no `next`
parameter leads off the site."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from engine.db import Database
from tests.helpers import Browser, csrf_token, text
from web.security import safe_next

ROOT = Path(__file__).resolve().parents[2]
PATHS = ("/login", "/tra-cuu", "/thu-tuc", "/static/css/app.css", "/api/v1/openapi.json", "/khong-co",
         "/api/v1/khong-co", "/api/v1/tasks")


def _assert_headers(r: object, path: str) -> None:
    h = r.headers  # type: ignore[attr-defined]
    csp = h.get("Content-Security-Policy", "")
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src and script_src.group(1).strip() == "'self'", (path, csp)
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
    assert h.get("X-Frame-Options") == "DENY", path
    assert h.get("X-Content-Type-Options") == "nosniff", path
    assert h.get("Referrer-Policy") == "same-origin", path


def test_every_response_carries_the_headers(browser: Browser) -> None:
    for path in PATHS:
        r = browser.client.get(path)
        _assert_headers(r, path)
        assert "Strict-Transport-Security" not in r.headers, path  # plain http: HSTS would mean nothing
    browser.login("xa_a1_clerk")
    for path in ("/inbox", "/reception", "/cases", "/notifications"):
        r = browser.client.get(path)
        assert r.status_code == 200, path
        _assert_headers(r, path)


def test_https_gets_hsts_and_secure_cookies(browser: Browser) -> None:
    r = browser.client.get("/login", base_url="https://motcua.example")
    _assert_headers(r, "/login")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Secure" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    plain = browser.client.get("/tra-cuu")
    assert "Secure" not in plain.headers.get("Set-Cookie", "")


def test_forwarded_proto_is_trusted_only_behind_the_configured_proxy(db: Database, tmp_path: Path) -> None:
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    direct = Browser(db, tmp_path)
    r = direct.client.get("/login", headers=https)
    assert "Strict-Transport-Security" not in r.headers  # anyone could send the header: ignored
    assert "Secure" not in r.headers.get("Set-Cookie", "")

    proxied = Browser(db, tmp_path, proxy_fix=1)
    r = proxied.client.get("/login", headers=https)
    assert "Strict-Transport-Security" in r.headers and "Secure" in r.headers["Set-Cookie"]
    token = csrf_token(text(r))
    # The browser speaks https to the proxy, so it sends the Secure cookie and a same-origin Referer (Flask-WTF
    # checks it over https; Referrer-Policy same-origin keeps sending it).
    login = proxied.client.post("/login", base_url="https://localhost",
                                headers={**https, "Referer": "https://localhost/login"},
                                data={"csrf_token": token, "username": "xa_a1_clerk", "password": "motcua2026"})
    assert login.status_code == 302 and "Secure" in login.headers["Set-Cookie"]


def test_templates_have_no_inline_script() -> None:
    """The CSP refuses inline script, so a template with one would break silently in the browser."""
    found = []
    for p in sorted((ROOT / "web" / "templates").rglob("*.html")):
        src = p.read_text(encoding="utf-8")
        for m in re.finditer(r"<script\b([^>]*)>", src, re.I):
            attrs = m.group(1)
            if "src=" not in attrs and 'type="application/json"' not in attrs:
                found.append(f"{p.relative_to(ROOT)}:{src[:m.start()].count(chr(10)) + 1}: inline <script>")
        for m in re.finditer(r"\son[a-z]+\s*=|javascript:", src, re.I):
            found.append(f"{p.relative_to(ROOT)}:{src[:m.start()].count(chr(10)) + 1}: {m.group(0).strip()}")
    assert not found, "\n".join(found)


HOSTILE = ["/\t/evil.example", "//evil.example", "\\\\evil.example", "/\\evil.example", "https://evil.example",
           "https:evil.example", "http:/evil.example", "javascript:alert(1)", "/\n/evil.example",
           " //evil.example", "evil.example", "\t//evil.example", "///evil.example",
           "/\r\n/evil.example", "\x00//evil.example"]


@pytest.mark.parametrize("target", HOSTILE)
def test_safe_next_refuses_other_sites(target: str) -> None:
    assert safe_next(target) is None


def test_safe_next_keeps_paths_of_this_site() -> None:
    for target in ("/inbox", "/inbox?state=overdue&after=abc", "/cases/X-1#docs", "/tra-cuu?code=%2F%2Fx"):
        assert safe_next(target) == target


def _stays(r: object) -> None:
    """Either a redirect that stays on this site, or the input layer refusing a control character outright."""
    if r.status_code == 422:  # type: ignore[attr-defined]
        return
    loc = r.headers["Location"]  # type: ignore[attr-defined]
    parts = urlsplit(loc)
    assert parts.netloc in ("", "localhost") and not re.match(r"^[/\\\s]{2}", parts.path), loc
    assert "evil" not in loc, loc


def test_no_next_parameter_leaves_the_site(browser: Browser) -> None:
    browser.login("xa_a1_clerk")
    for target in HOSTILE:
        _stays(browser.post("/notifications/read-all", {"next": target}))
        _stays(browser.post("/lang/vi", {"next": target}))
        _stays(browser.post(f"/lang/vi?next={quote(target)}"))
    browser.post("/logout")
    browser.get("/login")
    # Each login costs an argon2 check: the forms browsers actually follow off-site (safe_next has them all).
    for target in ("/\t/evil.example", "//evil.example", "\\\\evil.example", "https:evil.example"):
        r = browser.post(f"/login?next={quote(target)}", {"username": "xa_a1_clerk", "password": "motcua2026"})
        assert r.status_code == 302
        _stays(r)
    # A path of this site is still honoured.
    browser.get("/login")
    r = browser.post("/login?next=/cases", {"username": "xa_a1_clerk", "password": "motcua2026"})
    assert r.headers["Location"].endswith("/cases")


def test_the_inbox_and_notification_forms_stay_on_the_site_too(world: object, browser: Browser) -> None:
    """The other forms that carry `next`: claim, release and bulk claim in the inbox, opening a notification."""
    from sqlalchemy import select

    from engine.models import Notification

    code = world.receive(procedure="ho_tro_mai_tang")  # type: ignore[attr-defined]
    item_id, unit, role = world.open_item(code)  # type: ignore[attr-defined]
    browser.login(f"{unit.lower()}_{role}")
    browser.get("/inbox")
    with world.db.transaction() as s:  # type: ignore[attr-defined]
        notes = s.scalars(select(Notification.id)).all()
    for target in ("/\t/evil.example", "//evil.example", "\\\\evil.example", "https:evil.example"):
        _stays(browser.post(f"/tasks/{item_id}/claim", {"next": target}))
        _stays(browser.post(f"/tasks/{item_id}/unclaim", {"next": target}))
        _stays(browser.post("/tasks/bulk-claim", {"next": target, "ids": [str(item_id)]}))
        for note in notes[:1]:
            _stays(browser.post(f"/notifications/{note}/read", {"next": target}))
    r = browser.post(f"/tasks/{item_id}/unclaim", {"next": "/cases"})
    assert r.headers["Location"].endswith("/cases")  # a path of this site is still honoured


def test_every_next_parameter_goes_through_safe_next() -> None:
    """A new view reading `next` without the helper would reopen the hole: each read of it in web/ must sit
    inside a safe_next(...) call (or a function returning one)."""
    found = []
    for p in sorted((ROOT / "web").rglob("*.py")):
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"""\.get\(["']next["']\)""", line) and "safe_next(" not in line:
                found.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
