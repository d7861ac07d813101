"""Supplements — bổ sung, hoàn thiện hồ sơ (NĐ 61/2018 Điều 17.2 and 19.4; Mẫu 02 of TT 01/2018).

Two ways a dossier waits for its applicant, and how each completes:
- At the desk, before reception: the clerk issues Mẫu 02 and records the incomplete dossier (status 3, result
  "incomplete", no workflow). When the applicant comes back, "tiếp nhận bổ sung" opens the reception form
  prefilled from that record; receiving it creates the case (its own code and appointment, counted from this
  day) and links the first attempt to it, which then reads "Đã tiếp nhận bổ sung" instead of waiting.
- While processing: a step marked `supplement` pauses the case (engine.projection); the applicant hears what is
  missing by e-mail and on the lookup page, uploads it there (code + secret), and the desk's waiting step
  completes when the clerk accepts it; the time limit then restarts from zero with a new appointment.
(Online dossiers asked for more before their acceptance go through engine.public: they wait in status 5 and
come back to the desk's online list.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from engine import documents, dossier_checks, inputs, notifications, reception
from engine.calendar import VN_TZ
from engine.case_records import add_event, current_time, get_case, lock_case
from engine.documents import for_case as documents_of
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Case, Document, Event, User, WorkItem
from engine.routing import may_receive
from engine.status import Status

# What the desk keeps of an incomplete dossier besides the applicant, so the form can be filled in again.
KEPT = ("documents_received", "proxy", "competent_unit", "return_channel", "channel")
MISSING_KEYS = ("missing_documents", "giay_to_can_bo_sung")


def missing_documents(data: dict | None) -> list[str]:
    """What the applicant must add, from a dossier's data: the desk's list (missing_documents) and the
    reviewer's free text (giay_to_can_bo_sung, one document a line)."""
    data = data or {}
    missing = [str(m).strip() for m in data.get("missing_documents") or [] if str(m).strip()]
    text = str(data.get("giay_to_can_bo_sung") or "").strip()
    missing.extend(line.strip(" -•\t") for line in text.splitlines() if line.strip(" -•\t"))
    return missing


def intake_state(case: Case) -> str | None:
    """How an incomplete-at-the-desk dossier reads in lists: "waiting" (Chờ bổ sung) until the applicant
    comes back, then "received" (Đã tiếp nhận bổ sung); None for every other case (its status says it)."""
    if case.result != "incomplete" or case.status_code != Status.NOT_RECEIVED:
        return None
    return "received" if case.supplemented_by_id else "waiting"


def public_due(case: Case) -> datetime | None:
    """The appointment the applicant is shown: none while the dossier waits for their supplement (the old one
    no longer holds; the time limit restarts from zero when it is complete)."""
    return None if case.status_code == Status.SUPPLEMENT else case.due_at


# --- at the desk ----------------------------------------------------------------------------------------


def _first_attempt(session: Session, user: User, code: str, lock: bool = False) -> Case:
    """The user's desk's incomplete dossier `code`, still waiting for its supplement (locked when asked)."""
    code = inputs.text("supplement_of", code, Case.code)
    case = session.scalar(select(Case).where(Case.code == code))
    if case is None or not (user.has_role("admin") or case.receiving_unit_id == user.unit_id):
        raise NotFound.of("case_not_found", code=code)
    if not may_receive(user):
        raise Forbidden.of("supplement_desk_only")
    if lock:
        case = lock_case(session, case.id)
    if intake_state(case) is None:
        raise Conflict.of("supplement_not_waiting_desk", code=code, details={"supplement_of": "not_incomplete"})
    if case.supplemented_by_id:
        later = session.get(Case, case.supplemented_by_id)
        raise Conflict.of("supplement_already_received",
                          code=code, later=later.code if later else "",
                          details={"supplement_of": "already_received", "case": later.code if later else None})
    return case


