"""Backup and restore of one installation: the database (pg_dump's custom format on PostgreSQL, SQLite's
online backup) and the scanned documents under MOTCUA_INSTANCE_PATH/documents, into one folder with a
manifest. The database is copied first and the documents second: a document row is committed only after its
file is written, so every row in the copy finds its file (a file without a row is harmless: content-addressed).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from engine.config import Settings
from engine.db import Database
from engine.errors import Invalid
from engine.models import Case, Document, utcnow

MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "motcua.db"
DOCUMENTS = "documents.tar.gz"


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore arguments for a SQLAlchemy URL; the password goes in the environment, not argv."""
    u = make_url(url)
    env = {**os.environ, **({"PGPASSWORD": u.password} if u.password else {})}
    args = [f"--host={u.host or '127.0.0.1'}", f"--port={u.port or 5432}", f"--dbname={u.database}"]
    return args + ([f"--username={u.username}"] if u.username else []), env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise Invalid.of("backup_command_failed", command=cmd[0], error=done.stderr.strip()[:2000])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _counts(database: Database) -> dict[str, int]:
    with database.transaction() as s:
        return {"cases": s.scalar(select(func.count()).select_from(Case)) or 0,
                "documents": s.scalar(select(func.count()).select_from(Document)) or 0}


def backup(database: Database, settings: Settings, folder: Path) -> dict[str, Any]:
    """Write the database and the documents into `folder` (new or empty); returns the manifest."""
    if folder.exists() and any(folder.iterdir()):
        raise Invalid.of("backup_folder_not_empty", folder=str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    if database.is_sqlite:
        target = sqlite3.connect(folder / SQLITE_COPY)
        source = sqlite3.connect(make_url(database.url).database)
        with target:
            source.backup(target)  # consistent while the application keeps writing
        source.close()
        target.close()
        files = [SQLITE_COPY]
    else:
        args, env = _libpq(database.url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={folder / PG_DUMP}", *args], env)
        files = [PG_DUMP]
    with tarfile.open(folder / DOCUMENTS, "w:gz") as tar:
        if settings.documents_path.is_dir():
            tar.add(settings.documents_path, arcname="documents")
    files.append(DOCUMENTS)
    manifest = {"created_at": utcnow().isoformat(), "backend": database.engine.dialect.name,
                **_counts(database), "files": {name: _sha256(folder / name) for name in files}}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def restore(database: Database, settings: Settings, folder: Path) -> dict[str, Any]:
    """Restore a backup into an empty database and an instance without documents; returns what is there and
    the documents whose file is missing (there should be none)."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    for name, sha in manifest["files"].items():
        if _sha256(folder / name) != sha:
            raise Invalid.of("backup_damaged", file=str(folder / name))
    backend = database.engine.dialect.name
    if manifest["backend"] != backend:
        raise Invalid.of("backup_backend", found=manifest["backend"], backend=backend)
    if inspect(database.engine).get_table_names():
        raise Invalid.of("restore_database_not_empty")
    documents = settings.documents_path
    if documents.exists() and any(documents.iterdir()):
        raise Invalid.of("restore_documents_not_empty", folder=str(documents))
    if database.is_sqlite:
        database.dispose()
        shutil.copyfile(folder / SQLITE_COPY, make_url(database.url).database)
    else:
        args, env = _libpq(database.url)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *args, str(folder / PG_DUMP)], env)
    documents.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / DOCUMENTS, "r:gz") as tar:
        tar.extractall(documents.parent, filter="data")  # no absolute paths, links out or device files
    with database.transaction() as s:
        stored = s.execute(select(Document.storage_path, Document.size)).all()
    missing = [path for path, size in stored
               if not (documents / path).is_file() or (documents / path).stat().st_size != size]
    return {**_counts(database), "missing_documents": missing}
