"""Two views of the app for the security tests.

`browser`: a browser's view of the pages (cookies, the page's CSRF token, login and logout).
`gunicorn`: a real multi-process deployment for the limits that must hold across workers — `gunicorn -w 3` on a
copy of the demo SQLite database, counting in the Redis at 127.0.0.1:6379 under a key prefix of its own
(removed afterwards); clients talk to it over HTTP with urllib, as any client would."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine.db import Database
from tests import servers
from tests.helpers import Browser, csrf_token

REPO = Path(__file__).resolve().parent.parent.parent
REDIS_URL = os.environ.get("MOTCUA_TEST_REDIS", "redis://127.0.0.1:6379/0")


@dataclass
class Answer:
    status: int
    text: str
    headers: dict = field(default_factory=dict)


class Client:
    """One HTTP client (own cookies, so own session and CSRF token) of the deployment."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def open(self, path: str, data: bytes | None = None, headers: dict | None = None) -> Answer:
        request = urllib.request.Request(self.url + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=60) as resp:
                return Answer(resp.status, resp.read().decode(), dict(resp.headers))
        except urllib.error.HTTPError as e:
            return Answer(e.code, e.read().decode(), dict(e.headers))

    def post_json(self, path: str, body: dict) -> Answer:
        return self.open(path, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def post_form(self, path: str, form: dict, token_from: str) -> Answer:
        """POST a page's form with the CSRF token of `token_from`, as a browser would."""
        token = csrf_token(self.open(token_from).text)
        data = urllib.parse.urlencode({"csrf_token": token, **form}).encode()
        return self.open(path, data, {"Content-Type": "application/x-www-form-urlencoded"})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Deployment:
    url: str
    db: Database
    access_log: Path
    redis_prefix: str

    def client(self) -> Client:
        return Client(self.url)

    def worker_pids(self, status: int | None = None) -> set[str]:
        """The workers that answered (with `status`), from gunicorn's access log (`%(p)s %(s)s %(r)s`)."""
        lines = [line.split() for line in self.access_log.read_text().splitlines() if line.strip()]
        return {line[0] for line in lines if status is None or line[1] == str(status)}

    def reset_limits(self) -> None:
        from limits.storage import storage_from_string

        storage_from_string(REDIS_URL, key_prefix=self.redis_prefix).reset()
        self.access_log.write_text("")


@pytest.fixture(scope="package")
def redis_prefix() -> Iterator[str]:
    """A key prefix of this run's own in the shared Redis, and every key under it removed afterwards."""
    from limits.storage import storage_from_string

    prefix = f"motcua-test-{uuid.uuid4().hex[:12]}"
    store = storage_from_string(REDIS_URL, key_prefix=prefix)
    if not store.check():
        pytest.fail(f"Redis is required for the cross-worker limits ({REDIS_URL}); set MOTCUA_TEST_REDIS")
    yield prefix
    store.reset()


@pytest.fixture(scope="package")
def gunicorn(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
             redis_prefix: str) -> Iterator[Deployment]:
    """`gunicorn -w 3` from the venv on a fresh SQLite copy; the default limits, Redis storage."""
    instance = tmp_path_factory.mktemp("gunicorn")
    path = instance / "motcua.db"
    shutil.copy(sqlite_template, path)
    log = instance / "access.log"
    env = {**os.environ, "MOTCUA_DATABASE_URL": f"sqlite:///{path}", "MOTCUA_INSTANCE_PATH": str(instance),
           "MOTCUA_SECRET_KEY": uuid.uuid4().hex, "MOTCUA_RATELIMIT_STORAGE": REDIS_URL,
           "MOTCUA_RATELIMIT_PREFIX": redis_prefix, "MOTCUA_SECRET_CHECK_LIMIT": "10/minute",
           "MOTCUA_LOGIN_FAILURES_PER_ACCOUNT": "5"}
    database = Database(f"sqlite:///{path}")
    try:
        with servers.gunicorn(env, instance, 3, ready="/api/v1/openapi.json",
                              extra=("--access-logfile", str(log), "--access-logformat", "%(p)s %(s)s %(r)s")) as url:
            log.write_text("")  # count only the test's own requests
            yield Deployment(url, database, log, redis_prefix)
    finally:
        database.dispose()


@pytest.fixture
def fresh_limits(gunicorn: Deployment, redis_prefix: str) -> Deployment:
    """Each test starts with untouched allowances (the module's deployment is shared)."""
    gunicorn.reset_limits()
    return gunicorn


@pytest.fixture
def browser(db: Database, tmp_path: Path) -> Browser:
    return Browser(db, tmp_path)