def prefill(session: Session, user: User, code: str) -> dict[str, Any]:
    """The reception form as the desk left it when it issued Mẫu 02: applicant, documents ticked, proxy,
    channel, competent unit, return channel; plus what was missing, for the clerk to check off."""
    case = _first_attempt(session, user, code)
    data = case.data or {}
    form: dict[str, Any] = {f: getattr(case, f"applicant_{f}") or "" for f in dossier_checks.APPLICANT_FIELDS}
    form.update(docs=[str(d) for d in data.get("documents_received") or []], channel=case.channel,
                competent_unit=data.get("competent_unit") or "", return_channel=data.get("return_channel") or "")
    for key, value in (data.get("proxy") or {}).items():
        form[f"proxy_{key}"] = str(value)
    return {"procedure": case.procedure.code, "form": form, "missing": missing_documents(data),
            "note": case.intake_note or "", "case": case,
            "documents": documents.for_case(session, case)}


def receive_at_desk(session: Session, user: User, supplement_of: str, applicant: dict, data: dict | None = None,
                    channel: str | None = None, competent_unit: str | None = None,
                    return_channel: str | None = None, now: datetime | None = None,
                    documents: list[str] | None = None, held: Any = None) -> Case:
    """Tiếp nhận bổ sung: receive the completed dossier as a new case (code and appointment from today, as
    for any reception) linked to its incomplete first attempt, whose scans it keeps. Of two clerks receiving
    the same supplement at once, one wins; the other gets a Conflict naming the case already received."""
    now = current_time(now)
    first = _first_attempt(session, user, supplement_of, lock=True)
    case = reception.receive(session, user, first.procedure.code, applicant, data, channel=channel or first.channel,
                             now=now, competent_unit=competent_unit, return_channel=return_channel,
                             documents=documents, held=held)
    first.supplemented_by_id = case.id
    # The scans handed in the first time are part of this dossier: the same stored files, listed again.
    for doc in documents_of(session, first):  # `documents` here is the parameter: the codes ticked
        session.add(Document(case_id=case.id, doc_code=doc.doc_code, filename=doc.filename,
                             content_type=doc.content_type, size=doc.size, sha256=doc.sha256,
                             storage_path=doc.storage_path, uploaded_by_id=doc.uploaded_by_id,
                             uploaded_at=doc.uploaded_at))
    missing = missing_documents(first.data)
    add_event(session, first, "supplement_received", now, actor_id=user.id, to_unit_id=user.unit_id,
              data={"case": case.code})
    add_event(session, case, "supplement_of", now, actor_id=user.id, to_unit_id=user.unit_id,
              data={"case": first.code, "missing": missing})
    session.flush()
    return case


def links(session: Session, case: Case) -> dict[str, Case | None]:
    """The other end of a desk supplement: `of` the first attempt this case completed, `by` the case that
    received this incomplete dossier."""
    of = session.scalar(select(Case).where(Case.supplemented_by_id == case.id)) if case.id else None
    by = session.get(Case, case.supplemented_by_id) if case.supplemented_by_id else None
    return {"of": of, "by": by}


# --- while processing: the applicant is told, uploads, the desk accepts ------------------------------------


def waiting_step(session: Session, case: Case) -> WorkItem | None:
    """The case's open step waiting for the applicant (a `supplement` step), if any."""
    return session.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open",
                                                 WorkItem.supplement.is_(True)).order_by(WorkItem.id).limit(1))


def _local(moment: datetime | None) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if moment else ""


def on_paused(session: Session, case: Case, item: WorkItem, data: dict | None, now: datetime) -> None:
    """A step asked for a supplement: the applicant hears by e-mail what is missing (Mẫu 02 lists all of it
    at once), that the time limit stops, and where to send it."""
    missing = missing_documents(data)
    listed = "; ".join(missing) if missing else "theo hướng dẫn của cơ quan giải quyết"
    notifications.notify_applicant(
        session, case, "supplement",
        f"Hồ sơ {case.code} ({case.procedure.name}) cần bổ sung, hoàn thiện: {listed}. Thời hạn giải quyết tạm "
        "dừng và được tính lại từ đầu khi hồ sơ đầy đủ. Ông/bà gửi giấy tờ bổ sung tại trang tra cứu hồ sơ "
        "(mã hồ sơ và mã tra cứu) hoặc tại Bộ phận Một cửa.", now=now)


def on_resumed(session: Session, case: Case, now: datetime) -> None:
    """The dossier is complete again: the applicant hears the new appointment."""
    notifications.notify_applicant(
        session, case, "supplement_accepted",
        f"Hồ sơ {case.code} đã được tiếp nhận bổ sung lúc {_local(now)}. Thời hạn giải quyết được tính lại; "
        f"ngày hẹn trả kết quả mới: {_local(case.due_at)}.", now=now)


