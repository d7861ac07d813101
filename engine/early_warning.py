"""Cảnh báo sớm: a step is flagged when a share of its time is used — by default 50 % and 80 % of the WORKING
time between its creation and its due moment (engine.calendar), set with MOTCUA_EARLY_WARNING="50,80".
The inbox colours its rows by the highest threshold reached; the sweep puts one notification per step and
threshold in the bell of whoever holds the step (or everyone of its unit and role)."""

from __future__ import annotations

import os
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine import notifications
from engine.calendar import WorkCalendar
from engine.deadlines import calendar_for
from engine.models import Case, StepWarning, WorkItem, utcnow

DEFAULT = (50, 80)
BATCH = 2000


def thresholds() -> tuple[int, ...]:
    """The configured shares in per cent, ascending, each 1–99; a malformed setting falls back to 50, 80."""
    raw = os.environ.get("MOTCUA_EARLY_WARNING", "")
    try:
        values = tuple(sorted({int(x) for x in raw.split(",") if x.strip()}))
    except ValueError:
        return DEFAULT
    return values if values and all(0 < v < 100 for v in values) else DEFAULT


def share_used(calendar: WorkCalendar, created: datetime, due: datetime | None, now: datetime) -> float | None:
    """Per cent of the step's working time already used (None for a step without a deadline)."""
    if due is None:
        return None
    total = calendar.working_days_between(created, due)
    if total <= 0:
        return 100.0
    used = calendar.working_days_between(created, min(now, due)) if now > created else Decimal(0)
    return float(used * 100 / total)


def level(share: float | None, levels: tuple[int, ...] | None = None) -> int | None:
    """The highest threshold reached (None below the first); overdue steps are the inbox's own red."""
    if share is None or share >= 100:
        return None
    reached = [t for t in (levels or thresholds()) if share >= t]
    return reached[-1] if reached else None


def notify_crossed(session: Session, now: datetime | None = None) -> list[int]:
    """Record and announce every threshold newly reached by an open step still in time; returns the ids of the
    notifications written (for the e-mail outbox)."""
    now = now or utcnow()
    levels = thresholds()
    calendar = calendar_for(session)
    rows = session.execute(select(WorkItem.id, WorkItem.name, WorkItem.created_at, WorkItem.due_at, WorkItem.unit_id,
                                  WorkItem.role_code, WorkItem.claimed_by_id, Case.code, Case.id.label("case_id"))
                           .join(Case, Case.id == WorkItem.case_id)
                           .where(WorkItem.state == "open", WorkItem.due_at > now, WorkItem.supplement.is_(False))
                           .order_by(WorkItem.due_at).limit(BATCH)).all()
    reached = [(r, level(share_used(calendar, r.created_at, r.due_at, now), levels)) for r in rows]
    reached = [(r, t) for r, t in reached if t is not None]
    if not reached:
        return []
    dialect = session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(StepWarning)
    stmt = ins.values([{"work_item_id": r.id, "threshold": t, "at": now} for r, t in reached]) \
        .on_conflict_do_nothing().returning(StepWarning.work_item_id)
    fresh = set(session.execute(stmt).scalars())
    if not fresh:
        return []
    todo = [(r, t) for r, t in reached if r.id in fresh]
    who = notifications.unit_role_users(session, {(r.unit_id, r.role_code) for r, _t in todo if not r.claimed_by_id})
    out = []
    for r, t in todo:
        users = [r.claimed_by_id] if r.claimed_by_id else [x.user_id for x in who[(r.unit_id, r.role_code)]]
        message = (f"Đã dùng {t} % thời gian của bước «{r.name}», hồ sơ {r.code}; "
                   f"hạn {notifications.local_text(r.due_at)}")
        out += [{"user_id": u, "kind": "early_warning", "message": message, "created_at": now,
                 "case_id": r.case_id} for u in users]
    return notifications.add_many(session, out)
