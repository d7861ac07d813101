"""Appending an audit event: a Core INSERT in the caller's transaction, one per event or, inside `batched`
(a step's hot path), one executemany for all the events of the step.

Events are append-only and nothing reads them back as objects in the transaction that writes them, so
they skip the ORM's unit of work (its per-object bookkeeping was a large part of a step's cost). Order is
kept: events still pending as ORM objects (code that adds Event rows itself) are flushed first, so ids
follow the order in which events were made — the Phiếu kiểm soát orders by (at, id). Events held by
`batched` are written before any ORM statement or flush of the session, before a savepoint and at the end
of the block, so whatever the transaction reads next sees them, in order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from engine.models import Case, Event, Notification, StepOutput

_INSERT = insert(Event.__table__)
_INSERT_OUTPUT = insert(StepOutput.__table__)
_PENDING = "motcua_pending_events"  # Session.info key: rows held by `batched`
_OUTPUTS = "motcua_pending_step_outputs"  # Session.info key: step outputs held by `batched` (append-only too)
_NOTICES = "motcua_pending_notices"  # Session.info key: bell notices of the step's new work, held the same way
_INSERT_NOTICE = insert(Notification.__table__)


def _holding(session: Session) -> bool:
    return bool(session.info.get(_PENDING) or session.info.get(_OUTPUTS) or session.info.get(_NOTICES))


def hold_output(session: Session, row: dict) -> bool:
    """Inside `batched`, hold a step output row (engine.step_outputs) to be written with the step's other
    rows, under the same rules as events; answers False outside a batch (the caller writes it now)."""
    if _PENDING not in session.info:
        return False
    session.info.setdefault(_OUTPUTS, []).append(row)
    return True


def hold_notices(session: Session, rows: list[dict]) -> bool:
    """Inside `batched`, hold full notification rows (engine.notifications) to be written with the step's other
    rows, under the same rules as events; answers False outside a batch (the caller writes them now)."""
    if _PENDING not in session.info:
        return False
    session.info.setdefault(_NOTICES, []).extend(rows)
    return True


def append_event(session: Session, case: Case | int, kind: str, at: datetime, **kw: Any) -> None:
    """Record `kind` on the case at `at`; keyword arguments are Event's columns (data defaults to {})."""
    case_id = case if isinstance(case, int) else case.id
    if case_id is None or any(isinstance(o, Event) for o in session.new):
        session.flush()
        case_id = case if isinstance(case, int) else case.id
    row = {"actor_id": None, "from_unit_id": None, "to_unit_id": None, "step": None, "step_bpmn_id": None,
           "step_due_at": None, "timing": None, **kw, "case_id": case_id, "kind": kind, "at": at,
           "data": kw.get("data") or {}}
    pending = session.info.get(_PENDING)
    if pending is not None:
        pending.append(row)
    else:
        session.connection().execute(_INSERT, row)
    if kind in ("received", "task_completed"):  # counted by engine.metrics once the transaction commits
        from engine import metrics

        metrics.pending(session, kind, str(row["data"].get("channel", "")) if kind == "received" else "")


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Hold the events appended in the block and write them in one statement (a step makes 2–4). An error
    in the block writes what was appended before it, as unbatched appends would have."""
    if _PENDING in session.info:  # an enclosing block writes them
        yield
        return
    session.info[_PENDING] = []
    try:
        yield
    except BaseException:
        try:
            write_pending(session)
        except Exception:  # noqa: BLE001 — the transaction failed already; its own error is the one to raise
            pass
        raise
    else:
        write_pending(session)
    finally:
        session.info.pop(_PENDING, None)
        session.info.pop(_OUTPUTS, None)
        session.info.pop(_NOTICES, None)


def write_rows(session: Session, rows: list[dict]) -> None:
    """Write event rows handed over by `take_pending` (one statement)."""
    if rows:
        session.connection().execute(_INSERT, rows)


def write_pending(session: Session, transaction: SessionTransaction | None = None) -> None:
    """Write the events `batched` holds now (the block goes on holding later ones), in `transaction` (by
    default the session's current one)."""
    pending, outputs, notices = (session.info.get(k) for k in (_PENDING, _OUTPUTS, _NOTICES))
    if pending or outputs or notices:
        conn = (transaction._connection_for_bind(session.get_bind(), None) if transaction is not None
                else session.connection())
        if notices:
            conn.execute(_INSERT_NOTICE, take_notices(session))
        if outputs:
            conn.execute(_INSERT_OUTPUT, take_outputs(session))
        if pending:
            conn.execute(_INSERT, take_pending(session))


def take_pending(session: Session) -> list[dict]:
    """Hand over the events `batched` holds, for a caller that writes them in its own statement now
    (engine.step_writes on PostgreSQL); the block goes on holding later ones."""
    return _take(session, _PENDING)


def take_outputs(session: Session) -> list[dict]:
    """Hand over the step outputs `batched` holds, like take_pending."""
    return _take(session, _OUTPUTS)


def take_notices(session: Session) -> list[dict]:
    """Hand over the notification rows `batched` holds, like take_pending."""
    return _take(session, _NOTICES)


def _take(session: Session, key: str) -> list[dict]:
    held = session.info.get(key)
    rows = list(held or ())
    if held:
        held.clear()
    return rows


def write_notices(session: Session, rows: list[dict]) -> None:
    if rows:
        session.connection().execute(_INSERT_NOTICE, rows)


def write_outputs(session: Session, rows: list[dict]) -> None:
    if rows:
        session.connection().execute(_INSERT_OUTPUT, rows)


@event.listens_for(Session, "do_orm_execute")
def _before_orm_statement(state: ORMExecuteState) -> None:
    if _holding(state.session):
        write_pending(state.session)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if _holding(session):
        write_pending(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if _holding(session):
        write_pending(session)


@event.listens_for(Session, "after_transaction_create")
def _before_savepoint(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint rolled back must not take events appended before it: they go in before the SAVEPOINT.
    if transaction.nested and _holding(session):
        write_pending(session, transaction.parent)
