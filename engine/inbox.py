"""The inbox — hồ sơ chờ xử lý: my unit's and roles' open steps by due date, keyset pages, counts and
colours by time state (overdue, due within one working day, in time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from engine import delegation, inputs, search
from engine.calendar import WorkCalendar
from engine.case_records import current_time
from engine.deadlines import calendar_for
from engine.errors import Invalid
from engine.models import Case, Procedure, User, WorkItem


@dataclass
class InboxPage:
    items: list[WorkItem]
    next: str | None


def _cursor(item: WorkItem) -> str:
    return f"{item.due_at.isoformat() if item.due_at else ''}|{item.id}"


TIME_STATES = ("overdue", "due_soon", "in_time")


def _parse_cursor(after: str) -> tuple[datetime, int]:
    """`<due_at ISO>|<id>` as handed out by the previous page; anything else is a 422 naming `after`."""
    check = inputs.Checker()
    due_text, sep, id_text = str(after).rpartition("|")
    moment = check.moment("after", due_text) if sep else None
    id_after = check.integer("after", id_text, WorkItem.id) if sep else None
    if not isinstance(moment, datetime) or moment.tzinfo is None or id_after is None:
        check.add("after", "con trỏ trang không hợp lệ")
    check.done("bad page cursor")
    return moment, id_after  # type: ignore[return-value]


def inbox(session: Session, user: User, after: str | None = None, limit: int = 50,
          procedure: str | None = None, claimed: str | None = None, time_state: str | None = None,
          now: datetime | None = None, find: str | None = None) -> InboxPage:
    """My unit's and roles' open work items by due date, keyset-paginated on (due_at, id); optionally only
    those overdue / due within one working day / in time (the same thresholds as inbox_counts), or of the
    cases matching `find` (code, applicant name or ID number, with or without diacritics: engine.search)."""
    limit = max(1, min(limit, 200))
    if procedure:
        procedure = inputs.text("procedure", procedure, Procedure.code)
    own = and_(WorkItem.unit_id == user.unit_id, WorkItem.role_code.in_(sorted(user.roles)))
    if claimed == "me":
        own = and_(own, WorkItem.claimed_by_id == user.id)
    elif claimed == "none":
        own = and_(own, WorkItem.claimed_by_id.is_(None))
    # A deputy also sees the steps of the officials they stand in for (engine.delegation).
    q = select(WorkItem).where(or_(own, delegation.inbox_scope(session, user, claimed, now)),
                               WorkItem.state == "open")
    if procedure:
        q = q.join(Case, Case.id == WorkItem.case_id).join(Procedure, Procedure.id == Case.procedure_id) \
             .where(Procedure.code == procedure)
    if find:
        q = q.where(search.matches(find, WorkItem.case_id))
    if time_state:
        if time_state not in TIME_STATES:
            raise Invalid(f"time_state must be one of {', '.join(TIME_STATES)}")
        now = current_time(now)
        soon = calendar_for(session).add_working_days(now, Decimal(1))
        q = q.where({"overdue": WorkItem.due_at < now,
                     "due_soon": and_(WorkItem.due_at >= now, WorkItem.due_at <= soon),
                     "in_time": or_(WorkItem.due_at > soon, WorkItem.due_at.is_(None))}[time_state])
    if after:
        due_after, id_after = _parse_cursor(after)
        # The redundant `due_at >= …` lets PostgreSQL walk ix_work_items_inbox in order and stop at the limit.
        q = q.where(WorkItem.due_at >= due_after,
                    or_(WorkItem.due_at > due_after, and_(WorkItem.due_at == due_after, WorkItem.id > id_after)))
    # The claimer is shown on every row: joined here, not one query per claimed row.
    q = q.options(joinedload(WorkItem.claimed_by).lazyload(User.role_links))
    rows = list(session.scalars(q.order_by(WorkItem.due_at, WorkItem.id).limit(limit + 1)).unique())
    page, more = rows[:limit], len(rows) > limit
    return InboxPage(items=page, next=_cursor(page[-1]) if more and page else None)


def inbox_counts(session: Session, user: User, now: datetime | None = None,
                 calendar: WorkCalendar | None = None) -> dict[str, int]:
    """Counts per time state for the inbox header: overdue, due within one working day, in time."""
    now = current_time(now)
    calendar = calendar or calendar_for(session)
    soon = calendar.add_working_days(now, Decimal(1))
    base = select(func.count()).select_from(WorkItem).where(
        WorkItem.unit_id == user.unit_id, WorkItem.role_code.in_(sorted(user.roles)), WorkItem.state == "open")
    overdue = session.scalar(base.where(WorkItem.due_at < now)) or 0
    due_soon = session.scalar(base.where(WorkItem.due_at >= now, WorkItem.due_at <= soon)) or 0
    total = session.scalar(base) or 0
    return {"overdue": overdue, "due_soon": due_soon, "in_time": total - overdue - due_soon, "total": total}


def time_state(item_due: datetime | None, now: datetime, soon: datetime) -> str:
    """The inbox colour of an open item; the same thresholds as inbox_counts."""
    if item_due is None:
        return "in_time"
    if item_due < now:
        return "overdue"
    return "due_soon" if item_due <= soon else "in_time"
