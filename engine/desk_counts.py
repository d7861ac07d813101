"""What waits for the one-stop desk, counted: online dossiers waiting for acceptance, results to return, and
(at merge, from engine.supplements) supplements received. The desk page and the navigation show them.

Each count is a function (session, user) → int in COUNTERS; a new kind of waiting work is one more entry,
nothing else changes. Only users whose role receives dossiers have a desk (engine.routing.may_receive)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import supplements
from engine.case_records import version_info
from engine.models import Case, User, WorkItem
from engine.routing import may_receive
from engine.status import Status

CountFn = Callable[[Session, User], int]


@dataclass(frozen=True)
class Counter:
    key: str  # the web layer labels it and links it to its page
    count: CountFn


def _desk(user: User) -> Sequence:
    """The cases a desk answers for: its own unit's (every desk's for an administrator)."""
    return () if user.has_role("admin") else (Case.receiving_unit_id == user.unit_id,)


def online_waiting(session: Session, user: User) -> int:
    """Online dossiers at the user's desk waiting to be accepted (status 1, no workflow yet) — the same
    dossiers engine.public.pending_online lists as new."""
    return session.scalar(select(func.count()).select_from(Case).where(
        Case.channel == "online", Case.status_code == int(Status.NEW), Case.state.is_(None), *_desk(user))) or 0


def results_to_return(session: Session, user: User) -> int:
    """Open steps at the user's unit and roles that return a result to the applicant: the steps whose diagram
    node sets status 10 (Đã trả kết quả) when done — the approval's and the refusal's alike."""
    rows = session.execute(
        select(Case.process_version_id, WorkItem.task_bpmn_id, func.count())
        .join(Case, Case.id == WorkItem.case_id)
        .where(WorkItem.unit_id == user.unit_id, WorkItem.role_code.in_(sorted(user.roles)),
               WorkItem.state == "open", Case.process_version_id.is_not(None))
        .group_by(Case.process_version_id, WorkItem.task_bpmn_id)).all()
    total = 0
    for version_id, bpmn_id, n in rows:
        node = version_info(session, version_id).nodes.get(bpmn_id) or {}
        if str(node.get("status_code") or "") == str(int(Status.RETURNED)):
            total += n
    return total


def supplements_received(session: Session, user: User) -> int:
    """Supplements the applicants sent that the desk has yet to accept (engine.supplements)."""
    return supplements.count_received(session, [user.unit_id])


COUNTERS: list[Counter] = [
    Counter("online_waiting", online_waiting),
    Counter("results_to_return", results_to_return),
    Counter("supplements_received", supplements_received),
]


def desk_counts(session: Session, user: User, counters: Sequence[Counter] | None = None) -> dict[str, int]:
    """Each counter's figure for the user's desk, in order; empty for someone who has no desk."""
    if not may_receive(user):
        return {}
    return {c.key: c.count(session, user) for c in (COUNTERS if counters is None else counters)}
