"""The inbox — hồ sơ chờ xử lý: my unit's and roles' open steps by due date, keyset pages, counts and
colours by time state (overdue, due within one working day, in time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, and_, bindparam, func, or_, select
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
    check.done("page_cursor_invalid")
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


# How far the header counts: a count stops at COUNT_LIMIT + 1 rows and is shown as "999+" beyond. An official
# acts on the first page, sorted by due date; counting every one of 20,000 open steps on each view cost more
# than the whole page (~12 ms at 1M cases), while 1,000 index entries per time state cost well under one.
COUNT_LIMIT = 999


def _counts_statement() -> Select:
    """Per time state, how many of ix_work_items_inbox's entries in its range up to :limit — built once (building
    the four subqueries cost more than running them), the user, roles, thresholds and limit bound per call."""
    own = and_(WorkItem.unit_id == bindparam("unit_id"), WorkItem.role_code.in_(bindparam("roles", expanding=True)),
               WorkItem.state == "open")
    now, soon = bindparam("now", type_=WorkItem.due_at.type), bindparam("soon", type_=WorkItem.due_at.type)
    ranges = {"overdue": WorkItem.due_at < now, "due_soon": and_(WorkItem.due_at >= now, WorkItem.due_at <= soon),
              "in_time": WorkItem.due_at > soon, "waiting": WorkItem.due_at.is_(None)}
    return select(*(select(func.count()).select_from(select(WorkItem.id).where(own, ranges[state])
                                                     .limit(bindparam("limit")).subquery())
                    .scalar_subquery().label(state) for state in TIME_STATES))


_COUNTS = _counts_statement()


def inbox_counts(session: Session, user: User, now: datetime | None = None,
                 calendar: WorkCalendar | None = None, limit: int = COUNT_LIMIT) -> dict[str, int]:
    """Counts per time state for the inbox header: overdue, due within one working day, in time, waiting, and
    their total — exact up to `limit`, `limit + 1` meaning "more than `limit`" (count_label). One statement:
    each state is a range of ix_work_items_inbox read up to limit + 1 entries, never the whole inbox."""
    now = current_time(now)
    calendar = calendar or calendar_for(session)
    row = session.execute(_COUNTS, {"unit_id": user.unit_id, "roles": sorted(user.roles), "now": now,
                                    "soon": calendar.add_working_days(now, Decimal(1)), "limit": limit + 1}).one()
    counts = {state: int(n) for state, n in zip(TIME_STATES, row, strict=True)}
    return {**counts, "total": min(sum(counts.values()), limit + 1)}


def count_label(n: int, limit: int = COUNT_LIMIT) -> str:
    """How the header shows a count of inbox_counts: the number, or "999+" past the limit."""
    return f"{limit}+" if n > limit else str(n)


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
