"""The inbox — hồ sơ chờ xử lý: my unit's and roles' open steps by due date, keyset pages, counts and
colours by time state (overdue, due within one working day, in time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, lazyload

from engine import delegation, early_warning, inputs, search
from engine.calendar import WorkCalendar
from engine.case_records import current_time
from engine.deadlines import calendar_for
from engine.errors import Invalid
from engine.models import Case, Procedure, Unit, User, WorkItem


@dataclass
class InboxPage:
    items: list[WorkItem]
    next: str | None


# What a row shows, joined in the same statement (never one query per row): the case's code, applicant and
# procedure, the step's unit and who claimed it. Only those columns: the case's form data, the procedure's
# catalog and the claimer's unit are not parsed fifty times for a page that never shows them.
_ROW_COLUMNS = (
    joinedload(WorkItem.case).load_only(Case.code, Case.applicant_name, Case.procedure_id)
    .options(joinedload(Case.procedure).load_only(Procedure.code, Procedure.name), lazyload(Case.receiving_unit)),
    joinedload(WorkItem.unit).load_only(Unit.code, Unit.name, Unit.level_code).lazyload(Unit.level),
    joinedload(WorkItem.claimed_by).load_only(User.username, User.full_name)
    .options(lazyload(User.unit), lazyload(User.role_links)),
)


def _cursor(item: WorkItem) -> str:
    return f"{item.due_at.isoformat() if item.due_at else ''}|{item.id}"


# "waiting": a step waiting for the applicant (a supplement request), which has no deadline of its own.
TIME_STATES = ("overdue", "due_soon", "in_time", "waiting")


def _parse_cursor(after: str) -> tuple[datetime | None, int]:
    """`<due_at ISO>|<id>` as handed out by the previous page, `|<id>` once the page reached the steps without
    a due date; anything else is a 422 naming `after`."""
    check = inputs.Checker()
    due_text, sep, id_text = str(after).rpartition("|")
    moment = check.moment("after", due_text) if sep and due_text else None
    id_after = check.integer("after", id_text, WorkItem.id) if sep else None
    if (due_text and (not isinstance(moment, datetime) or moment.tzinfo is None)) or id_after is None:
        check.add("after", "con trỏ trang không hợp lệ")
    check.done("bad page cursor")
    return moment, id_after  # type: ignore[return-value]


def inbox(session: Session, user: User, after: str | None = None, limit: int = 50,
          procedure: str | None = None, claimed: str | None = None, time_state: str | None = None,
          now: datetime | None = None, find: str | None = None) -> InboxPage:
    """My unit's and roles' open work items by due date, keyset-paginated on (due_at, id), the steps without a
    due date (waiting for the applicant) after every timed one on both backends; optionally only those
    overdue / due within one working day / in time / waiting (the same thresholds as inbox_counts), or of the
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
            raise Invalid.of("time_state_choice", choices=", ".join(TIME_STATES))
        now = current_time(now)
        soon = calendar_for(session).add_working_days(now, Decimal(1))
        q = q.where({"overdue": WorkItem.due_at < now,
                     "due_soon": and_(WorkItem.due_at >= now, WorkItem.due_at <= soon),
                     "in_time": WorkItem.due_at > soon,
                     "waiting": WorkItem.due_at.is_(None)}[time_state])
    after = after or None  # an empty cursor is the first page
    due_after, id_after = _parse_cursor(after) if after else (None, None)
    # Only the columns the rows show, the claimer joined: no workflow state, no query per row.
    q = q.options(*_ROW_COLUMNS)
    # Two ranges, each walked in index order: the timed steps by (due_at, id), then those without a due date
    # by id. NULLs sort first on SQLite and last on PostgreSQL, and `due_at >= cursor` never matches them, so
    # one ORDER BY over both would lose or misplace them.
    rows: list[WorkItem] = []
    if after is None or due_after is not None:
        timed = q.where(WorkItem.due_at.is_not(None))
        if due_after is not None:
            # The redundant `due_at >= …` lets PostgreSQL walk ix_work_items_inbox in order and stop at the limit.
            timed = timed.where(WorkItem.due_at >= due_after, or_(
                WorkItem.due_at > due_after, and_(WorkItem.due_at == due_after, WorkItem.id > id_after)))
        rows = list(session.scalars(timed.order_by(WorkItem.due_at, WorkItem.id).limit(limit + 1)).unique())
    if len(rows) <= limit:
        untimed = q.where(WorkItem.due_at.is_(None))
        if after is not None and due_after is None:
            untimed = untimed.where(WorkItem.id > id_after)
        rows += list(session.scalars(untimed.order_by(WorkItem.id).limit(limit + 1 - len(rows))).unique())
    page, more = rows[:limit], len(rows) > limit
    return InboxPage(items=page, next=_cursor(page[-1]) if more and page else None)


def inbox_counts(session: Session, user: User, now: datetime | None = None,
                 calendar: WorkCalendar | None = None) -> dict[str, int]:
    """Counts per time state for the inbox header: overdue, due within one working day, in time — one pass
    over the inbox's index entries."""
    now = current_time(now)
    calendar = calendar or calendar_for(session)
    soon = calendar.add_working_days(now, Decimal(1))
    overdue = func.coalesce(func.sum(case((WorkItem.due_at < now, 1), else_=0)), 0)
    due_soon = func.coalesce(func.sum(case((and_(WorkItem.due_at >= now, WorkItem.due_at <= soon), 1), else_=0)), 0)
    waiting = func.coalesce(func.sum(case((WorkItem.due_at.is_(None), 1), else_=0)), 0)
    row = session.execute(select(overdue, due_soon, waiting, func.count()).select_from(WorkItem).where(
        WorkItem.unit_id == user.unit_id, WorkItem.role_code.in_(sorted(user.roles)), WorkItem.state == "open")).one()
    n_overdue, n_soon, n_waiting, total = (int(v or 0) for v in row)
    return {"overdue": n_overdue, "due_soon": n_soon, "in_time": total - n_overdue - n_soon - n_waiting,
            "waiting": n_waiting, "total": total}


def time_state(item_due: datetime | None, now: datetime, soon: datetime) -> str:
    """The inbox colour of an open item; the same thresholds as inbox_counts. Only a step waiting for the
    applicant has no due date (deploy requires deadline_days on every other step)."""
    if item_due is None:
        return "waiting"
    if item_due < now:
        return "overdue"
    return "due_soon" if item_due <= soon else "in_time"


def row_colours(items: list[WorkItem], now: datetime, calendar: WorkCalendar) -> list[tuple[str, int | None]]:
    """Per row: its time state and, while still in time, the early-warning threshold its step has reached
    (engine.early_warning) — computed from the loaded rows, with one calendar, no query."""
    soon = calendar.add_working_days(now, Decimal(1))
    levels = early_warning.thresholds()
    out: list[tuple[str, int | None]] = []
    for item in items:
        state = time_state(item.due_at, now, soon)
        warn = None if state in ("overdue", "waiting") else early_warning.level(
            early_warning.share_used(calendar, item.created_at, item.due_at, now), levels)
        out.append((state, warn))
    return out
