"""The liên thông outbox: messages to partners are rows written in the transaction of the step that sends
them, so a step and its message commit together or not at all; `dispatch()` delivers them afterwards,
outside any database transaction while talking to the partner (like the e-mail outbox), with exponential
backoff and jitter. Per (partner, case) only the oldest undelivered message goes out, so a partner sees a
case's messages in order; the receiver stores each message id once, so a message sent twice (an
acknowledgement lost on the way back) changes nothing there. After `lienthong_max_attempts` failures a
message becomes an incident (GET /api/v1/lienthong/incidents, `motcua outbox retry ID`) and the messages
queued behind it for the same case wait for it.

Every queueing, delivery, failure, give-up and retry is an audit event on the case (engine.lienthong_audit
turns them into Phiếu kiểm soát rows).
"""

from __future__ import annotations

import logging
import random
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session, aliased

from engine import lienthong_documents, partners
from engine.audit import append_event
from engine.config import Settings
from engine.db import Database
from engine.errors import Conflict, Forbidden, NotFound
from engine.models import Case, Event, OutboxMessage, Partner, User, utcnow

log = logging.getLogger(__name__)

BATCH = 50
CLAIM_SECONDS = 60  # a claimed row is not picked again for this long (a dispatcher that died mid-send)
MAX_BACKOFF_SECONDS = 600
INBOUND_PATH = "/api/v1/lienthong/messages"
TIMEOUT_SECONDS = 10

Post = Callable[[str, str, dict], int]


def enqueue(session: Session, partner_code: str, message: str, body: dict, case: Case | None = None,
            now: datetime | None = None, step: str | None = None, from_unit_id: int | None = None) -> OutboxMessage:
    """Queue one message to a partner inside the caller's transaction; due at once."""
    now = now or utcnow()
    partner = partners.get_partner(session, partner_code)
    row = OutboxMessage(message_id=partners.new_message_id(), partner_code=partner.code,
                        case_id=case.id if case is not None else None, message=message,
                        body={**body, "message": message}, state="pending", attempts=0, next_attempt_at=now,
                        created_at=now)
    session.add(row)
    if case is not None and partner.kind != "portal":
        # The portal's status copies are not handovers; the slip would drown in them.
        append_event(session, case, "lienthong_queued", now, step=step or message, from_unit_id=from_unit_id,
                     data={"partner": partner.code, "partner_name": partner.name, "message": message,
                           "message_id": row.message_id})
    return row


def backoff(attempts: int, base: float, rand: Callable[[float, float], float] = random.uniform) -> float:
    """Seconds before the next attempt: base·2^(n−1), capped, with jitter in [½, 1] of it so partners that
    came back are not hit by every sender at the same second."""
    delay = min(MAX_BACKOFF_SECONDS, base * (2 ** max(0, attempts - 1)))
    return rand(delay / 2, delay)


def _http_post(url: str, text: str, headers: dict) -> int:
    req = urllib.request.Request(url, data=text.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:  # noqa: S310 — partner URLs are http(s) (checked at add)
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


@dataclass
class DispatchReport:
    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)


def _due(s: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    earlier = aliased(OutboxMessage)
    blocked = exists().where(earlier.partner_code == OutboxMessage.partner_code,
                             earlier.case_id == OutboxMessage.case_id, earlier.state != "delivered",
                             earlier.id < OutboxMessage.id)
    return list(s.scalars(select(OutboxMessage).where(OutboxMessage.state == "pending",
                                                      OutboxMessage.next_attempt_at <= now, ~blocked)
                          .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))


def _claim(database: Database, now: datetime, limit: int) -> list[tuple[int, str, str, dict, str]]:
    """Take due rows by a conditional UPDATE on next_attempt_at, so two dispatchers never send one row
    at the same time (and if one died mid-send, the row is due again after CLAIM_SECONDS)."""
    out = []
    with database.transaction() as s:
        for row in _due(s, now, limit):
            won = s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.state == "pending",
                                                        OutboxMessage.next_attempt_at == row.next_attempt_at)
                            .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
                            .execution_options(synchronize_session=False)).rowcount
            if won:
                url = s.scalar(select(Partner.url).where(Partner.code == row.partner_code))
                out.append((row.id, row.message_id, url + INBOUND_PATH, dict(row.body), row.partner_code))
    return out


