"""Ủy quyền: an official away names a deputy of the same unit for a date range, optionally for chosen
procedures. While it runs the deputy sees the official's steps (held by them, or open to their roles) and
acts on them "thay mặt"; the audit event, the Phiếu kiểm soát and the case page name both. It ends by
itself after `until` (local days, inclusive) or when revoked; chains are refused (A→B while B→A or B→C)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from engine import inputs, notifications
from engine.assignment import is_head_of
from engine.calendar import VN_TZ
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Case, Delegation, Procedure, User, WorkItem, utcnow

MAX_PROCEDURES = 100


def today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(VN_TZ).date()


def _user(session: Session, field: str, username: Any) -> User:
    name = inputs.text(field, username, User.username, required=True)
    user = session.scalar(select(User).where(User.username == name, User.active.is_(True)))
    if user is None:
        raise Invalid.of("official_not_found", name=name, details={field: "không tồn tại"})
    return user


def _day(check: inputs.Checker, field: str, value: Any) -> date | None:
    parsed = check.moment(field, value)
    if parsed is None and field not in check.details:
        check.add(field, "bắt buộc nhập")
    return parsed.date() if isinstance(parsed, datetime) else parsed


def _overlaps(starts: date, until: date) -> ColumnElement[bool]:
    return and_(Delegation.revoked_at.is_(None), Delegation.starts <= until, Delegation.until >= starts)


def create(session: Session, actor: User, to: Any, starts: Any, until: Any, procedures: Any = None,
           for_user: Any = None, now: datetime | None = None) -> Delegation:
    """Name a deputy: for oneself, or (`for_user`) for an official of one's unit when one is its head."""
    now = now or utcnow()
    check = inputs.Checker()
    first, last = _day(check, "starts", starts), _day(check, "until", until)
    if not isinstance(procedures, (list, type(None))) or len(procedures or []) > MAX_PROCEDURES:
        check.add("procedures", f"phải là danh sách tối đa {MAX_PROCEDURES} mã thủ tục")
        procedures = []
    codes = sorted({check.text("procedures", p, Procedure.code) for p in procedures or []} - {""})
    check.done()
    assert first is not None and last is not None
    if last < first:
        raise Invalid.of("delegation_end_before_start", details={"until": "trước ngày bắt đầu"})
    if last < today(now):
        raise Invalid.of("delegation_expired", details={"until": "đã qua"})
    known = set(session.scalars(select(Procedure.code).where(Procedure.code.in_(codes)))) if codes else set()
    if set(codes) - known:
        raise Invalid.of("delegation_procedure_unknown", details={"procedures": sorted(set(codes) - known)})
    delegator = actor if for_user in (None, "") else _user(session, "for", for_user)
    if delegator.id != actor.id and not is_head_of(actor, delegator.unit_id):
        raise Forbidden.of("delegation_for_others", details={"for": "không được phép"})
    deputy = _user(session, "to", to)
    if deputy.id == delegator.id:
        raise Invalid.of("delegation_to_self", details={"to": "trùng người ủy quyền"})
    if deputy.unit_id != delegator.unit_id:
        raise Invalid.of("delegation_other_unit", deputy=deputy.full_name, delegator=delegator.full_name,
                      details={"to": "khác đơn vị"})
    # No chains: a deputy who is away themselves, or an official who stands in for someone, in the same days.
    # Both officials' rows are locked (in id order) so that A→B and B→A sent at once are checked one after the
    # other on PostgreSQL too (SQLite serialises writers anyway); otherwise each sees no chain and both stand.
    session.execute(select(User.id).where(User.id.in_(sorted({delegator.id, deputy.id})))
                    .order_by(User.id).with_for_update())
    chain = session.scalar(select(Delegation).where(_overlaps(first, last), or_(
        Delegation.delegator_id == deputy.id, Delegation.deputy_id == delegator.id)).limit(1))
    if chain is not None:
        raise Conflict.of("delegation_chain",
                          delegator=chain.delegator.full_name, deputy=chain.deputy.full_name,
                          starts=f"{chain.starts:%d/%m/%Y}", until=f"{chain.until:%d/%m/%Y}",
                          details={"delegation": chain.id})
    row = Delegation(delegator_id=delegator.id, deputy_id=deputy.id, unit_id=delegator.unit_id, starts=first,
                     until=last, procedures=codes, created_by_id=actor.id, created_at=now)
    session.add(row)
    session.flush()
    notifications.notify_users(session, [deputy], "delegated",
                               f"{delegator.full_name} ủy quyền cho bạn xử lý thay từ {first:%d/%m/%Y} "
                               f"đến {last:%d/%m/%Y}", now=now)
    return row


