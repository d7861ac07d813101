"""The helpers every test module shares, one home each: reading a page's CSRF token and signing in through the
login form (`csrf_token`, `login`, `Browser`), and releasing concurrent work at once (`at_once`).

Plain functions and a class, not fixtures, so test modules and conftest files import them alike."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

PASSWORD = "motcua2026"  # every demo user's password
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of a page's form (Flask-WTF); fails the test when the page has none."""
    found = _CSRF.search(html)
    assert found, f"no csrf_token on the page: {html[:300]}"
    return found.group(1)


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Sign a Flask test client in through the login form, as a person would: whoever is signed in signs out
    first (logout is a POST with the header's CSRF token). Returns the login POST's answer (302 on success)."""
    home = client.get("/login", follow_redirects=True).get_data(as_text=True)  # home when someone is signed in
    client.post("/logout", data={"csrf_token": csrf_token(home)})  # harmless when nobody is
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"csrf_token": csrf_token(page), "username": username, "password": password})


class Browser:
    """A person's view of the pages through a Flask test client: every GET remembers the page's CSRF token and
    every POST sends it. Built on its own app (`Browser(db, tmp_path, **settings)`) or on an existing test
    client (`Browser.of(api.client)`)."""

    def __init__(self, database: Any = None, tmp_path: Path | None = None, client: Any = None,
                 **settings: Any) -> None:
        if client is None:
            from engine.config import load_settings
            from web import create_app

            assert database is not None and tmp_path is not None, "Browser(db, tmp_path) or Browser.of(client)"
            self.instance = tmp_path / "instance"
            self.app = create_app(load_settings(database_url=database.url, instance_path=self.instance,
                                                **settings), database=database)
            client = self.app.test_client()
        self.client = client
        self.token = ""

    @classmethod
    def of(cls, client: Any) -> Browser:
        return cls(client=client)

    def get(self, path: str, **kw: Any) -> Any:
        r = self.client.get(path, **kw)
        found = _CSRF.search(r.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return r

    def post(self, path: str, data: dict | None = None, **kw: Any) -> Any:
        if not self.token:
            self.get("/login")
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kw)

    def login(self, username: str, password: str = PASSWORD) -> Any:
        """Sign in (signing out whoever was signed in); the answer of the login POST. On success the next
        page's token is fetched, since a login starts a new session with a new token."""
        r = login(self.client, username, password)
        if r.status_code in (302, 303):
            self.get(r.headers["Location"], follow_redirects=True)
        return r


def text(r: Any) -> str:
    return r.get_data(as_text=True)


def at_once(*actions: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run each action in its own thread, all released together by a barrier: what each returned, or the
    exception it raised, in the order given. The race tests' one way to make work collide."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = action()
        except BaseException as e:  # noqa: BLE001 — the test inspects what each side got
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), f"a racing action did not finish within {timeout} s"
    return results


def all_succeeded(results: list[Any]) -> list[Any]:
    """The results of `at_once`, failing the test with every error when any action raised."""
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return results
