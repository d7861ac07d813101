"""A token that stops being valid is refused by the very next request, in every process: each process keeps the
user behind a token between requests (engine.principals), and that must never outlive a revocation, an
expiry, a deactivation or a lost role. Two app instances on the same database — this test's own and a
gunicorn worker in another process — have both served the token before the change; both refuse it right
after, without waiting. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, update

from engine import org
from engine.db import Database
from engine.models import ApiToken, User, UserRole, utcnow
from tests import servers
from tests.api_client import Api
from web.cli import main

REPO = Path(__file__).resolve().parent.parent.parent


class OtherProcess:
    """A second app instance: one gunicorn worker in its own process on the test's database."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, token: str, body: dict | None = None) -> int:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {token}", **({"Content-Type": "application/json"} if data else {})}
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code


@pytest.fixture
def other(db: Database, tmp_path: Path) -> Iterator[OtherProcess]:
    env = {**os.environ, "MOTCUA_DATABASE_URL": db.url, "MOTCUA_INSTANCE_PATH": str(tmp_path / "other"),
           "MOTCUA_SECRET_KEY": uuid.uuid4().hex}
    with servers.gunicorn(env, tmp_path, 1) as url:
        yield OtherProcess(url)


def _both_answer(api: Api, other: OtherProcess, username: str) -> tuple[int, int]:
    """GET /api/v1/tasks with `username`'s token from this process and from the other one."""
    token = api.token(username)
    return api.get("/api/v1/tasks", username).status_code, other.call("GET", "/api/v1/tasks", token)


def test_revoked_token_is_refused_by_both_processes_at_once(db: Database, api: Api, other: OtherProcess,
                                                           tmp_path: Path) -> None:
    for _ in range(2):  # both processes have served the token (and kept its user) before it is revoked
        assert _both_answer(api, other, "xa_a1_clerk") == (200, 200)
    env = {"MOTCUA_DATABASE_URL": db.url, "MOTCUA_INSTANCE_PATH": str(tmp_path / "cli")}
    result = CliRunner().invoke(main, ["user", "revoke-token", "xa_a1_clerk"], env=env)
    assert result.exit_code == 0, result.output
    assert _both_answer(api, other, "xa_a1_clerk") == (401, 401)
    assert _both_answer(api, other, "xa_a2_clerk") == (200, 200)  # other users keep theirs


def test_expired_token_is_refused_by_both_processes_at_once(db: Database, api: Api, other: OtherProcess) -> None:
    assert _both_answer(api, other, "xa_a1_clerk") == (200, 200)
    with db.transaction() as s:  # the token's last valid moment has just passed
        s.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert _both_answer(api, other, "xa_a1_clerk") == (401, 401)


def test_deactivated_user_is_refused_by_both_processes_at_once(db: Database, api: Api, other: OtherProcess) -> None:
    assert _both_answer(api, other, "xa_a1_clerk") == (200, 200)
    with db.transaction() as s:
        s.execute(update(User).where(User.username == "xa_a1_clerk").values(active=False))
    assert _both_answer(api, other, "xa_a1_clerk") == (401, 401)


def test_a_lost_role_is_lost_in_both_processes_at_once(db: Database, api: Api, other: OtherProcess) -> None:
    """The desk clerk receives a dossier through both processes; once the clerk role is taken away, both
    refuse the next one (403), though the token itself is still valid."""
    body = {"procedure": "ncc_mai_tang", "applicant": {"name": "Nguyễn Văn An"}, "data": {}}
    token = api.token("xa_a1_clerk")
    assert api.post("/api/v1/cases", "xa_a1_clerk", json=body).status_code == 201
    assert other.call("POST", "/api/v1/cases", token, body) == 201
    with db.transaction() as s:
        clerk = org.user_by_username(s, "xa_a1_clerk")
        s.execute(delete(UserRole).where(UserRole.user_id == clerk.id, UserRole.role_code == "clerk"))
        s.add(UserRole(user_id=clerk.id, role_code="specialist"))
    assert api.post("/api/v1/cases", "xa_a1_clerk", json=body).status_code == 403
    assert other.call("POST", "/api/v1/cases", token, body) == 403
    assert _both_answer(api, other, "xa_a1_clerk") == (200, 200)  # still signed in, with the role it has now
