"""A JSON API client for tests: the real Flask app on the test database, with bearer tokens per user."""

from __future__ import annotations

from typing import Any

from engine import org
from engine.config import load_settings
from engine.db import Database
from web import create_app


class Api:
    def __init__(self, database: Database, tmp_path: Any) -> None:
        settings = load_settings(database_url=database.url, instance_path=tmp_path / "instance")
        self.app = create_app(settings, database=database)
        self.app.config["MOTCUA_CHECK_RESPONSES"] = True  # every API test also checks the OpenAPI contract
        self.client = self.app.test_client()
        self.db = database
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            with self.db.transaction() as s:
                self._tokens[username] = org.issue_token(s, org.user_by_username(s, username))
        return self._tokens[username]

    def call(self, method: str, path: str, user: str | None = None, **kw: Any) -> Any:
        headers = {**({"Authorization": f"Bearer {self.token(user)}"} if user else {}), **kw.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kw)

    def get(self, path: str, user: str | None = None, **kw: Any) -> Any:
        return self.call("GET", path, user, **kw)

    def post(self, path: str, user: str | None = None, **kw: Any) -> Any:
        return self.call("POST", path, user, **kw)
