"""A case's status (the national portal's codes 1–10, TT 01/2018) and the one function that changes it.

Every status change goes through `set_status`, which appends the "status" audit event the Phiếu kiểm soát,
the reports (withdrawals are dated by it) and the ledger read: a change without its event is a hole in the
record. The resolution moment, its timing (early / on time / late) and the return moment are set here too.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy.orm import Session

from engine.audit import append_event
from engine.calendar import classify
from engine.models import Case, User


class Status(IntEnum):
    """Trạng thái hồ sơ — the codes of Cổng dịch vụ công quốc gia."""

    NEW = 1  # Mới đăng ký (online, not yet accepted)
    RECEIVED = 2  # Được tiếp nhận
    NOT_RECEIVED = 3  # Không được tiếp nhận
    PROCESSING = 4  # Đang xử lý
    SUPPLEMENT = 5  # Yêu cầu bổ sung giấy tờ
    FINANCIAL = 6  # Yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWN = 7  # Công dân yêu cầu rút hồ sơ
    STOPPED = 8  # Dừng xử lý
    RESOLVED = 9  # Đã xử lý xong
    RETURNED = 10  # Đã trả kết quả

    @property
    def label(self) -> str:
        return STATUS[self.value]


STATUS: dict[int, str] = {
    1: "Mới đăng ký", 2: "Được tiếp nhận", 3: "Không được tiếp nhận", 4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ", 6: "Yêu cầu thực hiện nghĩa vụ tài chính", 7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý", 9: "Đã xử lý xong", 10: "Đã trả kết quả",
}

# The case's work is over: resolved or returned (counted in the reports' resolved figures).
DONE = (Status.RESOLVED, Status.RETURNED)
# The case ended without a result: withdrawn or stopped.
ENDED = (Status.WITHDRAWN, Status.STOPPED)
# No further step can happen.
FINAL = (Status.NOT_RECEIVED, Status.WITHDRAWN, Status.STOPPED, Status.RESOLVED, Status.RETURNED)


def label(code: int) -> str:
    """The Vietnamese name of a status code (for pages, API and slips)."""
    return STATUS.get(int(code), str(code))


def set_status(session: Session, case: Case, to: int, *, at: datetime, by: User | int | None = None,
               reason: str | None = None) -> bool:
    """Move `case` to status `to`, appending the "status" event (from, to, reason, actor). Returns False when
    the case already has that status (nothing recorded). Reaching 9/10 stamps resolved_at and the timing
    against the appointment of record; 10 stamps returned_at, signs the result documents and offers them to
    the applicant (engine.step_documents)."""
    to = Status(int(to))
    if case.status_code == to:
        return False
    if at.tzinfo is None:
        raise ValueError("status changes need an aware datetime")
    actor_id = by.id if isinstance(by, User) else by
    data: dict = {"from": case.status_code, "to": int(to)}
    if reason:
        data["reason"] = reason
    append_event(session, case, "status", at, actor_id=actor_id, data=data)
    case.status_code = int(to)
    if to in DONE and case.resolved_at is None:
        case.resolved_at = at
        # Against the appointment of record: an apology moves the date for the applicant, not the measure.
        measure = case.original_due_at or case.due_at
        case.timing = classify(at, measure) if measure else None
        if case.supplement_count > 1 and case.timing != "late":
            case.timing = "late"  # QĐ 766: more than one supplement request counts as late
        if case.apology_count and case.timing != "late":
            case.timing = "late"  # an apology with extension (Mẫu 04) admits the case is late, whatever follows
    if to == Status.RETURNED and case.returned_at is None:
        case.returned_at = at
    if to == Status.RETURNED:  # the result leaves the agency now: sign it and tell the applicant where it is
        from engine import step_documents

        docs = step_documents.results(session, case)  # read once for both
        step_documents.sign_results(session, case, at, docs)
        step_documents.offer_results(session, case, at, docs)
    from engine import portal  # the national portal gets every change through the liên thông outbox

    portal.status_changed(session, case, data["from"], int(to), at)
    return True
