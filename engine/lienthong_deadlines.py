"""Machine deadlines of NĐ 63/2024 (Điều 7 khoản 4) and where a liên thông dossier is.

- Sync within 10 minutes: a message still undelivered 10 minutes after the step that sent it alerts the
  technical staff (administrators: a notification, and a `lienthong_late` event on the case) once.
- Acknowledge within 2 working hours: a message the partner has not acknowledged within 2 working hours
  (counted on the working calendar) becomes an incident (`GET /api/v1/incidents`, `motcua outbox retry`),
  and the administrators are told.
Both checks are conditional updates, so several scheduler processes running them at once alert once.

`timeline()` is the sending desk's view: one line per partner branch of a case — sent, acknowledged, in
progress, result — because losing sight of a dossier once it leaves the commune is what provinces complain
of (Cần Thơ, CV 174/CV-BCĐ, 12/2025).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import notifications
from engine.db import Database
from engine.deadlines import calendar_for
from engine.models import Case, Event, OutboxMessage, Partner, User, UserRole, utcnow

SYNC_MINUTES = 10
ACK_WORKING_HOURS = Decimal(2)


@dataclass
class DeadlineReport:
    late: list[str]
    incidents: list[str]


def _admins(session: Session) -> list[User]:
    return list(session.scalars(select(User).join(UserRole).where(UserRole.role_code == "admin",
                                                                   User.active.is_(True)).order_by(User.id)))


def check(database: Database, now: datetime | None = None) -> DeadlineReport:
    """Alert on messages late to sync; turn unacknowledged ones into incidents."""
    now = now or utcnow()
    report = DeadlineReport([], [])
    with database.transaction() as s:
        pending = list(s.execute(select(OutboxMessage, Case.code).outerjoin(Case, Case.id == OutboxMessage.case_id)
                                 .where(OutboxMessage.state == "pending",
                                        OutboxMessage.created_at <= now - timedelta(minutes=SYNC_MINUTES))
                                 .order_by(OutboxMessage.id).limit(500)))
        if not pending:
            return report
        calendar = calendar_for(s)
        hours_per_day = calendar.hours.hours_per_day
        admins = _admins(s)
        notes = []
        for row, code in pending:
            elapsed = calendar.working_days_between(row.created_at, now) * hours_per_day
            what = f"Thư liên thông «{row.message}» của hồ sơ {code or '-'} tới {row.partner_code}"
            if elapsed >= ACK_WORKING_HOURS:
                won = s.execute(update(OutboxMessage)
                                .where(OutboxMessage.id == row.id, OutboxMessage.state == "pending")
                                .values(state="incident", next_attempt_at=None)
                                .execution_options(synchronize_session=False)).rowcount
                if won:
                    report.incidents.append(row.message_id)
                    text = f"{what} chưa được xác nhận sau {ACK_WORKING_HOURS} giờ làm việc: {row.last_error or ''}"
                    notes += [{"user_id": a.id, "case_id": row.case_id, "kind": "lienthong", "message": text,
                               "created_at": now} for a in admins]
                    _event(s, row, "lienthong_incident", now, {"reason": "ack_deadline", "error": row.last_error})
            elif row.alerted_at is None:
                won = s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id,
                                                            OutboxMessage.alerted_at.is_(None))
                                .values(alerted_at=now).execution_options(synchronize_session=False)).rowcount
                if won:
                    report.late.append(row.message_id)
                    text = f"{what} chưa đồng bộ sau {SYNC_MINUTES} phút: {row.last_error or 'chưa gửi được'}"
                    notes += [{"user_id": a.id, "case_id": row.case_id, "kind": "lienthong", "message": text,
                               "created_at": now} for a in admins]
                    _event(s, row, "lienthong_late", now, {"error": row.last_error})
        notifications.add_many(s, notes)
    return report


def _event(s: Session, row: OutboxMessage, kind: str, now: datetime, extra: dict) -> None:
    if row.case_id is not None:
        s.add(Event(case_id=row.case_id, kind=kind, at=now, step=row.message,
                    data={"partner": row.partner_code, "message": row.message, "message_id": row.message_id,
                          "attempts": row.attempts, **extra}))


# --- the sending desk's timeline ----------------------------------------------------------------------


@dataclass
class Branch:
    partner: str
    partner_name: str
    message: str
    sent_at: datetime
    acknowledged_at: datetime | None
    result_at: datetime | None
    result_message: str | None
    state: str  # waiting_sync | incident | acknowledged (in progress) | result

    @property
    def label(self) -> str:
        return {"waiting_sync": "Chờ đồng bộ", "incident": "Sự cố gửi", "acknowledged": "Đang xử lý tại đối tác",
                "result": "Đã có kết quả"}[self.state]


def timeline(session: Session, case: Case) -> list[Branch]:
    """One line per partner system the case was sent to (the portal's status copies are not branches)."""
    names = dict(session.execute(select(Partner.code, Partner.name).where(Partner.kind == "system")).all())
    results: dict[str, list[Event]] = {}
    for ev in session.scalars(select(Event).where(Event.case_id == case.id, Event.kind == "lienthong_received")
                              .order_by(Event.at, Event.id)):
        results.setdefault(str((ev.data or {}).get("partner")), []).append(ev)
    branches = []
    for m in session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id,
                                                         OutboxMessage.partner_code.in_(list(names)))
                             .order_by(OutboxMessage.id)):
        answer = next((ev for ev in results.get(m.partner_code, []) if ev.at >= m.created_at), None)
        state = ("result" if answer is not None else "acknowledged" if m.state == "delivered"
                 else "incident" if m.state == "incident" else "waiting_sync")
        branches.append(Branch(partner=m.partner_code, partner_name=names[m.partner_code], message=m.message,
                               sent_at=m.created_at, acknowledged_at=m.delivered_at,
                               result_at=answer.at if answer else None,
                               result_message=answer.step if answer else None, state=state))
    return branches
