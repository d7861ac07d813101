"""Incidents: cases stuck on a routing error (a step whose level has no unit on the case's path) or a failing
script (a timer whose diagram expression raised). The administrator sees them in one list — page, API and
`motcua cases stuck` — fixes the cause (adds the unit, corrects the calendar or the data) and retries the case
— `POST /api/v1/cases/{code}/retry`, `motcua case retry CODE`.

A stuck case is one whose `error` is set: engine.cases records it when it cannot route a ready step, the
scheduler when a timer fails. Retrying routes the unrouted steps again or fires the failed timer now, under
the case's row lock; what is still wrong stays recorded and is answered as a 409 naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from engine.case_records import lock_case
from engine.errors import Conflict, Forbidden, NotFound
from engine.models import Case, Event, User, WorkItem, utcnow
from engine.projection import fire_timers
from engine.status import Status, label
from engine.tasks import retry_routing

ERROR_EVENTS = ("routing_error", "timer_error")
TIMER_PREFIX = "timer: "  # how the scheduler marks a failed timer in Case.error


@dataclass
class Incident:
    code: str
    procedure: str
    receiving_unit: str
    status: str
    kind: str  # routing | script
    error: str
    since: datetime | None  # the first error event since the case last moved
    open_steps: int


def _ensure_admin(user: User) -> None:
    if not user.has_role("admin"):
        raise Forbidden.of("incidents_admin_only")


def kind_of(case: Case) -> str:
    return "script" if (case.error or "").startswith(TIMER_PREFIX) else "routing"


def stuck_cases(session: Session, user: User, limit: int = 500) -> list[Incident]:
    """Every case waiting on an error, oldest first (admins only)."""
    _ensure_admin(user)
    since = (select(Event.case_id, func.max(Event.at).label("at")).where(Event.kind.in_(ERROR_EVENTS))
             .group_by(Event.case_id).subquery())
    open_steps = (select(WorkItem.case_id, func.count().label("n")).where(WorkItem.state == "open")
                  .group_by(WorkItem.case_id).subquery())
    rows = session.execute(
        select(Case, since.c.at, open_steps.c.n)
        .outerjoin(since, since.c.case_id == Case.id).outerjoin(open_steps, open_steps.c.case_id == Case.id)
        .where(Case.error.is_not(None))
        .order_by(since.c.at.is_(None), since.c.at, Case.id).limit(max(1, min(limit, 5000)))).all()
    found = [Incident(code=c.code, procedure=c.procedure.code, receiving_unit=c.receiving_unit.code,
                      status=label(c.status_code), kind=kind_of(c), error=c.error or "",
                      since=at, open_steps=int(n or 0)) for c, at, n in rows]
    return found + delivery_incidents(session, user, limit)


def delivery_incidents(session: Session, user: User, limit: int = 500) -> list[Incident]:
    """Liên thông messages the dispatcher gave up on (kind "delivery"; `motcua outbox retry ID`)."""
    from engine import lienthong_outbox

    return [Incident(code=m.case_code or m.message_id, procedure=m.message, receiving_unit=m.partner,
                     status=f"outbox #{m.id}", kind="delivery", error=f"{m.attempts} lần gửi lỗi: {m.error}",
                     since=m.since, open_steps=0) for m in lienthong_outbox.incidents(session, user, limit)]


@dataclass
class Retried:
    case: Case
    new_steps: list[WorkItem]


def retry(session: Session, user: User, code: str, now: datetime | None = None) -> Retried:
    """Retry a stuck case after its cause was fixed; Conflict (naming the error) when it is still stuck."""
    _ensure_admin(user)
    now = now or utcnow()
    case = None if len(code) > 64 or "\x00" in code else session.scalar(select(Case.id).where(Case.code == code))
    if case is None:
        raise NotFound.of("case_not_found", code=code)
    case = lock_case(session, case)
    if case.error is None:
        raise Conflict.of("incident_case_not_stuck", code=code, details={"code": code})
    if case.state is None or case.status_code in (Status.NOT_RECEIVED, Status.WITHDRAWN, Status.STOPPED):
        raise Conflict.of("incident_case_no_process", code=code, details={"code": code})
    before = set(session.scalars(select(WorkItem.id).where(WorkItem.case_id == case.id)))
    kind = kind_of(case)
    if kind == "script":
        if case.next_timer_at is None or case.next_timer_at > now:
            case.next_timer_at = now  # fire the failed timer now rather than at its next scheduled retry
        try:
            with session.begin_nested():  # a script failing again leaves the case as it was
                case.error = None
                fire_timers(session, case, now)
        except Exception as e:  # noqa: BLE001 — the diagram's own error, reported to the admin
            raise Conflict.of("incident_still_failing",
                              code=code, error=str(e), details={"code": code, "error": str(e)}) from e
    else:
        retry_routing(session, user, code, now=now)
        if case.error is not None:
            raise Conflict.of("incident_still_unrouted",
                              code=code, error=case.error, details={"code": code, "error": case.error})
    session.add(Event(case_id=case.id, kind="retried", at=now, actor_id=user.id, data={"kind": kind}))
    session.flush()
    new_steps = list(session.scalars(select(WorkItem).where(WorkItem.case_id == case.id,
                                                            WorkItem.id.not_in(before) if before else true())
                                     .order_by(WorkItem.id)))
    return Retried(case=case, new_steps=new_steps)
