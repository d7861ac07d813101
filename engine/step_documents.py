"""Documents attached at a step (the signed decision, a list): checked like reception scans, linked to the
step, optionally marked as the result (kết quả giải quyết) that the applicant may download once the case is
returned. A result PDF leaves here signed by the uploading official's agency unless it already carries a
valid signature (engine.signing)."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import documents, signing
from engine.errors import Conflict, Invalid, NotFound
from engine.models import Case, Document, User, WorkItem
from engine.status import Status


def attachments_rule(node: dict | None, schema: dict | None) -> str | None:
    """None (no attachments), "optional" or "required": the diagram's `attachments` property, else the form's
    top-level `"attachments"`."""
    rule = (node or {}).get("attachments") or (schema or {}).get("attachments")
    return str(rule) if rule in ("optional", "required") else None


def attach(session: Session, root: Path, user: User, item: WorkItem, filename: str, stream: BinaryIO,
           max_bytes: int, result: bool = False) -> Document:
    """Store an upload for the open step `item` held by `user` (the caller checked who may act)."""
    from engine.tasks import _ensure_assignee  # engine.tasks calls this module when a step completes

    if item.state != "open":
        raise Conflict(f"Bước «{item.name}» không còn mở để đính kèm tài liệu")
    _ensure_assignee(user, item)
    if result:
        # Read (bounded) to sign before storing: the stored bytes and their SHA-256 are the signed PDF.
        data = stream.read(max_bytes + 1)
        if data.startswith(b"%PDF-") and len(data) <= max_bytes and not signing.is_validly_signed(data):
            data = signing.sign(data, user.unit.agency_code, reason="Kết quả giải quyết thủ tục hành chính")
        stream = io.BytesIO(data)
        max_bytes = max(max_bytes, len(data))  # the signature adds a few KB to an upload at the limit
    doc = documents.store(session, root, item.case, user, filename, stream, max_bytes)
    doc.work_item_id, doc.is_result = item.id, bool(result)
    session.flush()
    return doc


def for_item(session: Session, item: WorkItem) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.work_item_id == item.id).order_by(Document.id)))


def check_completion(session: Session, item: WorkItem, rule: str | None, listed: Any) -> None:
    """Before a step completes: the documents it lists must be its own, and a step whose form requires
    attachments needs at least one. 422 naming `documents`."""
    if listed is None and rule != "required":
        return  # nothing listed and nothing required: the step's documents need not be read
    have = {d.id for d in for_item(session, item)}
    if listed is not None:
        if not isinstance(listed, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in listed):
            raise Invalid("documents must be a list of document ids", details={"documents": "invalid"})
        foreign = [i for i in listed if i not in have]
        if foreign:
            raise Invalid(f"Tài liệu {foreign} không được đính kèm ở bước «{item.name}»",
                          details={"documents": f"không thuộc bước này: {foreign}"})
    if rule == "required" and not have:
        raise Invalid(f"Bước «{item.name}» cần đính kèm tài liệu", details={"documents": "required"})


def results(session: Session, case: Case) -> list[Document]:
    """The result documents of a returned case (what the applicant may download), else none."""
    if case.status_code != Status.RETURNED:
        return []
    return list(session.scalars(select(Document).where(Document.case_id == case.id, Document.is_result.is_(True))
                                .order_by(Document.id)))


def offer_results(session: Session, case: Case, now: datetime) -> None:
    """On return: tell the applicant by e-mail (the outbox, when the dossier has an address) which result
    documents wait for them and where. The link carries the code only; the secret stays on the receipt."""
    from engine import notifications
    from engine.slip_data import lookup_url

    docs = results(session, case)
    if docs:
        names = ", ".join(d.filename for d in docs)
        notifications.notify_applicant(
            session, case, "results",
            f"Hồ sơ {case.code} đã có kết quả giải quyết điện tử ({names}), có chữ ký số của cơ quan giải quyết. "
            f"Tải về tại {lookup_url(case)} bằng mã hồ sơ và mã tra cứu in trên giấy tiếp nhận.", now=now)


def result_document(session: Session, case: Case, document_id: int) -> Document:
    for doc in results(session, case):
        if doc.id == document_id:
            return doc
    raise NotFound(f"document {document_id} not found")
