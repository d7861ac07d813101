"""Trao đổi: officials who can see a case leave notes on it for colleagues and mention users of the units
on the case's path (they are notified). Comments are kept apart from the audit events, so the legal slips
(Mẫu 01, 05, 06) never show them; the case page lists them in time order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import inputs, notifications
from engine.errors import Invalid
from engine.models import Case, CaseComment, Event, User, WorkItem, utcnow

TEXT_MAX = 4000
MENTIONS_MAX = 20


def path_unit_ids(session: Session, case: Case) -> set[int]:
    """Units the case has been at: its receiving unit, every unit a step was routed to or handed over to."""
    ids = {case.receiving_unit_id}
    ids.update(session.scalars(select(WorkItem.unit_id).where(WorkItem.case_id == case.id).distinct()))
    ids.update(x for x in session.scalars(select(Event.to_unit_id).where(Event.case_id == case.id).distinct()) if x)
    return ids


def add(session: Session, user: User, case: Case, text: Any, mentions: Any = None,
        now: datetime | None = None) -> CaseComment:
    """A comment on a case the caller can see (the caller passes a case from cases.get_case)."""
    now = now or utcnow()
    check = inputs.Checker()
    body = check.text("text", text, max_length=TEXT_MAX, multiline=True, required=True)
    if not isinstance(mentions, (list, type(None))) or len(mentions or []) > MENTIONS_MAX:
        check.add("mentions", f"phải là danh sách tối đa {MENTIONS_MAX} tên đăng nhập")
        mentions = []
    names = sorted({check.text("mentions", m, User.username) for m in mentions or []} - {""})
    check.done()
    people = list(session.scalars(select(User).where(User.username.in_(names), User.active.is_(True)))) \
        if names else []
    allowed = path_unit_ids(session, case)
    wrong = sorted(set(names) - {u.username for u in people if u.unit_id in allowed})
    if wrong:
        raise Invalid.of("mention_outside_path",
                      details={"mentions": wrong})
    row = CaseComment(case_id=case.id, author_id=user.id, text=body, mentions=names, at=now)
    session.add(row)
    session.flush()
    others = [u for u in people if u.id != user.id]
    if others:
        notifications.notify_users(session, others, "mention",
                                   f"{user.full_name} nhắc bạn trong hồ sơ {case.code}: {body[:200]}",
                                   case=case, now=now)
    return row


def for_case(session: Session, case: Case) -> list[CaseComment]:
    return list(session.scalars(select(CaseComment).where(CaseComment.case_id == case.id)
                                .order_by(CaseComment.at, CaseComment.id)))
