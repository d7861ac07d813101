"""Notifications: in-app rows (the bell in the header) and e-mail when SMTP is configured.

Rows are written inside the caller's transaction; e-mail is sent afterwards with `deliver()`, outside any
database transaction, so a slow or broken mail server never holds a lock or rolls back a step.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine import inputs
from engine.calendar import VN_TZ
from engine.config import Settings
from engine.db import Database
from engine.errors import NotFound
from engine.models import Case, Notification, User, UserRole, utcnow

log = logging.getLogger(__name__)

# Subjects of the e-mails, by notification kind (the body is the notification's message).
SUBJECTS = {
    "reminder": "Nhắc việc: hồ sơ sắp đến hạn",
    "overdue": "Hồ sơ quá hạn xử lý",
    "escalated": "Hồ sơ quá hạn tại đơn vị",
    "apology": "Thư xin lỗi và hẹn lại ngày trả kết quả",
    "timer": "Hồ sơ cần xử lý",
}


def local_text(moment: datetime | None) -> str:
    """hh:mm dd/mm/yyyy in Vietnam time, as on the legal forms."""
    return moment.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if moment else ""


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str | None


def unit_role_users(session: Session, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], list[Recipient]]:
    """Active users holding `role` at `unit`, for many (unit, role) pairs in one query."""
    pairs = set(pairs)
    if not pairs:
        return {}
    unit_ids = {u for u, _r in pairs}
    roles = {r for _u, r in pairs}
    rows = session.execute(
        select(User.id, User.email, User.unit_id, UserRole.role_code)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.unit_id.in_(unit_ids), UserRole.role_code.in_(roles), User.active.is_(True))
        .order_by(User.id)).all()
    out: dict[tuple[int, str], list[Recipient]] = {p: [] for p in pairs}
    for uid, email, unit_id, role in rows:
        if (unit_id, role) in out:
            out[(unit_id, role)].append(Recipient(uid, email or None))
    return out


def add_many(session: Session, rows: Sequence[dict]) -> list[int]:
    """Insert notification rows ({user_id|email, case_id, kind, message, created_at}) in one statement;
    returns their ids (for delivering the e-mails after commit)."""
    if not rows:
        return []
    full = [{"user_id": None, "email": None, "case_id": None, "read_at": None, "emailed_at": None, **r}
            for r in rows]
    table = Notification.__table__
    # Core insertmanyvalues with RETURNING: one round trip per ~1000 rows, no ORM bookkeeping.
    return list(session.connection().execute(insert(table).returning(table.c.id), full).scalars())


def notify_users(session: Session, users: Iterable[User], kind: str, message: str, case: Case | None = None,
                 now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return add_many(session, [{"user_id": u.id, "case_id": case.id if case else None, "kind": kind,
                               "message": message, "created_at": now} for u in users])


def notify_applicant(session: Session, case: Case, kind: str, message: str,
                     now: datetime | None = None) -> list[int]:
    """A notice to the applicant by e-mail; nothing when the dossier has no e-mail address."""
    email = (case.applicant_email or "").strip()
    if not email:
        return []
    return add_many(session, [{"email": email, "case_id": case.id, "kind": kind, "message": message,
                               "created_at": now or utcnow()}])


# --- reading (the bell) ------------------------------------------------------------------------------


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def latest(session: Session, user: User, limit: int = 10, unread_only: bool = False,
           before_id: int | None = None) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    if before_id is not None:
        before_id = inputs.integer("before", before_id, Notification.id)
        q = q.where(Notification.id < before_id)
    return list(session.scalars(q.order_by(Notification.id.desc()).limit(max(1, min(limit, 200)))))


def mark_read(session: Session, user: User, notification_id: int | None = None,
              now: datetime | None = None) -> int:
    """Mark one (or, without an id, all) of the user's notifications read; returns how many changed."""
    q = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        if session.scalar(select(Notification.id).where(Notification.id == notification_id,
                                                        Notification.user_id == user.id)) is None:
            raise NotFound(f"notification {notification_id} not found")
        q = q.where(Notification.id == notification_id)
    return session.execute(q.values(read_at=now or utcnow())).rowcount or 0


# --- e-mail ------------------------------------------------------------------------------------------


def deliver(database: Database, settings: Settings, ids: Sequence[int], now: datetime | None = None) -> list[int]:
    """Send the e-mails of these notifications (staff with an address, applicants) when SMTP is configured;
    marks emailed_at on each sent one. Returns the ids that could not be sent (to retry)."""
    if not settings.smtp_host or not ids:
        return []
    with database.transaction() as s:
        rows = s.execute(
            select(Notification.id, Notification.kind, Notification.message, Notification.email, User.email,
                   Case.code)
            .outerjoin(User, User.id == Notification.user_id).outerjoin(Case, Case.id == Notification.case_id)
            .where(Notification.id.in_(list(ids)), Notification.emailed_at.is_(None))).all()
    messages = []
    for nid, kind, text, to_applicant, to_user, code in rows:
        to = to_applicant or to_user
        if not to:
            continue
        msg = EmailMessage()
        msg["From"] = settings.mail_from
        msg["To"] = to
        subject = SUBJECTS.get(kind, "Thông báo từ hệ thống một cửa")
        msg["Subject"] = f"[{code}] {subject}" if code else subject
        msg.set_content(f"{text}\n\n{settings.public_base_url}\n")
        messages.append((nid, msg))
    if not messages:
        return []
    sent, failed = [], []
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            for nid, msg in messages:
                try:
                    smtp.send_message(msg)
                    sent.append(nid)
                except smtplib.SMTPException as e:
                    log.warning("e-mail for notification %s not sent: %s", nid, e)
                    failed.append(nid)
    except (OSError, smtplib.SMTPException) as e:
        log.warning("SMTP server %s:%s unavailable: %s", settings.smtp_host, settings.smtp_port, e)
        failed.extend(nid for nid, _m in messages if nid not in sent)
    if sent:
        with database.transaction() as s:
            s.execute(update(Notification).where(Notification.id.in_(sent)).values(emailed_at=now or utcnow()))
    return failed
