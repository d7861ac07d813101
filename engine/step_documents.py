"""Documents attached at a step (the signed decision, a list): checked like reception scans, linked to the
step, optionally marked as the result (kết quả giải quyết) that the applicant may download once the case is
returned.

A result PDF is signed when the case is returned (`sign_results`), not when it is uploaded: the agency signs
what it actually issues, an upload made before the agency's key was installed is still signed, and until the
return the stored file is exactly what the official uploaded. It is signed by the agency of the step it was
attached at (its successor if that unit was merged away), unless it already carries a valid signature
(engine.signing); the `result_signed` event keeps the checksum of the upload and of the signed file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import documents, signing
from engine.errors import Conflict, Invalid, NotFound
from engine.models import Case, Document, User, WorkItem
from engine.status import Status

RESULT_REASON = "Kết quả giải quyết thủ tục hành chính"


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
        raise Conflict.of("step_not_open_to_attach", step=item.name)
    _ensure_assignee(user, item)
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
            raise Invalid.of("document_ids_list", details={"documents": "invalid"})
        foreign = [i for i in listed if i not in have]
        if foreign:
            raise Invalid.of("documents_of_other_step", ids=foreign, step=item.name,
                          details={"documents": f"không thuộc bước này: {foreign}"})
    if rule == "required" and not have:
        raise Invalid.of("step_needs_documents", step=item.name, details={"documents": "required"})


def results(session: Session, case: Case) -> list[Document]:
    """The result documents of a returned case (what the applicant may download), else none."""
    if case.status_code != Status.RETURNED:
        return []
    # Only documents changed in this transaction must reach the database before the query: the step's own
    # writes (case, steps, events) stay held for its one write (engine.step_writes) instead of an autoflush.
    if any(isinstance(o, Document) for o in (*session.new, *session.dirty)):
        session.flush()
    # Asked first by a plain Core query, which neither flushes nor writes the step's held events: most returns
    # carry no result document.
    ids = list(session.connection().scalars(select(Document.id).where(Document.case_id == case.id,
                                                                      Document.is_result.is_(True))))
    if not ids:
        return []
    with session.no_autoflush:
        return list(session.scalars(select(Document).where(Document.id.in_(ids)).order_by(Document.id)))


def sign_results(session: Session, case: Case, now: datetime, docs: list[Document] | None = None) -> list[Document]:
    """On return: sign each result PDF not yet validly signed, by the agency of the step that attached it. An
    agency without a key leaves it unsigned (engine.signing logs it); the documents signed now are returned."""
    from engine.case_records import add_event
    from engine.unit_history import current_unit

    root = documents.root_of(session)
    signed = []
    for doc in results(session, case) if docs is None else docs:
        if doc.content_type != "application/pdf":
            continue
        doc, path = documents.open_document(session, root, case, doc.id)
        data = path.read_bytes()
        if signing.is_validly_signed(data):
            continue
        step = session.get(WorkItem, doc.work_item_id) if doc.work_item_id else None
        unit = current_unit(session, step.unit) if step is not None else (doc.uploaded_by.unit if doc.uploaded_by
                                                                         else case.receiving_unit)
        out = signing.sign(data, unit.agency_code, reason=RESULT_REASON)
        if out == data:
            continue
        before = doc.sha256
        documents.replace_content(session, root, doc, out)
        add_event(session, case, "result_signed", now, from_unit_id=unit.id,
                  data={"document": doc.id, "filename": doc.filename, "agency": unit.agency_code,
                        "sha256_uploaded": before, "sha256_signed": doc.sha256})
        signed.append(doc)
    return signed


def offer_results(session: Session, case: Case, now: datetime, docs: list[Document] | None = None) -> None:
    """On return: tell the applicant by e-mail (the outbox, when the dossier has an address) which result
    documents wait for them and where. The link carries the code only; the secret stays on the receipt."""
    from engine import notifications
    from engine.slip_data import lookup_url

    docs = results(session, case) if docs is None else docs
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
    raise NotFound.of("document_not_found", id=document_id)
