"""The liên thông inbox: a verified message is stored once per message id, applied (engine.messages) in the
same transaction, and acknowledged only after that transaction commits. A message id seen before is
acknowledged again without touching anything, so a sender retrying after a lost acknowledgement changes
nothing; a replay after the signature's five-minute window is refused by the signature check itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import messages, partners
from engine.db import Database
from engine.lienthong_documents import Files
from engine.models import InboxMessage, utcnow


@dataclass
class Receipt:
    message_id: str
    duplicate: bool
    case_code: str | None = None


def receive(session: Session, headers: dict[str, str], raw: bytes, now: datetime | None = None,
            files: Files | None = None) -> Receipt:
    """Verify, store once, apply — inside the caller's transaction; the caller acknowledges after commit."""
    now = now or utcnow()
    partner, body = partners.verify(session, headers, raw)
    partners.check_message(body)
    message_id = str(body["id"])
    if session.get(InboxMessage, message_id) is not None:
        return Receipt(message_id, duplicate=True)
    row = InboxMessage(message_id=message_id, sender=partner.code, message=str(body["message"])[:100],
                       received_at=now, body=body)
    session.add(row)
    session.flush()  # two deliveries of one message at once: the second fails here (primary key)
    case = messages.handle(session, partner, body, now, files)
    row.case_id = case.id if case is not None else None
    session.flush()
    return Receipt(message_id, duplicate=False, case_code=case.code if case is not None else None)


def receive_committed(database: Database, headers: dict[str, str], raw: bytes,
                      now: datetime | None = None, files: Files | None = None) -> Receipt:
    """`receive` in its own transaction; a concurrent duplicate that lost the insert is a duplicate."""
    try:
        with database.transaction() as s:
            return receive(s, headers, raw, now, files)
    except IntegrityError:
        with database.transaction() as s:
            _partner, body = partners.verify(s, headers, raw)
            if s.get(InboxMessage, str(body.get("id"))) is not None:
                return Receipt(str(body["id"]), duplicate=True)
        raise
