"""Scanned documents attached to a case: checked by content (PDF/JPEG/PNG), size-limited, stored under the
instance's documents folder (outside the web root) by SHA-256, and served only to those who may see the case."""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from engine.dossier_checks import missing_documents
from engine.errors import Invalid, NotFound
from engine.models import Case, Document, Procedure, User, utcnow

# Decided by the file's first bytes, never by its name or the browser's claim.
SIGNATURES = ((b"%PDF-", "application/pdf", ".pdf"), (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
              (b"\x89PNG\r\n\x1a\n", "image/png", ".png"))
CHUNK = 1 << 16


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of an accepted scan, or None."""
    for magic, content_type, ext in SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    return None


def safe_name(filename: str) -> str:
    """The base name of an uploaded file, without characters a file system or a header would misread."""
    name = Path(filename.replace("\\", "/")).name.strip() or "tep-dinh-kem"
    return re.sub(r"[\x00-\x1f<>:\"|?*]", "_", name)[:200]


def store(session: Session, root: Path, case: Case, user: User | None, filename: str, stream: BinaryIO,
          max_bytes: int, doc_code: str | None = None) -> Document:
    """Save one upload for the case; Invalid (with the file name) when it is not a PDF/JPEG/PNG or too big.
    Identical content is stored once on disk (content-addressed)."""
    head = stream.read(16)
    kind = sniff(head)
    shown = safe_name(filename)
    if kind is None:
        raise Invalid.of("upload_type", file=shown, details={"file": shown})
    content_type, ext = kind
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(head), len(head)
    with tempfile.NamedTemporaryFile(dir=root, delete=False, prefix=".upload-") as tmp:
        tmp.write(head)
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                tmp.close()
                Path(tmp.name).unlink(missing_ok=True)
                raise Invalid.of("upload_too_large",
                                 file=shown, max_mb=max_bytes // (1024 * 1024), details={"file": shown})
            digest.update(chunk)
            tmp.write(chunk)
    sha = digest.hexdigest()
    relative = Path(sha[:2]) / f"{sha}{ext}"
    # The file takes its place only when the transaction commits; a rollback removes it (_place, _discard).
    session.info.setdefault(PENDING, []).append((Path(tmp.name), root / relative))
    doc = Document(case_id=case.id, doc_code=doc_code or None, filename=shown, content_type=content_type,
                   size=size, sha256=sha, storage_path=str(relative), uploaded_by_id=user.id if user else None,
                   uploaded_at=utcnow())
    session.add(doc)
    session.flush()
    return doc


PENDING = "motcua_pending_files"


def root_of(session: Session) -> Path:
    """The stored documents' folder of the deployment this session belongs to (Database.keep_documents_in),
    else the default instance's."""
    import os

    from engine.db import DOCUMENTS_ROOT

    root = session.info.get(DOCUMENTS_ROOT)
    if root is not None:
        return Path(root)
    return Path(os.environ.get("MOTCUA_INSTANCE_PATH", "instance")).resolve() / "documents"


def replace_content(session: Session, root: Path, doc: Document, data: bytes) -> None:
    """New bytes for a document (its signed version): stored content-addressed beside the old, which stays on
    disk; the row names the new file, checksum and size, and the file takes its place when the transaction
    commits, like any upload."""
    kind = sniff(data[:16])
    if kind is None or kind[0] != doc.content_type:
        raise Invalid.of("document_type_changed", file=doc.filename, details={"file": doc.filename})
    root.mkdir(parents=True, exist_ok=True)
    sha = hashlib.sha256(data).hexdigest()
    with tempfile.NamedTemporaryFile(dir=root, delete=False, prefix=".upload-") as tmp:
        tmp.write(data)
    relative = Path(sha[:2]) / f"{sha}{kind[1]}"
    session.info.setdefault(PENDING, []).append((Path(tmp.name), root / relative))
    doc.sha256, doc.size, doc.storage_path = sha, len(data), str(relative)
    session.flush()


@event.listens_for(Session, "after_commit")
def _place(session: Session) -> None:
    """Move this transaction's uploads into place: the rows that name them are committed now."""
    for tmp, target in session.info.pop(PENDING, []):
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # content-addressed: the same bytes are already there
            tmp.unlink(missing_ok=True)
        else:
            tmp.replace(target)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    """A failed request leaves no file behind (scans carry personal data)."""
    for tmp, _target in session.info.pop(PENDING, []):
        tmp.unlink(missing_ok=True)


def for_case(session: Session, case: Case) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.case_id == case.id).order_by(Document.id)))


def for_cases(session: Session, case_ids: Iterable[int]) -> dict[int, list[Document]]:
    """Case id -> its documents, for a list of cases in one query."""
    out: dict[int, list[Document]] = {cid: [] for cid in case_ids}
    if out:
        for doc in session.scalars(select(Document).where(Document.case_id.in_(list(out))).order_by(Document.id)):
            out[doc.case_id].append(doc)
    return out


def open_document(session: Session, root: Path, case: Case, document_id: int) -> tuple[Document, Path]:
    """The document row and its file, after checking it belongs to this (already authorised) case and that
    the bytes on disk still match the recorded checksum."""
    doc = session.get(Document, document_id)
    if doc is None or doc.case_id != case.id:
        raise NotFound.of("document_not_found", id=document_id)
    path = (root / doc.storage_path).resolve()
    for tmp, target in session.info.get(PENDING, []):  # stored earlier in this same transaction
        if target.resolve() == path and not path.exists():
            path = tmp
            break
    if not path.resolve().is_relative_to(root.resolve()) or not path.exists():
        raise NotFound.of("document_file_missing", id=document_id)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != doc.sha256:
        raise Invalid.of("document_checksum", file=doc.filename)
    return doc, path


def document_names(procedure: Procedure) -> dict[str, str]:
    return {str(d.get("code")): str(d.get("name") or d.get("code")) for d in procedure.documents}


def missing_required(procedure: Procedure, ticked: list[str]) -> list[str]:
    """Names of the procedure's required documents the clerk did not tick (NĐ 61 Điều 17: a dossier
    missing any of them cannot be accepted)."""
    return [str(d.get("name") or d.get("code")) for d in missing_documents(procedure.documents, ticked)]