def uploads_since_request(session: Session, case: Case) -> list[Document]:
    """What the applicant sent for the step now waiting (their uploads carry no official)."""
    item = waiting_step(session, case)
    if item is None:
        return []
    return list(session.scalars(select(Document).where(Document.work_item_id == item.id,
                                                       Document.uploaded_by_id.is_(None)).order_by(Document.id)))


def upload(session: Session, case: Case, note: str, uploads: list[Any], documents_root: Any, max_bytes: int,
           now: datetime | None = None) -> list[Document]:
    """The applicant's supplement for a case paused during processing (the caller checked code and secret):
    each file checked like every upload (PDF/JPEG/PNG, size) and attached to the waiting step, the desk told.
    The case stays paused until the desk accepts it (accept)."""
    now = current_time(now)
    note = inputs.text("note", note, max_length=2000, multiline=True)
    if not uploads:
        raise Invalid.of("supplement_documents_required", details={"documents": "required"})
    case = lock_case(session, case.id)
    item = waiting_step(session, case) if case.status_code == Status.SUPPLEMENT else None
    if item is None:
        raise Conflict.of("supplement_not_waiting", details={"status_code": case.status_code})
    docs = []
    for up in uploads:
        doc = documents.store(session, documents_root, case, None, up.filename, up.stream, max_bytes,
                              doc_code=up.doc_code)
        doc.work_item_id = item.id
        docs.append(doc)
    add_event(session, case, "supplement_uploaded", now, to_unit_id=item.unit_id, step=item.name,
              step_bpmn_id=item.task_bpmn_id, data={"documents": [d.filename for d in docs], "note": note})
    desk = notifications.unit_role_users(session, [(item.unit_id, item.role_code)])
    notifications.add_many(session, [{"user_id": r.user_id, "case_id": case.id, "kind": "supplement_uploaded",
                                      "message": f"Người nộp đã gửi bổ sung cho hồ sơ {case.code}: "
                                                 f"{', '.join(d.filename for d in docs)}",
                                      "created_at": now} for r in desk.get((item.unit_id, item.role_code), [])])
    session.flush()
    return docs


def accept(session: Session, user: User, code: str, note: str = "", now: datetime | None = None) -> Case:
    """The desk accepts the supplement: the waiting step completes with what was received (its form's
    ngay_nhan_bo_sung / giay_to_da_bo_sung / ghi_chu), the case resumes and its clock restarts from zero."""
    from engine.tasks import complete_task  # engine.tasks → projection → this module

    now = current_time(now)
    note = inputs.text("note", note, max_length=2000, multiline=True)
    case = get_case(session, user, code)
    item = waiting_step(session, case)
    if item is None:
        raise Conflict.of("supplement_no_step", code=case.code, details={"status_code": case.status_code})
    sent = [d.filename for d in uploads_since_request(session, case)]
    data = {"ngay_nhan_bo_sung": now.astimezone(VN_TZ).date().isoformat(),
            "giay_to_da_bo_sung": "\n".join(sent), "ghi_chu": note}
    return complete_task(session, user, item.id, {k: v for k, v in data.items() if v}, now=now).case


def count_received(session: Session, unit_ids: list[int]) -> int:
    """Supplements received and waiting for the desk of `unit_ids`: steps waiting for the applicant to which
    the applicant has uploaded something, plus online dossiers sent back with their supplement before their
    acceptance (status 1 again, engine.public.supplement_online)."""
    if not unit_ids:
        return 0
    uploaded = exists().where(Document.work_item_id == WorkItem.id, Document.uploaded_by_id.is_(None))
    steps = select(func.count()).select_from(WorkItem).where(
        WorkItem.unit_id.in_(unit_ids), WorkItem.state == "open", WorkItem.supplement.is_(True), uploaded)
    came_back = exists().where(Event.case_id == Case.id, Event.kind == "supplemented_online")
    online = select(func.count()).select_from(Case).where(
        Case.receiving_unit_id.in_(unit_ids), Case.status_code == Status.NEW, Case.state.is_(None),
        Case.channel == "online", came_back)
    return int(session.scalar(steps) or 0) + int(session.scalar(online) or 0)

