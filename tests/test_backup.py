"""An operator's backup is good only if it restores: `motcua backup` of a database holding a case with a
scanned document, `motcua restore` into a new database and a new instance folder, and the case and its file
are there — served to the official byte for byte."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from engine import documents
from engine.config import load_settings
from engine.db import Database
from engine.models import Case
from tests.conftest import PG_ADMIN_URL, World
from tests.helpers import login
from web import create_app

MOTCUA = str(Path(sys.executable).parent / "motcua")
SCAN = b"%PDF-1.4\n% giay bao tu\n" + os.urandom(4096)


def motcua(*args: str, url: str, instance: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "MOTCUA_INSTANCE_PATH": str(instance)}
    return subprocess.run([MOTCUA, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(autouse=True)
def _pg_tools(db: Database) -> None:
    if not db.is_sqlite and not shutil.which("pg_dump"):
        pytest.fail("motcua backup needs pg_dump and pg_restore: apt-get install postgresql-client")


@pytest.fixture
def empty_target(db: Database, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same kind to restore into."""
    if db.is_sqlite:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"motcua_restore_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def test_backup_restores_the_case_and_its_document(world: World, tmp_path: Path, empty_target: str) -> None:
    source_instance = tmp_path / "source"
    code = world.receive()
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        doc = documents.store(s, load_settings(instance_path=source_instance).documents_path, case,
                              world.user(s, "xa_a1_clerk"), "giấy báo tử.pdf", io.BytesIO(SCAN), 10 << 20)
        doc_id = doc.id

    done = motcua("backup", str(tmp_path / "bk"), url=world.db.url, instance=source_instance)
    assert done.returncode == 0, done.stderr
    assert "1 case(s), 1 document(s)" in done.stdout
    again = motcua("backup", str(tmp_path / "bk"), url=world.db.url, instance=source_instance)
    assert again.returncode == 1 and "không trống" in again.stderr  # never overwrites a backup

    target_instance = tmp_path / "restored"
    done = motcua("restore", str(tmp_path / "bk"), url=empty_target, instance=target_instance)
    assert done.returncode == 0, done.stderr
    assert "restored: 1 case(s), 1 document(s)" in done.stdout
    twice = motcua("restore", str(tmp_path / "bk"), url=empty_target, instance=target_instance)
    assert twice.returncode == 1 and "không trống" in twice.stderr  # never restores over live data

    restored = Database(empty_target)
    try:
        app = create_app(load_settings(database_url=empty_target, instance_path=target_instance), database=restored)
        with app.test_client() as browser:
            assert login(browser, "xa_a1_clerk").status_code == 302
            page = browser.get(f"/cases/{code}")
            assert page.status_code == 200 and "Nguyễn Văn An" in page.get_data(as_text=True)
            file = browser.get(f"/cases/{code}/documents/{doc_id}?download=1")
            assert file.status_code == 200 and file.get_data() == SCAN
    finally:
        restored.dispose()


def test_a_damaged_backup_is_refused(world: World, tmp_path: Path, empty_target: str) -> None:
    world.receive()
    assert motcua("backup", str(tmp_path / "bk"), url=world.db.url, instance=tmp_path / "src").returncode == 0
    dump = next(p for p in (tmp_path / "bk").iterdir() if p.name != "documents.tar.gz" and p.suffix != ".json")
    dump.write_bytes(dump.read_bytes()[:-100])
    done = motcua("restore", str(tmp_path / "bk"), url=empty_target, instance=tmp_path / "dst")
    assert done.returncode == 1 and "damaged" in done.stderr
