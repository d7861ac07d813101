"""Issue 9, items 1 and 6, on every route rather than a sample: each GET route of the app, opened by a citizen and
by officials of each kind (with a real case, step and procedure filling the URL), answers with the security
headers — a CSP whose script-src is 'self' alone — and no HTML it sends holds an inline script, an `on…=`
attribute or a `javascript:` URL the CSP would have to block. A new route or template that breaks the rule
fails here, on SQLite and PostgreSQL."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from flask import Flask

from engine.db import Database
from tests.conftest import World
from tests.helpers import Browser
from tests.security.test_headers_redirects import _assert_headers

# Who opens every route: a citizen, the desk, a head, the province's leader (reports), a designer, the admin.
VISITORS = (None, "xa_a1_clerk", "xa_a1_head", "tinh_leader", "designer", "admin")
# Slow exports: every official opens them once would cost a minute of PDF rendering; one reader is enough.
HEAVY = (".pdf", ".xlsx")


class InlineCode(HTMLParser):
    """Inline script in a page: <script> without src (JSON data blocks excepted), on…= handlers,
    javascript: URLs. Text and escaped data are not tags, so a name shown as `&lt;img onerror=…&gt;` is fine."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> at line {self.getpos()[0]}")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…> at line {self.getpos()[0]}")


def _paths(app: Flask, values: dict[str, str]) -> list[str]:
    """Every GET route with its arguments filled from `values` (by argument name)."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        args = {name: values.get(f"{rule.endpoint}.{name}", values.get(name, "1")) for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            out.append(url_for(rule.endpoint, **args))
    return sorted(set(out))


def test_every_get_route_carries_the_csp_and_sends_no_inline_script(world: World, db: Database,
                                                                   tmp_path: Path) -> None:
    code = world.receive(procedure="ho_tro_mai_tang")
    item_id, _unit, _role = world.open_item(code)
    browser = Browser(db, tmp_path)
    values = {"code": code, "public.procedure.code": "ho_tro_mai_tang", "public.submit_form.code": "ho_tro_mai_tang",
              "api_officials.unit_load.code": "XA_A1", "officials.load.code": "XA_A1",
              "procedure": "ho_tro_mai_tang", "version": "1", "nn": "01", "id": str(item_id),
              "item_id": str(item_id), "doc_id": "1", "filename": "css/app.css"}
    paths = _paths(browser.app, values)
    assert len(paths) > 60, paths  # the app's routes were found, not a handful
    problems: list[str] = []
    opened = 0
    html_ok = set()
    for who in VISITORS:
        if who:
            browser.login(who)
        for path in paths:
            if path.endswith(HEAVY) and who != "tinh_leader":
                continue
            r = browser.client.get(path)
            opened += 1
            if r.status_code >= 500:
                problems.append(f"{who or 'citizen'} {path}: {r.status_code}")
                continue
            _assert_headers(r, f"{who or 'citizen'} {path}")
            if r.mimetype == "text/html":
                parser = InlineCode()
                parser.feed(r.get_data(as_text=True))
                problems += [f"{who or 'citizen'} {path}: {f}" for f in parser.found]
                if r.status_code == 200:
                    html_ok.add(path)
        if who:
            browser.post("/logout")
    assert not problems, "\n".join(problems)
    # The walk saw the real pages, not only login redirects and 404s.
    for page in ("/login", "/tra-cuu", "/thu-tuc", "/inbox", "/reception", f"/cases/{code}", f"/tasks/{item_id}",
                 "/reports", "/designer", "/admin/calendar", "/notifications", "/xac-thuc"):
        assert page in html_ok, (page, sorted(html_ok))
    assert opened > 300
