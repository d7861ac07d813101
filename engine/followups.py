"""Nhắc lại: an official sets a moment to be reminded of a step (for themselves only); when it comes the
sweep puts a notification in their bell, once, even with several schedulers (a conditional UPDATE)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import inputs, notifications
from engine.calendar import VN_TZ
from engine.errors import Invalid
from engine.models import Case, FollowUp, User, WorkItem, utcnow


def _moment(value: Any) -> datetime:
    check = inputs.Checker()
    parsed = check.moment("at", value)
    if parsed is None and "at" not in check.details:
        check.add("at", "bắt buộc nhập")
    check.done()
    if not isinstance(parsed, datetime):  # a day alone: the start of the working morning
        parsed = datetime(parsed.year, parsed.month, parsed.day, 8, 0)  # type: ignore[union-attr]
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


def set_follow_up(session: Session, user: User, item: WorkItem, at: Any, now: datetime | None = None) -> FollowUp:
    """Set (or move) my reminder on a step I can see (the caller passes an item from cases.get_item)."""
    moment = _moment(at)
    if moment <= (now or utcnow()):
        raise Invalid.of("followup_in_past", details={"at": "đã qua"})
    row = session.scalar(select(FollowUp).where(FollowUp.user_id == user.id, FollowUp.work_item_id == item.id))
    if row is None:
        row = FollowUp(user_id=user.id, work_item_id=item.id, at=moment)
        session.add(row)
    row.at, row.notified_at = moment, None
    session.flush()
    return row


def clear(session: Session, user: User, item: WorkItem) -> None:
    session.execute(sql_delete(FollowUp).where(FollowUp.user_id == user.id, FollowUp.work_item_id == item.id))


def mine(session: Session, user: User, item_ids: list[int]) -> dict[int, FollowUp]:
    if not item_ids:
        return {}
    return {f.work_item_id: f for f in session.scalars(select(FollowUp).where(
        FollowUp.user_id == user.id, FollowUp.work_item_id.in_(item_ids), FollowUp.notified_at.is_(None)))}


def notify_due(session: Session, now: datetime | None = None, batch: int = 500) -> list[int]:
    """Notify every follow-up whose moment has come (open steps only); returns the notification ids."""
    now = now or utcnow()
    due = session.execute(select(FollowUp.id, FollowUp.user_id, WorkItem.name, WorkItem.case_id)
                          .join(WorkItem, WorkItem.id == FollowUp.work_item_id)
                          .where(FollowUp.notified_at.is_(None), FollowUp.at <= now, WorkItem.state == "open")
                          .order_by(FollowUp.at).limit(batch)).all()
    if not due:
        return []
    won = set(session.scalars(update(FollowUp).where(FollowUp.id.in_([d.id for d in due]),
                                                     FollowUp.notified_at.is_(None))
                              .values(notified_at=now).returning(FollowUp.id)))
    codes = dict(session.execute(select(Case.id, Case.code).where(Case.id.in_({d.case_id for d in due}))).all())
    return notifications.add_many(session, [
        {"user_id": d.user_id, "case_id": d.case_id, "kind": "followup", "created_at": now,
         "message": f"Nhắc lại: «{d.name}» của hồ sơ {codes[d.case_id]}"} for d in due if d.id in won])
