"""Scans held for a dossier that was sent back for correction, so the applicant (or the clerk) does not attach
them again: a form refused for a wrong phone number keeps its files under a token the form carries back.

Held files live under `<documents root>/pending/<token>/`, outside any case, for HOLD_HOURS after the last
time the form was sent; they carry personal data, so they are deleted when the dossier is stored (after the
commit) and swept when they expire. A token belongs to one scope (the online form of one procedure, or one
clerk's desk): a token copied elsewhere holds nothing. Each file is checked by content like every document
(PDF/JPEG/PNG, within the size limit) before it is held; a refused file is a problem of its field.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import event
from sqlalchemy.orm import Session

from engine import documents
from engine.models import Case, Document, User

HOLD_HOURS = 2
MAX_FILES = 30  # per token: a form has a file per document and a few others
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
NOT_A_SCAN = "chỉ nhận tệp PDF, JPEG hoặc PNG"
TOO_BIG = "tệp lớn hơn dung lượng cho phép"
TOO_MANY = "quá nhiều tệp đính kèm"
MESSAGES = (NOT_A_SCAN, TOO_BIG, TOO_MANY)
_RELEASE = "motcua_release_pending"


@dataclass
class Upload:
    """One file as it arrives: the document it is for (None: another file), its name and its bytes."""

    doc_code: str | None
    filename: str
    stream: BinaryIO


@dataclass
class HeldFile:
    id: str
    doc_code: str | None
    filename: str
    size: int
    content_type: str


@dataclass
class Held:
    """The files held under a token, and what was wrong with the ones just sent (field → message)."""

    token: str
    files: list[HeldFile] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    expired: bool = False  # the form named a token whose files are gone: attach them again
    added_bytes: int = 0  # bytes held by this call (they stay on disk: the caller counts them)

    @property
    def codes(self) -> list[str | None]:
        return [f.doc_code for f in self.files]

    def for_code(self, code: str | None) -> list[HeldFile]:
        return [f for f in self.files if f.doc_code == code]


def problem_field(doc_code: str | None, prefix: str = "documents") -> str:
    return f"{prefix}.{doc_code}" if doc_code else prefix


def _folder(root: Path, token: str) -> Path:
    return root / "pending" / token


def _read(folder: Path, scope: str) -> list[HeldFile] | None | bool:
    """The files held in `folder` for `scope`; None when there is no such hold (or another scope's), False
    when it was there but has expired."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        used = (folder / "meta.json").stat().st_mtime
    except (OSError, ValueError):
        return None
    if meta.get("scope") != scope:
        return None
    if time.time() - used > HOLD_HOURS * 3600:
        return False
    return [HeldFile(**f) for f in meta.get("files", []) if (folder / f["id"]).is_file()]


def _write(folder: Path, scope: str, files: list[HeldFile]) -> None:
    tmp = folder / f".meta-{secrets.token_hex(4)}"
    tmp.write_text(json.dumps({"scope": scope, "files": [f.__dict__ for f in files]}), encoding="utf-8")
    os.replace(tmp, folder / "meta.json")  # one reader never sees half a list


def load(root: Path, token: str | None, scope: str) -> Held:
    """What is held under `token` for `scope`, without taking anything new (e.g. when the form was stopped by
    the rate limit). An unknown or foreign token holds nothing; the files are then held under a new token."""
    files = _read(_folder(root, token), scope) if token and TOKEN.fullmatch(token) else None
    if files is None or files is False:  # a new hold; tell the applicant when theirs has expired
        return Held(secrets.token_urlsafe(24), expired=files is False)
    return Held(token, files)


def hold(root: Path, token: str | None, scope: str, uploads: list[Upload], max_bytes: int) -> Held:
    """Check the new uploads and hold the good ones with those already held under `token` (a new file for a
    document replaces the one held for it). Expired holds anywhere are swept first."""
    held = load(root, token, scope)
    sweep(root)
    folder = _folder(root, held.token)
    for up in uploads:
        code = (up.doc_code or "")[:100] or None
        where = problem_field(code)
        if len(held.files) >= MAX_FILES:
            held.problems.setdefault(where, TOO_MANY)
            continue
        kept = _keep(folder, up, code, max_bytes)
        if isinstance(kept, str):
            held.problems.setdefault(where, kept)
            continue
        if code is not None:
            for old in held.for_code(code):
                (folder / old.id).unlink(missing_ok=True)
            held.files = [f for f in held.files if f.doc_code != code]
        held.files.append(kept)
        held.added_bytes += kept.size
    if held.files or folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder, scope, held.files)  # also marks the hold as used now (its expiry counts from here)
    return held


def _keep(folder: Path, up: Upload, code: str | None, max_bytes: int) -> HeldFile | str:
    """Copy one upload into the hold, or say why not (not a scan, too big)."""
    head = up.stream.read(16)
    kind = documents.sniff(head)
    if kind is None:
        return NOT_A_SCAN
    folder.mkdir(parents=True, exist_ok=True)
    size = len(head)
    with tempfile.NamedTemporaryFile(dir=folder, delete=False, prefix=".part-") as tmp:
        tmp.write(head)
        while chunk := up.stream.read(documents.CHUNK):
            size += len(chunk)
            if size > max_bytes:
                break
            tmp.write(chunk)
    if size > max_bytes:
        Path(tmp.name).unlink(missing_ok=True)
        return TOO_BIG
    file_id = secrets.token_hex(8)
    os.replace(tmp.name, folder / file_id)
    return HeldFile(file_id, code, documents.safe_name(up.filename), size, kind[0])


def attach(session: Session, root: Path, case: Case, user: User | None, held: Held,
           max_bytes: int) -> list[Document]:
    """Store the held files as the case's documents; the hold is deleted once the transaction commits."""
    folder = _folder(root, held.token)
    out = []
    for f in held.files:
        with (folder / f.id).open("rb") as stream:
            out.append(documents.store(session, root, case, user, f.filename, stream, max_bytes, f.doc_code))
    release_on_commit(session, root, held)
    return out


def release_on_commit(session: Session, root: Path, held: Held) -> None:
    session.info.setdefault(_RELEASE, []).append(_folder(root, held.token))


@event.listens_for(Session, "after_commit")
def _release(session: Session) -> None:
    for folder in session.info.pop(_RELEASE, []):
        shutil.rmtree(folder, ignore_errors=True)


@event.listens_for(Session, "after_rollback")
def _keep_on_rollback(session: Session) -> None:
    session.info.pop(_RELEASE, None)  # nothing was stored: the hold is still the applicant's


def sweep(root: Path, now: float | None = None) -> int:
    """Delete the holds unused for HOLD_HOURS; returns how many."""
    base = root / "pending"
    if not base.is_dir():
        return 0
    limit = (now if now is not None else time.time()) - HOLD_HOURS * 3600
    gone = 0
    for folder in base.iterdir():
        try:
            used = (folder / "meta.json").stat().st_mtime if (folder / "meta.json").exists() else folder.stat().st_mtime
        except OSError:
            continue
        if used < limit:
            shutil.rmtree(folder, ignore_errors=True)
            gone += 1
    return gone


def describe(held: Held) -> dict[str, Any]:
    """What a form shows of a hold: the token and, per document code, the names held."""
    names: dict[str, list[str]] = {}
    for f in held.files:
        names.setdefault(f.doc_code or "", []).append(f.filename)
    return {"token": held.token, "names": names, "expired": held.expired}
