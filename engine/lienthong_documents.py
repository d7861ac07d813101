"""Documents travel with liên thông messages: their bytes ride base64-encoded inside the signed envelope.

The outbox row keeps only what the case envelope lists (code, name, type, size, SHA-256); the dispatcher reads
the bytes from this instance's content-addressed store when it signs the message, so the database does not
hold a second copy and a retried message carries the same bytes. The receiver checks every document's
SHA-256 against the bytes it got before storing anything: a mismatch refuses the whole message (422), which
rolls back its inbox row, so the sender retries and, after N attempts, shows an incident
(docs/lien-thong.md, "Tài liệu đi kèm thư", says why bytes in the envelope and not a fetch back).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine import documents
from engine.errors import Invalid
from engine.models import Case, Document

EXTENSIONS = {content_type: ext for _magic, content_type, ext in documents.SIGNATURES}


@dataclass(frozen=True)
class Files:
    """Where this instance keeps documents and how large one may be (the receiver's upload limit)."""

    root: Path
    max_bytes: int


def with_content(body: dict, root: Path) -> dict:
    """The body with each listed document's bytes added (`content`, base64), read from the store by its
    SHA-256. A file missing or changed on disk is sent without content under its recorded hash — the
    receiver then refuses it, and the incident names the document, rather than the sender hiding it."""
    docs = body.get("documents")
    if not docs:
        return body
    out = []
    for doc in docs:
        sha, ext = str(doc.get("sha256") or ""), EXTENSIONS.get(str(doc.get("content_type")), "")
        path = root / sha[:2] / f"{sha}{ext}"
        entry = dict(doc)
        if sha and path.is_file():
            entry["content"] = base64.b64encode(path.read_bytes()).decode()
        out.append(entry)
    return {**body, "documents": out}


def store_received(session: Session, files: Files | None, case: Case, docs: list, result: bool) -> list[dict]:
    """Verify and store the documents of a received message for `case`; the envelope's entries, without
    their bytes, with the new document id. Invalid (the sender retries, then reports) on a bad entry, a
    missing content or a SHA-256 that is not the bytes'."""
    listed = []
    for i, doc in enumerate(docs):
        name, data = verified(i, doc)
        entry = {k: v for k, v in doc.items() if k != "content"}
        if files is not None:
            stored = documents.store(session, files.root, case, None, name, io.BytesIO(data), files.max_bytes,
                                     doc_code=str(doc.get("code") or "") or None)
            stored.is_result = result and bool(doc.get("result"))
            entry["document_id"] = stored.id
        listed.append(entry)
    session.flush()
    return listed


def verified(i: int, doc: Any) -> tuple[str, bytes]:
    """(file name, bytes) of the i-th document of a message, or Invalid naming `documents[i]…` when the
    entry is malformed, carries no content or its SHA-256 is not that of its bytes."""
    if not isinstance(doc, dict):
        raise Invalid.of("partner_documents_shape", details={f"documents[{i}]": "phải là object"})
    name = str(doc.get("filename") or doc.get("code") or f"tai-lieu-{i + 1}")
    content, sha = doc.get("content"), str(doc.get("sha256") or "").lower()
    if not isinstance(content, str):
        raise Invalid.of("partner_document_no_content", name=name, details={f"documents[{i}].content": "required"})
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as e:
        raise Invalid.of("partner_document_not_base64",
                         name=name, details={f"documents[{i}].content": "base64"}) from e
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha:
        raise Invalid.of("partner_document_sha_mismatch",
                         name=name, actual=actual[:12], expected=sha[:12],
                         details={f"documents[{i}].sha256": "mismatch"})
    return name, data


def envelope_entry(doc: Document) -> dict:
    """What the case envelope says about one document (its bytes are added when the message is sent)."""
    return {"code": doc.doc_code, "filename": doc.filename, "content_type": doc.content_type, "size": doc.size,
            "sha256": doc.sha256, "result": bool(doc.is_result)}
