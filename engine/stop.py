"""The applicant's request to stop a dossier — dừng giải quyết (NĐ 118/2025 Điều 21; TT 03/2025 Điều 7).

The applicant asks, in person or by post, before any result exists; the desk records who asked and why.
The case goes 7 (Công dân yêu cầu rút hồ sơ) → 8 (Dừng xử lý) through engine.status.set_status, its open
steps close, its timers stop, and the stop notice (Mẫu 05 of TT 03/2025) is printed from the "stop_notice"
event. Once a decision or result exists the request is refused: there is nothing left to stop.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import inputs, notifications
from engine.case_records import current_time, lock_case
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import Case, Event, User, WorkItem
from engine.routing import may_receive
from engine.status import DONE, FINAL, Status, label, set_status


def refusal(case: Case, user: User) -> str | None:
    """Why `user` cannot record a stop request on `case` now, or None (pages show it instead of the form)."""
    if not may_receive(user) or user.unit_id not in (case.receiving_unit_id, case.competent_unit_id):
        return "Chỉ Bộ phận Một cửa đã tiếp nhận hồ sơ được ghi nhận yêu cầu dừng giải quyết"
    if case.result is not None or case.resolved_at is not None or case.status_code in DONE:
        return "Hồ sơ đã có kết quả giải quyết; không thể dừng giải quyết"
    if case.status_code in FINAL:
        return f"Hồ sơ đã kết thúc ({label(case.status_code)})"
    if case.state is None:
        return "Hồ sơ chưa được tiếp nhận để giải quyết"
    return None


def request_stop(session: Session, user: User, case: Case, reason: str, requested_by: str | None = None,
                 now: datetime | None = None) -> Event:
    """Record the applicant's stop request and stop the case; returns the "stop_notice" event (Mẫu 05)."""
    now = current_time(now)
    check = inputs.Checker()
    reason = check.text("reason", reason, max_length=inputs.REASON_MAX, multiline=True)
    requested_by = check.text("requested_by", requested_by, Case.applicant_name)
    check.done()
    if not reason:
        raise Invalid.of("stop_reason_required", details={"reason": "required"})
    case = lock_case(session, case.id)  # a step completing at the same moment waits, then sees status 8
    why = refusal(case, user)
    if why is not None:
        raise (Forbidden if why.startswith("Chỉ") else Conflict)(why, details={"status_code": case.status_code,
                                                                             "result": case.result})
    who = requested_by or case.applicant_name
    session.add(Event(case_id=case.id, kind="stop_requested", at=now, actor_id=user.id, to_unit_id=user.unit_id,
                      data={"reason": reason, "requested_by": who}))
    set_status(session, case, Status.WITHDRAWN, at=now, by=user, reason=reason)
    for item in session.scalars(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open")):
        item.state = "cancelled"
        session.add(Event(case_id=case.id, kind="task_cancelled", at=now, actor_id=user.id,
                          from_unit_id=item.unit_id, step=item.name, step_bpmn_id=item.task_bpmn_id,
                          data={"why": "stop_requested"}))
    set_status(session, case, Status.STOPPED, at=now, by=user, reason=reason)
    case.next_timer_at = None
    case.paused_at = None
    case.current_unit_id = case.receiving_unit_id
    notice = Event(case_id=case.id, kind="stop_notice", at=now, actor_id=user.id, from_unit_id=user.unit_id,
                   data={"reason": reason, "requested_by": who})
    session.add(notice)
    notifications.notify_applicant(session, case, "stopped",
                                   f"Kính gửi {case.applicant_name}: theo yêu cầu của {who}, hồ sơ {case.code} đã "
                                   f"được dừng giải quyết. Lý do: {reason}.", now)
    session.flush()
    return notice
