"""Notifications: in-app rows (the bell in the header) and e-mail when SMTP is configured.

Rows are written inside the caller's transaction; they are also the e-mail outbox, mailed afterwards by
`send_outbox()` outside any database transaction, so a slow or broken mail server never holds a lock or
rolls back a step, and a mail that could not go out is retried (with backoff) by whichever process runs next.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from engine import audit, inputs
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
    "assigned": "Bạn được giao xử lý hồ sơ",
    "delegated": "Bạn được ủy quyền xử lý thay",
    "mention": "Bạn được nhắc tên trong trao đổi về hồ sơ",
    "followup": "Nhắc lại việc bạn đã hẹn",
    "early_warning": "Cảnh báo sớm: bước xử lý đã dùng phần lớn thời gian",
    "apology": "Thư xin lỗi và hẹn lại ngày trả kết quả",
    "timer": "Hồ sơ cần xử lý",
    "new_work": "Có việc mới cần xử lý",
    "online_waiting": "Hồ sơ trực tuyến chờ tiếp nhận",
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
    # Core insertmanyvalues with RETURNING: one round trip per ~1000 rows, no ORM bookkeeping.
    return list(session.connection().execute(_INSERT, _full(rows)).scalars())


def add_with_step(session: Session, rows: Sequence[dict]) -> None:
    """Like add_many for notices nobody needs the ids of (the outbox finds them by case after the commit): inside
    a step's batch (engine.audit.batched) they are written with the step's other rows — on PostgreSQL in the
    step's one statement — else now."""
    if rows and not audit.hold_notices(session, _full(rows)):
        session.connection().execute(_INSERT, _full(rows))


def _full(rows: Sequence[dict]) -> list[dict]:
    # Every row enters the e-mail outbox, due at once; one without an address leaves it at its first send.
    return [{"user_id": None, "email": None, "case_id": None, "read_at": None, "emailed_at": None, "attempts": 0,
             "last_error": None, **r, "next_attempt_at": r.get("created_at") or utcnow()} for r in rows]


# Built once (every new step inserts its notices: building and hashing the statement each time cost more than
# sending it on SQLite).
_INSERT = insert(Notification.__table__).returning(Notification.__table__.c.id)


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


def _bell_statement() -> Select:
    mine = aliased(Notification)
    unread = (select(func.count()).select_from(mine)
              .where(mine.user_id == bindparam("user_id"), mine.read_at.is_(None)).scalar_subquery())
    return (select(Notification, unread).where(Notification.user_id == bindparam("user_id"))
            .order_by(Notification.id.desc()).limit(bindparam("limit")))


_BELL = _bell_statement()  # built once: building the aliased count costs more than running it


def bell(session: Session, user: User, limit: int = 8) -> tuple[int, list[Notification]]:
    """The header's bell, shown on every page: the unread count and the latest `limit` notifications in ONE
    statement (the count rides along on each row; no row means nothing to count either)."""
    rows = session.execute(_BELL, {"user_id": user.id, "limit": limit}).all()
    return (int(rows[0][1]) if rows else 0), [row[0] for row in rows]


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
            raise NotFound.of("notification_not_found", id=notification_id)
        q = q.where(Notification.id == notification_id)
    return session.execute(q.values(read_at=now or utcnow())).rowcount or 0


# --- e-mail: the outbox ----------------------------------------------------------------------------
#
# A notification row is its own outbox entry: `next_attempt_at` says when it is due to be mailed, `emailed_at`
# when it was, `attempts` and `last_error` why it is still waiting. It is written in the same transaction as the
# step that caused it and mailed afterwards by `send_outbox` — the scheduler's outbox job in every scheduler
# process (not only the lease holder), or a page right after its commit. A sender first claims due rows with a
# conditional UPDATE (next_attempt_at moves CLAIM ahead), so two senders never mail the same row; a sender that
# dies after claiming leaves the rows to be retried when the claim runs out. Failures back off exponentially.
# Nothing lives in process memory, so a restart or a fail-over to another node loses no mail.

CLAIM = timedelta(minutes=5)  # how long a claimed row is left to its sender before another may retry it
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)
MAX_ATTEMPTS = 12  # about two days of retries, then the row stays unsent with its last error
BATCH = 200


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, … minutes, at most 6 hours."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), MAX_RETRY)


@dataclass
class OutboxReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    gave_up: list[int] = field(default_factory=list)


def outbox_backlog(session: Session, now: datetime | None = None) -> int:
    """Mails waiting (due now or later), for the operator."""
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.emailed_at.is_(None), Notification.next_attempt_at.is_not(None))) or 0


