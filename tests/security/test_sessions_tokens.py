"""Issue 9, item 6: signing out is real. A session cookie copied before logout opens nothing afterwards,
`motcua user revoke-token` ends a user's tokens and browser sessions, API tokens expire (MOTCUA_TOKEN_DAYS),
and logout and the language switch are POST forms with CSRF. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import time_machine
from click.testing import CliRunner
from sqlalchemy import update

from engine import org
from engine.db import Database
from engine.models import ApiToken, utcnow
from tests.helpers import Browser, text
from web.cli import main


def _copy_of(browser: Browser, db: Database, tmp_path: Path) -> Browser:
    """A second browser (an attacker's) holding a copy of the first one's session cookie."""
    other = Browser(db, tmp_path)
    other.client.set_cookie("session", browser.client.get_cookie("session").value)
    return other


def test_cookie_copied_before_logout_is_refused_after_it(browser: Browser, db: Database, tmp_path: Path) -> None:
    browser.login("xa_a1_clerk")
    thief = _copy_of(browser, db, tmp_path)
    assert thief.client.get("/inbox").status_code == 200  # the copy works while the owner is signed in

    out = browser.post("/logout")
    assert out.status_code == 302 and out.headers["Location"].endswith("/login")
    assert browser.client.get("/inbox").status_code == 302

    r = thief.client.get("/inbox")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert thief.client.get("/reception").status_code == 302


def test_logging_out_one_browser_keeps_the_other(browser: Browser, db: Database, tmp_path: Path) -> None:
    browser.login("xa_a1_clerk")
    laptop = Browser(db, tmp_path)
    laptop.login("xa_a1_clerk")
    browser.post("/logout")
    assert laptop.client.get("/inbox").status_code == 200


def test_a_forgotten_session_ends_after_thirty_days(browser: Browser) -> None:
    browser.login("xa_a1_clerk")
    with time_machine.travel(utcnow() + timedelta(days=29), tick=False):
        assert browser.client.get("/inbox").status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        assert browser.client.get("/inbox").status_code == 302


def test_logout_and_language_refuse_get_and_forged_posts(browser: Browser) -> None:
    browser.login("xa_a1_clerk")
    assert browser.client.get("/logout").status_code == 405
    assert browser.client.get("/lang/en").status_code == 405
    assert browser.client.post("/logout").status_code == 400  # no CSRF token: a link on another site
    assert browser.client.post("/lang/en").status_code == 400
    assert browser.client.get("/inbox").status_code == 200  # still signed in, still Vietnamese
    assert "Hộp công việc" in text(browser.get("/inbox"))
    page = text(browser.get("/inbox"))
    assert 'action="/logout"' in page and 'action="/lang/en"' in page and 'href="/logout"' not in page


def test_revoke_token_ends_tokens_and_sessions(browser: Browser, db: Database, tmp_path: Path) -> None:
    from tests.api_client import Api

    api = Api(db, tmp_path)
    assert api.get("/api/v1/tasks", "xa_a1_clerk").status_code == 200
    browser.login("xa_a1_clerk")
    env = {"MOTCUA_DATABASE_URL": db.url, "MOTCUA_INSTANCE_PATH": str(tmp_path / "cli")}
    result = CliRunner().invoke(main, ["user", "revoke-token", "xa_a1_clerk"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 token(s) revoked, 1 browser session(s) ended" in result.output

    r = api.get("/api/v1/tasks", "xa_a1_clerk")
    assert r.status_code == 401 and r.is_json and "revoked" in r.get_json()["message"]
    assert browser.client.get("/inbox").status_code == 302
    assert api.get("/api/v1/tasks", "xa_a2_clerk").status_code == 200  # other users keep theirs

    unknown = CliRunner().invoke(main, ["user", "revoke-token", "ai_do"], env=env)
    assert unknown.exit_code != 0 and "ai_do" in unknown.output


def test_tokens_expire_after_the_configured_days(db: Database, tmp_path: Path) -> None:
    from tests.api_client import Api

    api = Api(db, tmp_path)
    token = api.token("xa_a1_clerk")
    with time_machine.travel(utcnow() + timedelta(days=89), tick=False):
        assert api.get("/api/v1/tasks", "xa_a1_clerk").status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=91), tick=False):
        r = api.get("/api/v1/tasks", "xa_a1_clerk")
        assert r.status_code == 401 and "expired" in r.get_json()["message"]

    # A token from before expiry existed counts MOTCUA_TOKEN_DAYS from its creation.
    with db.transaction() as s:
        s.execute(update(ApiToken).values(expires_at=None, created_at=utcnow() - timedelta(days=8)))
    assert api.get("/api/v1/tasks", "xa_a1_clerk").status_code == 200
    short = Api.__new__(Api)
    from engine.config import load_settings
    from web import create_app

    short.app = create_app(load_settings(database_url=db.url, instance_path=tmp_path / "i7", token_days=7),
                           database=db)
    short.client, short.db, short._tokens = short.app.test_client(), db, {"xa_a1_clerk": token}
    assert short.get("/api/v1/tasks", "xa_a1_clerk").status_code == 401


def test_cli_token_days(db: Database, tmp_path: Path) -> None:
    env = {"MOTCUA_DATABASE_URL": db.url, "MOTCUA_INSTANCE_PATH": str(tmp_path), "MOTCUA_TOKEN_DAYS": "30"}
    result = CliRunner().invoke(main, ["user", "token", "xa_a1_clerk", "--days", "2"], env=env)
    assert result.exit_code == 0, result.output
    with db.transaction() as s:
        user = org.user_by_username(s, "xa_a1_clerk")
        token = result.output.strip()
        assert org.user_for_token(s, token) is not None
        row = s.query(ApiToken).filter(ApiToken.user_id == user.id).one()
        assert timedelta(days=1, hours=23) < row.expires_at - utcnow() <= timedelta(days=2)
    default = CliRunner().invoke(main, ["user", "token", "xa_a2_clerk"], env=env)
    with db.transaction() as s:
        user = org.user_by_username(s, "xa_a2_clerk")
        row = s.query(ApiToken).filter(ApiToken.user_id == user.id).one()
        assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30), default.output
