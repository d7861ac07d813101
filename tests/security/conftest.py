"""A browser's view of the pages for the security tests: cookies, the page's CSRF token, login and logout."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine.config import load_settings
from engine.db import Database
from web import create_app


class Browser:
    def __init__(self, database: Database, tmp_path: Path, **settings: Any) -> None:
        self.instance = tmp_path / "instance"
        self.app = create_app(load_settings(database_url=database.url, instance_path=self.instance, **settings),
                              database=database)
        self.client = self.app.test_client()
        self.token = ""

    def get(self, path: str, **kw: Any) -> Any:
        r = self.client.get(path, **kw)
        m = re.search(r'name="csrf_token" value="([^"]+)"', r.get_data(as_text=True))
        if m:
            self.token = m.group(1)
        return r

    def post(self, path: str, data: dict | None = None, **kw: Any) -> Any:
        if not self.token:
            self.get("/login")
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kw)

    def login(self, username: str, password: str = "motcua2026") -> Any:
        self.get("/login")
        r = self.post("/login", {"username": username, "password": password})
        assert r.status_code in (302, 303), r.get_data(as_text=True)[:300]
        self.get("/inbox")  # a fresh CSRF token bound to the logged-in session
        return r


def text(r: Any) -> str:
    return r.get_data(as_text=True)


@pytest.fixture
def browser(db: Database, tmp_path: Path) -> Browser:
    return Browser(db, tmp_path)