def _claim(database: Database, now: datetime, ids: Sequence[int] | None, limit: int) -> list[int]:
    with database.transaction() as s:
        q = select(Notification.id).where(Notification.emailed_at.is_(None), Notification.next_attempt_at <= now)
        if ids is not None:
            q = q.where(Notification.id.in_(list(ids)))
        due = list(s.scalars(q.order_by(Notification.next_attempt_at, Notification.id).limit(limit)))
        if not due:
            return []
        # Re-checked by the UPDATE itself: a row another sender claimed meanwhile no longer matches.
        stmt = (update(Notification)
                .where(Notification.id.in_(due), Notification.emailed_at.is_(None),
                       Notification.next_attempt_at <= now)
                .values(next_attempt_at=now + CLAIM, attempts=Notification.attempts + 1)
                .returning(Notification.id).execution_options(synchronize_session=False))
        return sorted(s.scalars(stmt))


def send_outbox(database: Database, settings: Settings, now: datetime | None = None,
                ids: Sequence[int] | None = None, limit: int = BATCH) -> OutboxReport:
    """Mail the due notifications (all, or only `ids`) when SMTP is configured; outside any transaction
    while talking to the mail server. Safe to run in several processes at once."""
    now = now or utcnow()
    report = OutboxReport()
    if not settings.smtp_host or (ids is not None and not ids):
        return report
    claimed = _claim(database, now, ids, limit)
    if not claimed:
        return report
    with database.transaction() as s:
        rows = s.execute(
            select(Notification.id, Notification.kind, Notification.message, Notification.email, User.email,
                   Case.code, Notification.attempts)
            .outerjoin(User, User.id == Notification.user_id).outerjoin(Case, Case.id == Notification.case_id)
            # In the order they were written: an official hears of a step before hearing it is overdue.
            .where(Notification.id.in_(claimed)).order_by(Notification.created_at, Notification.id)).all()
        nobody = [r[0] for r in rows if not (r[3] or r[4])]
        if nobody:  # a staff notice for someone without an address: nothing to mail, ever
            s.execute(update(Notification).where(Notification.id.in_(nobody)).values(next_attempt_at=None))
    messages = [(nid, attempts, _message(settings, kind, text, to_applicant or to_user, code))
                for nid, kind, text, to_applicant, to_user, code, attempts in rows if to_applicant or to_user]
    errors: dict[int, str] = {}
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            for nid, _attempts, msg in messages:
                try:
                    smtp.send_message(msg)
                    report.sent.append(nid)
                except smtplib.SMTPException as e:
                    log.warning("e-mail for notification %s not sent: %s", nid, e)
                    errors[nid] = str(e)
    except (OSError, smtplib.SMTPException) as e:
        log.warning("SMTP server %s:%s unavailable: %s", settings.smtp_host, settings.smtp_port, e)
        for nid, _attempts, _msg in messages:
            if nid not in report.sent:
                errors.setdefault(nid, f"{type(e).__name__}: {e}")
    with database.transaction() as s:
        if report.sent:
            s.execute(update(Notification).where(Notification.id.in_(report.sent))
                      .values(emailed_at=now, next_attempt_at=None, last_error=None))
        for nid, attempts, _msg in messages:
            if nid not in errors:
                continue
            give_up = attempts >= MAX_ATTEMPTS
            (report.gave_up if give_up else report.failed).append(nid)
            s.execute(update(Notification).where(Notification.id == nid).values(
                last_error=errors[nid][:1000], next_attempt_at=None if give_up else now + backoff(attempts)))
    return report


def _message(settings: Settings, kind: str, text: str, to: str, code: str | None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    subject = SUBJECTS.get(kind, "Thông báo từ hệ thống một cửa")
    msg["Subject"] = f"[{code}] {subject}" if code else subject
    msg.set_content(f"{text}\n\n{settings.public_base_url}\n")
    return msg


def deliver(database: Database, settings: Settings, ids: Sequence[int], now: datetime | None = None) -> list[int]:
    """Try these notifications' e-mails now (right after the commit that created them); returns the ids that
    could not be sent — they stay in the outbox and the scheduler's outbox job retries them."""
    report = send_outbox(database, settings, now, ids=list(ids))
    return report.failed + report.gave_up


def deliver_for_cases(database: Database, settings: Settings, case_ids: Iterable[int]) -> None:
    """Best effort, after a commit: mail what is waiting for these cases now instead of at the next outbox
    run. Never raises: a mail server outage must not fail the request (the outbox keeps the mail)."""
    case_ids = [c for c in case_ids if c is not None]
    if not settings.smtp_host or not case_ids:
        return
    try:
        with database.transaction() as s:
            ids = list(s.scalars(select(Notification.id).where(Notification.case_id.in_(case_ids),
                                                               Notification.emailed_at.is_(None),
                                                               Notification.next_attempt_at.is_not(None))))
        send_outbox(database, settings, ids=ids)
    except Exception:  # noqa: BLE001
        log.exception("could not send the e-mails of cases %s now; the outbox job retries", case_ids)