def visible(session: Session, user: User, now: datetime | None = None) -> list[Delegation]:
    """Delegations in force or to come that the user gave or received; a head sees every one of their unit.
    One whose last day has passed ended by itself and is no longer listed."""
    q = select(Delegation).where(Delegation.revoked_at.is_(None), Delegation.until >= today(now))
    if is_head_of(user, user.unit_id):
        q = q.where(or_(Delegation.unit_id == user.unit_id, Delegation.deputy_id == user.id))
    else:
        q = q.where(or_(Delegation.delegator_id == user.id, Delegation.deputy_id == user.id))
    return list(session.scalars(q.order_by(Delegation.starts, Delegation.id)))


def revoke(session: Session, user: User, delegation_id: Any, now: datetime | None = None) -> Delegation:
    """End a delegation now: by its delegator, its deputy, or a head of the unit."""
    delegation_id = inputs.integer("id", delegation_id, Delegation.id)
    row = session.get(Delegation, delegation_id) if delegation_id is not None else None
    if row is None or row not in visible(session, user, now):
        raise NotFound.of("delegation_not_found", id=delegation_id)
    row.revoked_at, row.revoked_by_id = now or utcnow(), user.id
    session.flush()
    return row


def active_for(session: Session, deputy: User, now: datetime | None = None) -> list[Delegation]:
    """The delegations `deputy` acts under today."""
    day = today(now)
    return list(session.scalars(select(Delegation).where(
        Delegation.deputy_id == deputy.id, Delegation.revoked_at.is_(None),
        Delegation.starts <= day, Delegation.until >= day).order_by(Delegation.id)))


def _covers(row: Delegation, item: WorkItem) -> bool:
    return not row.procedures or item.case.procedure.code in row.procedures


def acting_for(session: Session, user: User, item: WorkItem, now: datetime | None = None) -> User | None:
    """The official `user` acts for on this step, or None when the user may act on their own (or not at all).
    A deputy may act on a step held by the delegator, or open to the delegator's roles and held by nobody."""
    own = item.unit_id == user.unit_id and item.role_code in user.roles and item.claimed_by_id in (None, user.id)
    if own:
        return None
    for row in active_for(session, user, now):
        boss = row.delegator
        if boss.unit_id != item.unit_id or not _covers(row, item):
            continue
        if item.claimed_by_id == boss.id or (item.claimed_by_id in (None, user.id) and item.role_code in boss.roles):
            return boss
    return None


def inbox_scope(session: Session, user: User, claimed: str | None,
                now: datetime | None = None) -> ColumnElement[bool]:
    """What a deputy sees in the inbox besides their own: each delegator's held steps, and with no claim
    filter (or "none") the steps open to the delegator's roles. False when the user stands in for nobody."""
    parts = []
    for row in active_for(session, user, now):
        boss = row.delegator
        held = WorkItem.claimed_by_id == boss.id
        mine = {"me": held, "none": WorkItem.claimed_by_id.is_(None)}.get(
            claimed or "", or_(held, WorkItem.claimed_by_id.is_(None)))
        if claimed == "none" or not claimed:
            mine = and_(mine, or_(held, WorkItem.role_code.in_(sorted(boss.roles))))
        cond = and_(WorkItem.unit_id == boss.unit_id, mine)
        if row.procedures:
            cond = and_(cond, WorkItem.case_id.in_(select(Case.id).join(Procedure, Procedure.id == Case.procedure_id)
                                                   .where(Procedure.code.in_(row.procedures))))
        parts.append(cond)
    return or_(*parts) if parts else false()
