"""Prometheus metrics (prometheus_client). The counters of the work itself — receptions and completed steps —
are read from the audit events a transaction commits, so every way in (API, pages, CLI, timers) is counted
once and a rolled-back transaction not at all, without a line in the services.

Under gunicorn each worker is a process: set PROMETHEUS_MULTIPROC_DIR (an empty folder, the same for the web
workers and `motcua scheduler` on a node) before they start, and /metrics adds up every process's values.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session

from engine.models import Event

REQUEST_SECONDS = Histogram("motcua_http_request_duration_seconds", "Time to answer an HTTP request",
                            ["endpoint", "method"],
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
REQUESTS = Counter("motcua_http_requests", "HTTP requests answered", ["endpoint", "method", "status"])
RECEPTIONS = Counter("motcua_receptions", "Dossiers received into processing (tiếp nhận)", ["channel"])
COMPLETIONS = Counter("motcua_task_completions", "Steps completed by officials")
SWEEP_SECONDS = Histogram("motcua_sweep_duration_seconds", "Time of one scheduler sweep (lease holder only)",
                          buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0))

_PENDING = "motcua_metrics"


def pending(session: Session, kind: str, channel: str = "") -> None:
    """A reception or completion written in this transaction (engine.audit inserts events directly), counted
    only if the transaction commits."""
    session.info.setdefault(_PENDING, []).append((kind, channel))


def _after_flush(session: Session, _context: Any) -> None:
    for obj in session.new:
        if isinstance(obj, Event) and obj.kind in ("received", "task_completed"):
            channel = (obj.data or {}).get("channel", "") if obj.kind == "received" else ""
            pending(session, obj.kind, str(channel))


def _after_commit(session: Session) -> None:
    for kind, channel in session.info.pop(_PENDING, ()):
        if kind == "received":
            RECEPTIONS.labels(channel=channel or "desk").inc()
        else:
            COMPLETIONS.inc()


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    """Count receptions and completions on every Session of this process (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
