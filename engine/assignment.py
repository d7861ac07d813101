"""Phân công: a head of a unit gives an open step of that unit to one of its officials holding the step's
role, with a note and an internal target day; reassigns; sees each official's open load and overdue count.

An assignment sets the step's claim to the assignee (so the step is theirs, under "Của tôi", and nobody
else of the unit takes it), appends an `assignments` row, an "assigned" audit event and notifies them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from engine import inputs, notifications
from engine.calendar import VN_TZ
from engine.case_records import lock_case  # orders an assignment against claims and completions
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Assignment, Event, Unit, User, UserRole, WorkItem, utcnow

NOTE_MAX = 2000


def is_head_of(user: User, unit_id: int) -> bool:
    """A head of the unit: one who may escalate to or release claims in it (role capabilities, not codes)."""
    return user.unit_id == unit_id and (user.can("escalation_target") or user.can("releases_claims"))


def _ensure_head(user: User, unit: Unit) -> None:
    if not is_head_of(user, unit.id):
        raise Forbidden.of("assign_heads_only", unit=unit.name,
                        details={"unit": unit.code})


def _assignee(session: Session, username: Any, item: WorkItem) -> User:
    name = inputs.text("username", username, User.username)
    user = session.scalar(select(User).where(User.username == name, User.active.is_(True)))
    if user is None:
        raise Invalid.of("official_not_found", name=name, details={"username": "không tồn tại"})
    if user.unit_id != item.unit_id or item.role_code not in user.roles:
        raise Invalid.of("official_wrong_unit", who=user.full_name or name, unit=item.unit.name,
                      details={"username": "không cùng đơn vị hoặc không có vai trò của bước"})
    return user


def _target(value: Any, item: WorkItem) -> date | None:
    check = inputs.Checker()
    parsed = check.moment("target", value)
    check.done()
    if parsed is None:
        return None
    day = parsed.astimezone(VN_TZ).date() if isinstance(parsed, datetime) and parsed.tzinfo else \
        (parsed.date() if isinstance(parsed, datetime) else parsed)
    if item.due_at is not None and day > item.due_at.astimezone(VN_TZ).date():
        raise Invalid.of("target_after_due", due=f"{item.due_at.astimezone(VN_TZ):%d/%m/%Y}",
                      details={"target": "sau hạn của bước"})
    return day


def assign(session: Session, head: User, item_id: Any, username: Any, note: Any = None, target: Any = None,
           now: datetime | None = None) -> Assignment:
    """Give an open step to `username`; a reassignment replaces the holder. The case lock orders it against
    claims, completions and another head's assignment: the later one reassigns, and the audit event of each
    names the holder it replaced ("previous"), so no choice is lost silently."""
    now = now or utcnow()
    item_id = inputs.integer("id", item_id, WorkItem.id)
    item = session.get(WorkItem, item_id) if item_id is not None else None
    if item is None:
        raise NotFound.of("step_not_found", id=item_id)
    _ensure_head(head, item.unit)
    note_text = inputs.text("note", note, max_length=NOTE_MAX, multiline=True) or None
    assignee = _assignee(session, username, item)
    day = _target(target, item)
    lock_case(session, item.case_id)
    session.refresh(item, attribute_names=["state", "claimed_by_id", "claimed_by"])
    if item.state != "open":
        raise Conflict.of("step_not_open_to_assign", step=item.name)
    held = item.claimed_by_id
    cond = WorkItem.claimed_by_id.is_(None) if held is None else WorkItem.claimed_by_id == held
    done = session.execute(update(WorkItem).where(WorkItem.id == item.id, WorkItem.state == "open", cond)
                           .values(claimed_by_id=assignee.id).execution_options(synchronize_session=False))
    session.refresh(item, attribute_names=["state", "claimed_by_id", "claimed_by"])
    if done.rowcount != 1:
        who = item.claimed_by
        raise Conflict.of("step_just_assigned", step=item.name, who=who.full_name if who else "người khác",
                       details={"claimed_by": who.username if who else None})
    row = Assignment(work_item_id=item.id, assignee_id=assignee.id, assigned_by_id=head.id, note=note_text,
                     target=day, at=now)
    session.add(row)
    session.add(Event(case_id=item.case_id, kind="assigned", at=now, actor_id=head.id, step=item.name,
                      step_bpmn_id=item.task_bpmn_id, from_unit_id=item.unit_id,
                      data={"assignee": assignee.username, "assignee_name": assignee.full_name,
                            "previous": held, "note": note_text,
                            "target": day.isoformat() if day else None}))
    target_text = f"; hoàn thành trước {day:%d/%m/%Y}" if day else ""
    notifications.notify_users(session, [assignee], "assigned",
                               f"{head.full_name} giao bạn xử lý «{item.name}» của hồ sơ {item.case.code}"
                               f"{target_text}" + (f": {note_text}" if note_text else ""),
                               case=item.case, now=now)
    session.flush()
    return row


def current(session: Session, item_ids: list[int]) -> dict[int, Assignment]:
    """The assignment in force of each step (its latest row), in one query."""
    if not item_ids:
        return {}
    rows = session.scalars(select(Assignment).where(Assignment.work_item_id.in_(item_ids))
                           .order_by(Assignment.work_item_id, Assignment.id))
    out: dict[int, Assignment] = {}
    for row in rows:
        out[row.work_item_id] = row
    return out


@dataclass
class Load:
    username: str
    full_name: str
    roles: list[str]
    open: int
    overdue: int


@dataclass
class UnitLoad:
    unit: Unit
    people: list[Load]
    unassigned: int
    unassigned_overdue: int


def unit_load(session: Session, head: User, code: Any, now: datetime | None = None) -> UnitLoad:
    """Each active official of the unit with their open steps and how many of those are overdue, and the
    steps nobody holds yet; only a head of that unit may see it."""
    now = now or utcnow()
    code = inputs.text("code", code, Unit.code)
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound.of("unit_not_found", code=code)
    _ensure_head(head, unit)
    overdue = func.sum(case((and_(WorkItem.due_at.is_not(None), WorkItem.due_at < now), 1), else_=0))
    counts = {holder: (n, late or 0) for holder, n, late in session.execute(
        select(WorkItem.claimed_by_id, func.count(), overdue)
        .where(WorkItem.unit_id == unit.id, WorkItem.state == "open").group_by(WorkItem.claimed_by_id))}
    users = list(session.scalars(select(User).where(User.unit_id == unit.id, User.active.is_(True))
                                 .order_by(User.username)))
    roles: dict[int, list[str]] = {}
    for uid, role in session.execute(select(UserRole.user_id, UserRole.role_code)
                                     .where(UserRole.user_id.in_([u.id for u in users]))):
        roles.setdefault(uid, []).append(role)
    people = [Load(u.username, u.full_name, sorted(roles.get(u.id, [])), *counts.get(u.id, (0, 0)))
              for u in users]
    free, free_late = counts.get(None, (0, 0))
    return UnitLoad(unit, people, free, free_late)


def candidates(session: Session, item: WorkItem) -> list[User]:
    """Who a step may be given to: active officials of its unit holding its role."""
    return list(session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                .where(User.unit_id == item.unit_id, UserRole.role_code == item.role_code,
                                       User.active.is_(True)).order_by(User.full_name, User.username)))