def dispatch(database: Database, settings: Settings, identity: partners.Identity, now: datetime | None = None,
             post: Post = _http_post, limit: int = BATCH) -> DispatchReport:
    """Deliver the due messages; safe in several processes at once. A 2xx answer is the receiver's
    acknowledgement after its commit; anything else (or no answer) is retried later."""
    now = now or utcnow()
    report = DispatchReport()
    results: list[tuple[int, bool | None, str | None]] = []
    unreachable: set[str] = set()
    for row_id, message_id, url, body, partner in _claim(database, now, limit):
        if partner in unreachable:  # one timeout per partner per run, not one per queued message
            results.append((row_id, None, None))
            continue
        text, headers = partners.signed_request(identity, message_id,
                                                lienthong_documents.with_content(body, settings.documents_path))
        try:
            status = post(url, text, headers)
            ok, error = 200 <= status < 300, None if 200 <= status < 300 else f"HTTP {status}"
        except Exception as e:  # noqa: BLE001 — partner down, DNS, timeout: all mean "try again later"
            ok, error = False, f"{type(e).__name__}: {e}"[:500]
            unreachable.add(partner)
        results.append((row_id, ok, error))
    if results:
        _record(database, settings, results, utcnow() if now is None else now, report)
    return report


def _record(database: Database, settings: Settings, results: list[tuple[int, bool | None, str | None]],
            now: datetime, report: DispatchReport) -> None:
    with database.transaction() as s:
        for row_id, ok, error in results:
            row = s.get(OutboxMessage, row_id)
            if ok is None:  # not tried: its partner just failed; due again with the first retry
                row.next_attempt_at = now + timedelta(seconds=settings.lienthong_backoff_seconds)
                continue
            partner = s.get(Partner, row.partner_code)
            row.attempts += 1
            data = {"partner": row.partner_code, "partner_name": partner.name if partner else row.partner_code,
                    "message": row.message, "message_id": row.message_id, "attempts": row.attempts}
            if ok:
                row.state, row.delivered_at, row.last_error, row.next_attempt_at = "delivered", now, None, None
                report.delivered.append(row.message_id)
                kind = "lienthong_sent"
            else:
                row.last_error = error
                data["error"] = error
                if row.attempts >= settings.lienthong_max_attempts:
                    row.state, row.next_attempt_at = "incident", None
                    report.incidents.append(row.message_id)
                    kind = "lienthong_incident"
                else:
                    row.next_attempt_at = now + timedelta(seconds=backoff(row.attempts,
                                                                          settings.lienthong_backoff_seconds))
                    report.failed.append(row.message_id)
                    kind = "lienthong_failed"
            if row.case_id is not None and not (partner and partner.kind == "portal" and ok):
                s.add(Event(case_id=row.case_id, kind=kind, at=now, step=row.message, data=data))


# --- incidents and retry -----------------------------------------------------------------------------


@dataclass
class OutboxIncident:
    id: int
    message_id: str
    partner: str
    message: str
    case_code: str | None
    attempts: int
    error: str
    since: datetime


def incidents(session: Session, user: User, limit: int = 500) -> list[OutboxIncident]:
    """Messages the dispatcher gave up on, oldest first (administrators)."""
    if not user.has_role("admin"):
        raise Forbidden.of("incidents_admin_only")
    rows = session.execute(select(OutboxMessage, Case.code).outerjoin(Case, Case.id == OutboxMessage.case_id)
                           .where(OutboxMessage.state == "incident").order_by(OutboxMessage.id)
                           .limit(max(1, min(limit, 5000)))).all()
    return [OutboxIncident(id=m.id, message_id=m.message_id, partner=m.partner_code, message=m.message,
                           case_code=code, attempts=m.attempts, error=m.last_error or "",
                           since=m.delivered_at or m.created_at) for m, code in rows]


def retry(session: Session, user: User | None, outbox_id: int, now: datetime | None = None) -> OutboxMessage:
    """Put a given-up message back in the queue, due now (after the partner was fixed)."""
    if user is not None and not user.has_role("admin"):
        raise Forbidden.of("retry_admin_only")
    now = now or utcnow()
    row = session.get(OutboxMessage, outbox_id) if isinstance(outbox_id, int) and 0 < outbox_id < 2**63 else None
    if row is None:
        raise NotFound.of("outbox_not_found", id=outbox_id)
    if row.state != "incident":
        raise Conflict.of("outbox_not_retryable", id=outbox_id, state=row.state, details={"state": row.state})
    row.state, row.attempts, row.next_attempt_at = "pending", 0, now
    if row.case_id is not None:
        session.add(Event(case_id=row.case_id, kind="lienthong_retried", at=now, actor_id=user.id if user else None,
                          step=row.message, data={"partner": row.partner_code, "message": row.message,
                                                  "message_id": row.message_id}))
    session.flush()
    return row


def retry_partner(session: Session, partner_code: str, now: datetime | None = None) -> int:
    """Queue again every given-up message to one partner (it was down for hours); returns how many."""
    ids = list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.partner_code == partner_code,
                                                              OutboxMessage.state == "incident")
                               .order_by(OutboxMessage.id)))
    for outbox_id in ids:
        retry(session, None, outbox_id, now)
    return len(ids)


def pending_for(session: Session, case_id: int) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id)
                                .order_by(OutboxMessage.id)))


def undelivered_count(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(and_(OutboxMessage.state != "delivered"))) or 0)
