"""What an operator's probes ask: is the database reachable, is its schema the one this code expects, who
holds the scheduler lease, and how many e-mails wait to be sent."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.db import Database
from engine.models import Notification, User, utcnow
from engine.resources import migrations
from engine.scheduler import lease_holder


@lru_cache(maxsize=1)
def schema_heads() -> frozenset[str]:
    """The Alembic head revision(s) shipped with this code."""
    return frozenset(ScriptDirectory(str(migrations())).get_heads())


def readiness(database: Database, now: datetime | None = None) -> dict[str, Any]:
    """`ready` is true when the database answers and its schema is at head. The scheduler lease is reported,
    not required: web nodes serve while a scheduler takes over (docs/operations.md)."""
    now = now or utcnow()
    try:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
        with database.transaction() as s:
            lease = lease_holder(s)
    except SQLAlchemyError as e:
        return {"ready": False, "database": {"ok": False, "error": type(e).__name__}}
    at_head = current == schema_heads()
    holder, expires = lease if lease else (None, None)
    return {
        "ready": at_head,
        "database": {"ok": True, "backend": database.engine.dialect.name},
        "schema": {"at_head": at_head, "current": sorted(current), "head": sorted(schema_heads())},
        "scheduler": {"holder": holder, "active": bool(expires and expires > now),
                      "lease_expires_at": expires.isoformat() if expires else None},
    }


def outbox_backlog(session: Session) -> int:
    """Notifications with an e-mail address (the applicant's or the official's) not sent yet."""
    return session.scalar(
        select(func.count()).select_from(Notification).outerjoin(User, User.id == Notification.user_id)
        .where(Notification.emailed_at.is_(None),
               or_(func.coalesce(Notification.email, "") != "", func.coalesce(User.email, "") != ""))) or 0
