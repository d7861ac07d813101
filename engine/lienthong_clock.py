"""Waiting that the law does not count: while the case waits at a receive task marked `clock = "paused"`
(the relatives' confirmation in VNeID in the khai tử group, ≤ 5 working days, "không tính vào thời hạn"),
the case's time limit stands still; when the wait ends the appointment moves later by the working time spent
waiting. Unlike a supplement request (NĐ 61 Điều 19.4, engine.projection: the limit restarts from zero after
the applicant completes the dossier), the time already used stays used.

Called on every save of the workflow (engine.messages.drain), so both edges are caught in the transaction
that crosses them: a `clock_paused` event when the wait begins, `clock_resumed` (with the days not
counted and the old and new appointments) when it ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Case, Event

PAUSED, RESUMED = "clock_paused", "clock_resumed"


def pausing_steps(nodes: dict) -> set[str]:
    return {eid for eid, n in nodes.items() if n.get("receive", {}).get("pauses_clock")}


def _open_pause(session: Session, case: Case) -> Event | None:
    last = session.scalars(select(Event).where(Event.case_id == case.id, Event.kind.in_((PAUSED, RESUMED)))
                           .order_by(Event.at.desc(), Event.id.desc()).limit(1)).first()
    return last if last is not None and last.kind == PAUSED else None


def track(session: Session, case: Case, wf: Any, nodes: dict, now: datetime) -> None:
    """Open or close the uncounted wait according to what the workflow waits on now."""
    from engine.deadlines import calendar_for
    from engine.workflow import waiting_steps

    pausing = pausing_steps(nodes)
    if not pausing or case.id is None:
        return
    waiting = pausing.intersection(waiting_steps(wf))
    open_pause = _open_pause(session, case)
    if waiting and open_pause is None:
        step = sorted(waiting)[0]
        session.add(Event(case_id=case.id, kind=PAUSED, at=now, step=nodes[step].get("name") or step,
                          data={"step": step, "due_at": case.due_at.isoformat() if case.due_at else None}))
    elif not waiting and open_pause is not None:
        calendar = calendar_for(session)
        days = calendar.working_days_between(open_pause.at, now)
        old = case.due_at
        if old is not None:
            case.due_at = extend(calendar, old, open_pause.at, now)
            case.original_due_at = case.due_at  # the law's own limit, not an apology's new date
        session.add(Event(case_id=case.id, kind=RESUMED, at=now, step=open_pause.step,
                          data={"days_not_counted": str(days), "previous_due_at": old.isoformat() if old else None,
                                "due_at": case.due_at.isoformat() if case.due_at else None}))


def extend(calendar: Any, due_at: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
    """`due_at` moved later by the working time between the two moments. Appointments fall at a working
    day's closing, from which `add_working_days` is exact: n whole days later is the closing n working days
    on, and a fraction f is f of a day into the working day after."""
    days = calendar.working_days_between(paused_at, resumed_at)
    return calendar.add_working_days(due_at, days) if days else due_at
