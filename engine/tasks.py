"""Working a step: completing it (the workflow runs on under the case lock), claiming and releasing it,
and routing again the steps that found no unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine import audit, delegation, inputs, step_documents, step_outputs, step_writes, workflow
from engine import forms as form_rules
from engine.calendar import VN_TZ, classify
from engine.case_records import (
    add_event,
    current_time,
    get_case,
    item_for,
    lock_case,
    lock_case_of_item,
    version_info,
)
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Case, User, WorkItem
from engine.projection import Runner, diagram_error, project, resume, save
from engine.routing import can_view_case
from engine.status import Status


@dataclass
class Completion:
    """What completing a task did: the case after it and where the work went next."""

    case: Case
    item: WorkItem
    next_items: list[WorkItem] = field(default_factory=list)
    # The case's open steps after the step, as its projection left them (the answer needs no read back).
    open_items: list[WorkItem] | None = None


def _ensure_assignee(user: User, item: WorkItem, session: Session | None = None,
                     now: datetime | None = None) -> User | None:
    """Check the user may act on the step; returns the official they act for as a deputy, else None."""
    principal = delegation.acting_for(session, user, item, now) if session is not None else None
    if principal is not None:
        return principal
    if item.unit_id != user.unit_id or item.role_code not in user.roles:
        raise Forbidden.of("step_not_yours", step=item.name, unit=item.unit.name, role=item.role_code)
    if item.claimed_by_id and item.claimed_by_id != user.id:
        raise _claimed_elsewhere(item)
    return None


def _already_done(item: WorkItem) -> Conflict:
    at = item.completed_at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if item.completed_at else ""
    details = {"completed_by": item.completed_by.username if item.completed_by else None,
               "completed_at": item.completed_at.isoformat() if item.completed_at else None}
    if item.completed_by is None:
        return Conflict.of("step_already_done_system", step=item.name, at=at, details=details)
    return Conflict.of("step_already_done", step=item.name, who=item.completed_by.full_name, at=at, details=details)


def complete_task(session: Session, user: User, item_id: int, data: Any,
                  now: datetime | None = None, documents: list[int] | None = None) -> Completion:
    """Complete a work item: lock the case, run the workflow, re-project work items, append audit; the
    submitted data is kept whole as the step's own record (engine.step_outputs). The step's audit events
    are written together (engine.audit.batched)."""
    with audit.batched(session):
        return _complete_task(session, user, item_id, data, now, documents)


def _complete_task(session: Session, user: User, item_id: int, data: Any, now: datetime | None,
                   documents: list[int] | None) -> Completion:
    now = current_time(now)
    data = inputs.json_data("data", data)  # refused before the case is locked
    # The hot path: lock the step's case (a step never changes case) and read the step under that lock in
    # the same statement, so what a concurrent completion or claim changed (claims take the same lock) is
    # what we see. Related rows only load when an error names them.
    locked = lock_case_of_item(session, item_id)
    if locked is None or not can_view_case(session, user, locked.case, step=locked.item):
        raise NotFound.of("step_not_found", id=item_id)
    case, item = locked.case, locked.item
    _must_be_open(item)
    principal = _ensure_assignee(user, item, session, now)
    version = version_info(session, case.process_version_id)
    schema = version.forms.get(item.form) if item.form else None
    clean = form_rules.validate(schema, data)
    step_documents.check_completion(session, item, step_documents.attachments_rule(
        version.nodes.get(item.task_bpmn_id), schema), documents)
    runner = Runner(session, case, version, now)
    runner.open_items = locked.open_items  # read with the lock
    wf = runner.load()
    task = workflow.find_task(wf, item.task_uuid)
    if task is None or not workflow.is_ready(task):
        raise Conflict.of("step_not_waiting", step=item.name)
    try:
        workflow.complete_task(wf, task, clean)
    except Exception as e:  # noqa: BLE001 — a diagram error must not lose the step; roll back and say why
        raise diagram_error(e, "diagram_failed_after_step", step=item.name) from e
    item.state, item.completed_at, item.completed_by_id = "completed", now, user.id
    item.outcome = str(clean.get("outcome")) if clean.get("outcome") is not None else None
    item.timing = classify(now, item.due_at) if item.due_at else None
    step_outputs.record(session, case, item, user, clean, schema, version.id, now)
    add_event(session, case, "task_completed", now, actor_id=user.id, from_unit_id=item.unit_id,
           step=item.name, step_bpmn_id=item.task_bpmn_id, step_due_at=item.due_at, timing=item.timing,
           data={"outcome": item.outcome, "comment": clean.get("comment"),
                 **({"on_behalf_of": principal.username, "on_behalf_of_name": principal.full_name}
                    if principal else {})})
    node = version.nodes.get(item.task_bpmn_id) or {}
    if item.supplement:
        resume(runner)
    elif case.status_code == Status.RECEIVED:
        runner.set_status(Status.PROCESSING, user)
    if node.get("status_code"):
        runner.set_status(int(node["status_code"]), user)
    case.error = None
    created = project(runner, wf, user, item.unit_id, step_done=item)
    save(runner, wf)
    step_writes.write_step(session, case)
    return Completion(case=case, item=item, next_items=created, open_items=runner.open_after)


def retry_routing(session: Session, user: User, code: str, now: datetime | None = None) -> Case:
    """Route again the steps that could not be routed (after the organisation was fixed)."""
    now = current_time(now)
    case = get_case(session, user, code)
    if case.state is None:
        raise Invalid.of("case_no_process", code=code)
    case = lock_case(session, case.id)
    runner = Runner(session, case, version_info(session, case.process_version_id), now)
    wf = runner.load()
    case.error = None
    project(runner, wf, user, case.receiving_unit_id)
    save(runner, wf)
    session.flush()
    return case


def _claimed_elsewhere(item: WorkItem) -> Conflict:
    holder = item.claimed_by
    return Conflict.of("step_claimed_by", step=item.name, holder=holder.full_name,
                       details={"claimed_by": holder.username, "claimed_by_name": holder.full_name})


# What a concurrent claim or completion may have changed; re-read once the case lock is held.
_CLAIM_STATE = ["state", "claimed_by_id", "claimed_by", "completed_by_id", "completed_at", "completed_by"]


def _set_claim(session: Session, item: WorkItem, new: int | None, expected: int | None) -> bool:
    """Conditional UPDATE: the claim changes only if the step is still open and held by `expected`
    (None: nobody). On PostgreSQL a concurrent writer re-evaluates the WHERE after the first commits,
    so exactly one of two simultaneous claims matches a row."""
    held = WorkItem.claimed_by_id.is_(None) if expected is None else WorkItem.claimed_by_id == expected
    result = session.execute(update(WorkItem).where(WorkItem.id == item.id, WorkItem.state == "open", held)
                             .values(claimed_by_id=new).execution_options(synchronize_session=False))
    session.refresh(item, attribute_names=_CLAIM_STATE)
    return result.rowcount == 1


def _must_be_open(item: WorkItem) -> None:
    if item.state == "completed":
        raise _already_done(item)
    if item.state != "open":
        raise Conflict.of("step_not_open", step=item.name)


def claim(session: Session, user: User, item_id: int, now: datetime | None = None) -> WorkItem:
    """Take a step for oneself — nhận xử lý. Of two officials claiming at once exactly one wins; the other
    gets a Conflict naming the winner. Claiming a step one already holds changes nothing."""
    item = item_for(session, user, item_id)
    # The case lock orders a claim against a completion of the same case (complete_task holds it too).
    lock_case(session, item.case_id)
    session.refresh(item, attribute_names=_CLAIM_STATE)
    _must_be_open(item)
    _ensure_assignee(user, item, session, now)
    if item.claimed_by_id == user.id:
        return item
    if not _set_claim(session, item, user.id, None):
        _must_be_open(item)
        if item.claimed_by_id != user.id:
            raise _claimed_elsewhere(item)
        return item
    add_event(session, item.case, "claimed", current_time(now), actor_id=user.id, step=item.name,
           step_bpmn_id=item.task_bpmn_id)
    return item


def unclaim(session: Session, user: User, item_id: int, now: datetime | None = None) -> WorkItem:
    """Release a step to the shared inbox: by its holder, or by a head of the step's own unit. Only open
    steps can be released, and releasing a step nobody holds records nothing."""
    item = item_for(session, user, item_id)
    lock_case(session, item.case_id)
    session.refresh(item, attribute_names=_CLAIM_STATE)
    _must_be_open(item)
    holder = item.claimed_by_id
    if holder is None:
        return item
    if holder != user.id and not (user.can("releases_claims") and user.unit_id == item.unit_id):
        raise Forbidden.of("step_release_forbidden")
    if not _set_claim(session, item, None, holder):
        _must_be_open(item)
        if item.claimed_by_id is not None:
            raise _claimed_elsewhere(item)
        return item
    add_event(session, item.case, "unclaimed", current_time(now), actor_id=user.id, step=item.name,
           step_bpmn_id=item.task_bpmn_id, data={"held_by": holder})
    return item
