"""Appending an audit event: one Core INSERT at once, in the caller's transaction.

Events are append-only and nothing reads them back as objects in the transaction that writes them, so
they skip the ORM's unit of work (its per-object bookkeeping was a large part of a step's cost). Order is
kept: events still pending as ORM objects (code that adds Event rows itself) are flushed first, so ids
follow the order in which events were made — the Phiếu kiểm soát orders by (at, id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine.models import Case, Event

_INSERT = insert(Event.__table__)


def append_event(session: Session, case: Case | int, kind: str, at: datetime, **kw: Any) -> None:
    """Record `kind` on the case at `at`; keyword arguments are Event's columns (data defaults to {})."""
    case_id = case if isinstance(case, int) else case.id
    if case_id is None or any(isinstance(o, Event) for o in session.new):
        session.flush()
        case_id = case if isinstance(case, int) else case.id
    row = {"actor_id": None, "from_unit_id": None, "to_unit_id": None, "step": None, "step_bpmn_id": None,
           "step_due_at": None, "timing": None, **kw, "case_id": case_id, "kind": kind, "at": at,
           "data": kw.get("data") or {}}
    session.connection().execute(_INSERT, row)
    if kind in ("received", "task_completed"):  # counted by engine.metrics once the transaction commits
        from engine import metrics

        metrics.pending(session, kind, str(row["data"].get("channel", "")) if kind == "received" else "")
