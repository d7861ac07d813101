"""What every case operation shares: the transaction's clock, the audit event, the cached process
version, the case row lock, and reading a case or step the user may see (anything else is NotFound)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session, aliased, lazyload, undefer

from engine import inputs, reference
from engine.audit import append_event
from engine.errors import NotFound
from engine.models import Case, Event, ProcessVersion, User, WorkItem, utcnow
from engine.routing import can_view_case
from engine.status import STATUS


def current_time(now: datetime | None) -> datetime:
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def add_event(session: Session, case: Case, kind: str, at: datetime, **kw: Any) -> None:
    append_event(session, case, kind, at, **kw)


@dataclass(frozen=True)
class VersionInfo:
    """What running a case needs from its (immutable) process version; cached per process."""

    id: int
    bpmn_sha256: str
    nodes: dict
    forms: dict
    deadline_days: Decimal
    number: int  # the version's number within its procedure (1, 2, …)


_version_infos: dict[tuple[str, int], VersionInfo] = {}


def version_info(session: Session, version_id: int) -> VersionInfo:
    key = (str(session.get_bind().url), version_id)
    info = _version_infos.get(key)
    if info is None:
        pv = session.get(ProcessVersion, version_id)
        info = _version_infos[key] = VersionInfo(pv.id, pv.bpmn_sha256, pv.nodes, pv.forms, pv.deadline_days,
                                                       pv.version)
    return info


def forget_cached_versions() -> None:
    """Versions never change once deployed, so they are cached per database and id; call this only when
    the database behind a running process is replaced (a restore from backup, the test suite's reset)."""
    from engine import reference

    _version_infos.clear()
    reference.forget()


def lock_case(session: Session, case_id: int) -> Case:
    """Row lock on PostgreSQL (SQLite holds the write lock for the whole transaction anyway)."""
    # The workflow state is deferred on Case (lists never need it); whoever locks the case runs the workflow.
    case = session.scalar(select(Case).where(Case.id == case_id).options(lazyload("*"), undefer(Case.state))
                          .with_for_update(of=Case).execution_options(populate_existing=True))
    if case is None:
        raise NotFound.of("case_missing")
    return case


# Built once: the hot path binds only the id (building and hashing the statement per call cost more than
# running it on SQLite). The reference data's token comes along (engine.reference), and so does the step.
# The step's row is locked too: on PostgreSQL a statement that waited for the case lock re-reads only the
# rows it locks, so the step's claim is then what a concurrent claim committed (both lock the case first).
_STEP = aliased(WorkItem)
_CASE_OF_STEP = select(_STEP.case_id).where(_STEP.id == bindparam("item_id")).scalar_subquery()
# The step, its case and the case's open steps, locked and read in one statement (one round trip on the hot
# path): the rows are the step itself and every open step of its case, each with the case.
_LOCK_OF_ITEM = (select(Case, WorkItem, reference.token_column())
                 .join(WorkItem, WorkItem.case_id == Case.id)
                 .where(or_(WorkItem.id == bindparam("item_id"),
                            and_(WorkItem.case_id == _CASE_OF_STEP, WorkItem.state == "open")))
                 .order_by(WorkItem.id)
                 .options(lazyload("*"), undefer(Case.state)).with_for_update(of=[Case, WorkItem])
                 .execution_options(populate_existing=True))


@dataclass
class LockedStep:
    case: Case
    item: WorkItem
    open_items: list[WorkItem]  # the case's open steps as read under the lock (the step itself when open)


def lock_case_of_item(session: Session, item_id: int) -> LockedStep | None:
    """lock_case for the case of work item `item_id`, in one statement that also reads the step and the case's
    other open steps under the lock; None when there is no such item."""
    rows = session.execute(_LOCK_OF_ITEM, {"item_id": item_id}).all()
    if not rows:
        return None
    reference.snapshot(session, rows[0][2])
    item = next(r[1] for r in rows if r[1].id == item_id)
    return LockedStep(rows[0][0], item, [r[1] for r in rows if r[1].state == "open"])


def item_for(session: Session, user: User, item_id: int) -> WorkItem:
    item = session.get(WorkItem, item_id)
    if item is None or not can_view_case(session, user, item.case):
        raise NotFound.of("step_not_found", id=item_id)
    return item


def get_case(session: Session, user: User, code: str) -> Case:
    """A case the user may see; any other gives NotFound, so guessing codes reveals nothing."""
    code = inputs.text("code", code, Case.code)
    case = session.scalar(select(Case).where(Case.code == code))
    if case is None or not can_view_case(session, user, case):
        raise NotFound.of("case_not_found", code=code)
    return case


def open_items(session: Session, case: Case) -> list[WorkItem]:
    return list(session.scalars(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open")
                                .order_by(WorkItem.id)))


def events(session: Session, case: Case) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.at, Event.id)))


def get_item(session: Session, user: User, item_id: int) -> WorkItem:
    return item_for(session, user, item_id)


def public_status(session: Session, code: str) -> dict:
    """What anyone may know from a case code alone: the status and the appointment date."""
    code = inputs.text("code", code, Case.code)
    case = session.scalar(select(Case).where(Case.code == code))
    if case is None:
        raise NotFound.of("case_not_found", code=code)
    from engine.supplements import public_due  # engine.supplements reads cases through this module

    due_at = public_due(case)
    return {"code": case.code, "status_code": case.status_code, "status": STATUS[case.status_code],
            "due_at": due_at.isoformat() if due_at else None}
