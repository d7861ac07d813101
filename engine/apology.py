"""Apology and new appointment — Phiếu xin lỗi và hẹn lại ngày trả kết quả (NĐ 61/2018 Điều 19.9, Mẫu 04).

A case that will be late: at the latest one working day before its due date the responsible unit sends
the applicant an apology with the reason and a new date. Once per case. The case's due_at moves; the
appointment of record (original_due_at) stays, and the case is still measured against it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import inputs, notifications
from engine.calendar import VN_TZ
from engine.case_records import current_time, lock_case
from engine.deadlines import calendar_for, one_working_day_before
from engine.errors import Conflict, Forbidden, Invalid, MotcuaError
from engine.models import Case, Event, User, WorkItem, utcnow
from engine.notifications import local_text
from engine.status import Status

# Paused (5) cases have no running clock; resolved (9, 10) and refused (3) ones are past apologising.
APOLOGY_STATUSES = (Status.RECEIVED, Status.PROCESSING, Status.FINANCIAL)


def responsible_unit_ids(session: Session, case: Case) -> set[int]:
    """The units that hold the case's open steps, and the desk that received it (which returns the result)."""
    held = set(session.scalars(select(WorkItem.unit_id).where(WorkItem.case_id == case.id,
                                                              WorkItem.state == "open")))
    return held | {case.receiving_unit_id}


def apology_opens_at(session: Session, case: Case) -> datetime | None:
    """From when the apology may be issued: one working day before the due moment."""
    if case.due_at is None:
        return None
    return one_working_day_before(calendar_for(session), case.due_at)


def _refusal(session: Session, user: User, case: Case, now: datetime) -> MotcuaError | None:
    if case.state is None or case.status_code not in APOLOGY_STATUSES or case.due_at is None:
        return Conflict.of("apology_case_not_processing")
    if case.apology_count >= 1:
        return Conflict.of("apology_already_given")
    if user.unit_id not in responsible_unit_ids(session, case):
        return Forbidden.of("apology_forbidden")
    opens = apology_opens_at(session, case)
    if opens is not None and now < opens:
        return Conflict.of("apology_too_early", opens=local_text(opens))
    return None


def can_apologise(session: Session, user: User, case: Case, now: datetime | None = None) -> str | None:
    """None when `user` may issue the apology now, else the reason why not (shown instead of the form)."""
    refusal = _refusal(session, user, case, now or utcnow())
    return refusal.message if refusal else None


def issue_apology(session: Session, user: User, case: Case, reason: str, new_due_at: datetime,
                  now: datetime | None = None) -> Event:
    """Issue the apology and the new appointment; returns the "apology" event that Mẫu 04 is printed from."""
    now = current_time(now)
    check = inputs.Checker()
    reason = check.text("reason", reason, max_length=inputs.REASON_MAX, multiline=True)
    check.moment("new_due_at", new_due_at)
    check.done()
    if not reason:
        raise Invalid.of("apology_reason_required", details={"reason": "required"})
    if len(reason) > inputs.REASON_MAX:
        raise Invalid.of("apology_reason_too_long", max=inputs.REASON_MAX, details={"reason": "too long"})
    if not isinstance(new_due_at, datetime):
        raise Invalid.of("apology_date_required", details={"new_due_at": str(new_due_at)})
    if new_due_at.tzinfo is None:
        new_due_at = new_due_at.replace(tzinfo=VN_TZ)
    case = lock_case(session, case.id)  # two officials apologising at once: the second sees apology_count
    refusal = _refusal(session, user, case, now)
    if refusal is not None:
        raise refusal
    if new_due_at <= case.due_at:
        raise Invalid.of("apology_date_not_after", due=local_text(case.due_at),
                      details={"new_due_at": new_due_at.isoformat()})
    if not calendar_for(session).is_working_day(new_due_at.astimezone(VN_TZ).date()):
        raise Invalid.of("apology_not_working_day", day=f"{new_due_at.astimezone(VN_TZ):%d/%m/%Y}",
                      details={"new_due_at": new_due_at.isoformat()})
    previous = case.due_at
    case.original_due_at = case.original_due_at or previous
    case.due_at = new_due_at
    case.apology_count += 1
    event = Event(case_id=case.id, kind="apology", at=now, actor_id=user.id, from_unit_id=user.unit_id,
                  data={"reason": reason, "previous_due_at": previous.isoformat(),
                        "new_due_at": new_due_at.isoformat()})
    session.add(event)
    message = (f"Kính gửi {case.applicant_name}: cơ quan giải quyết xin lỗi vì hồ sơ {case.code} chưa thể trả "
               f"kết quả đúng hẹn ({local_text(previous)}). Lý do: {reason}. Ngày hẹn trả kết quả mới: "
               f"{local_text(new_due_at)}.")
    notifications.notify_applicant(session, case, "apology", message, now)
    session.flush()
    return event
