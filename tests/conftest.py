"""Shared fixtures: a real database (SQLite file and PostgreSQL, each test runs on both) holding the
demo province, its accounts and the shipped procedures; plus one-line helpers to receive and move cases."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from engine import cases, catalog, org, schema
from engine.db import Database
from engine.demo import create_demo
from engine.models import User

# Property tests explore the same examples on every run: CI must be deterministic (a failure reproduces).
hypothesis_settings.register_profile("motcua", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "motcua"))

PG_ADMIN_URL = os.environ.get("MOTCUA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = [b for b in os.environ.get("MOTCUA_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


# Tests that take tens of seconds each (generated API requests, browsers, multi-process deployments, the wheel)
# go to the workers first: started last, one of them would keep a worker busy after the others are done.
SLOW_FIRST = ("tests/test_api_robustness.py", "tests/browser/", "tests/security/test_every_page_csp.py",
              "tests/lienthong/test_three_systems.py", "tests/test_wheel.py",
              "tests/security/test_token_refused_at_once_everywhere.py", "tests/security/test_login_throttle.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)), len(SLOW_FIRST))

    items.sort(key=rank)


def load_base(database: Database) -> None:
    with database.transaction() as s:
        org.ensure_reference_data(s)
        create_demo(s)
        catalog.load_catalog(s)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    database = Database(f"sqlite:///{path}")
    schema.upgrade(database.engine)
    load_base(database)
    database.dispose()
    return path


@dataclass
class PgBase:
    """A PostgreSQL database of this test process and a copy of its rows right after `load_base`.

    Each test gets the database back as loaded by deleting every row and copying the snapshot in, in one
    transaction with triggers and foreign keys off (~0.1 s). Truncating and reloading took seconds, and a
    database per test (CREATE … TEMPLATE) costs a checkpoint on every DROP."""

    url: str
    rows: dict[str, bytes]
    sequences: list[tuple[str, int | None]]

    def restore(self, database: Database) -> None:
        raw = database.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("SET session_replication_role = replica")
            for table in self.rows:
                cur.execute(f'DELETE FROM "{table}"')
            for table, data in self.rows.items():
                if data:
                    with cur.copy(f'COPY "{table}" FROM STDIN') as copy:
                        copy.write(data)
            for sequence, last in self.sequences:
                cur.execute("SELECT setval(%s, %s, %s)", (sequence, last or 1, last is not None))
            cur.execute("SET session_replication_role = origin")
            raw.commit()
        finally:
            raw.close()


def _snapshot(database: Database) -> tuple[dict[str, bytes], list[tuple[str, int | None]]]:
    raw = database.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
        rows = {}
        for (table,) in cur.fetchall():
            with cur.copy(f'COPY "{table}" TO STDOUT') as copy:
                rows[table] = b"".join(bytes(block) for block in copy)
        cur.execute("SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences "
                    "WHERE schemaname = 'public'")
        sequences = list(cur.fetchall())
        raw.commit()
        return rows, sequences
    finally:
        raw.close()


@pytest.fixture(scope="session")
def pg_base() -> Iterator[PgBase]:
    name = f"motcua_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"PostgreSQL is required for the suite ({PG_ADMIN_URL}): {e}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    database = Database(url)
    schema.upgrade(database.engine)
    load_base(database)
    rows, sequences = _snapshot(database)
    database.dispose()
    yield PgBase(url, rows, sequences)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with the demo province and the shipped procedures, fresh for each test."""
    if request.param == "sqlite":
        path = tmp_path / "motcua.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        base = request.getfixturevalue("pg_base")
        database = Database(base.url)
        base.restore(database)
        cases.forget_cached_versions()  # ids are reused after the reset
    yield database
    database.dispose()


@dataclass
class World:
    """The demo province seen from a test: users by name and one-line case helpers."""

    db: Database

    def user(self, s: Session, username: str) -> User:
        return s.scalar(select(User).where(User.username == username))

    def receive(self, username: str = "xa_a1_clerk", procedure: str = "ncc_mai_tang", **kw: Any) -> str:
        from engine import cases

        with self.db.transaction() as s:
            user = self.user(s, username)
            # The default applicant lives in the receiving desk's commune (a dossier from elsewhere would be
            # decided where the address says, engine.competence).
            home = user.unit.name.removeprefix("UBND ") if user.unit.name.startswith("UBND ") else "tỉnh Sông Hồng"
            applicant = kw.pop("applicant", {"name": "Nguyễn Văn An", "id_number": "036090001234",
                                             "address": f"Thôn 1, {home}", "phone": "0912345678"})
            if kw.get("received_at") is not None:
                # A test dating a reception means the desk received it then, not a back-dated entry today.
                kw.setdefault("now", kw["received_at"])
            case = cases.receive(s, user, procedure, applicant, kw.pop("data", {}), **kw)
            return case.code

    def open_item(self, code: str) -> tuple[int, str, str]:
        """(work item id, unit code, role) of the case's single open task."""
        from engine import cases
        from engine.models import Case

        with self.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.code == code))
            items = cases.open_items(s, case)
            assert len(items) == 1, [i.name for i in items]
            return items[0].id, items[0].unit.code, items[0].role_code

    def complete(self, username: str, item_id: int, data: dict | None = None, now: datetime | None = None) -> Any:
        from engine import cases

        with self.db.transaction() as s:
            return cases.complete_task(s, self.user(s, username), item_id, data or {}, now=now)

    def complete_next(self, code: str, data: dict | None = None, now: datetime | None = None) -> tuple[str, str]:
        """Complete the case's open task as the demo user of its unit and role; returns (unit, role) done."""
        item_id, unit, role = self.open_item(code)
        self.complete(f"{unit.lower()}_{role}", item_id, data or {"outcome": "approve"}, now=now)
        return unit, role


@pytest.fixture
def world(db: Database) -> World:
    return World(db)


def at(text_value: str) -> datetime:
    """An aware datetime from 'YYYY-MM-DD HH:MM' in Vietnam time."""
    from engine.calendar import VN_TZ

    return datetime.fromisoformat(text_value).replace(tzinfo=VN_TZ)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


@pytest.fixture
def api(db: Database, tmp_path: Path) -> Any:
    """The JSON API of the real app on the test database; `api.post(path, user="xa_a1_clerk", json=...)`."""
    from tests.api_client import Api

    return Api(db, tmp_path)
