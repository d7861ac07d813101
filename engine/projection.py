"""Running a case's workflow: READY user tasks projected into work items routed to units, the case clock
paused and resumed for a supplement request, BPMN timers fired, and the state saved back on the case."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, lazyload

from engine import work_notices, workflow
from engine.calendar import WorkCalendar
from engine.case_records import VersionInfo, add_event, current_time, version_info
from engine.deadlines import calendar_for, due, one_working_day_before, script_engine
from engine.errors import Invalid, RoutingError
from engine.models import Case, ProcessVersion, User, WorkItem
from engine.routing import origin_unit_id, route
from engine.status import Status, set_status


class Runner:
    """Loads, runs and saves one case's workflow with the calendar and clock of this transaction."""

    def __init__(self, session: Session, case: Case, version: VersionInfo, now: datetime) -> None:
        self.session, self.case, self.version, self.now = session, case, version, now
        self.calendar: WorkCalendar = calendar_for(session)
        self.engine = script_engine(self.calendar)
        workflow.use_clock(lambda: self.now)  # timers fire on this transaction's clock, as scripts see it
        self.key = f"pv{version.id}:{version.bpmn_sha256[:16]}"
        self.unrouted: list[tuple[str, str, str]] = []  # (step, level, why) of steps that found no unit
        self.notice_kind = work_notices.NEW_WORK  # how the people of a new step are told (a timer says so)
        # The case's open steps when already read under the case lock (engine.case_records.lock_case_of_item), so
        # `project` needs no query between the step's events and they go in one statement (engine.audit).
        self.open_items: list[WorkItem] | None = None
        self.open_after: list[WorkItem] | None = None  # the case's open steps after the last projection

    def start(self, data: dict) -> Any:
        return workflow.start(self.key, self._spec_json, data, self.engine)

    def load(self) -> Any:
        return workflow.load(self.key, self._spec_json, self.case.state or "{}", self.engine)

    def set_status(self, code: int, actor: User | None = None) -> None:
        """The case's status changes through the one transition function, on this transaction's clock."""
        set_status(self.session, self.case, code, at=self.now, by=actor)

    def _spec_json(self) -> str:
        # Read only when this process has not restored the version's spec yet.
        return self.session.scalar(select(ProcessVersion.spec_json).where(ProcessVersion.id == self.version.id))


def project(runner: Runner, wf: Any, actor: User | None, from_unit_id: int | None,
             step_done: WorkItem | None = None) -> list[WorkItem]:
    """Mirror READY user tasks into work items; cancel items whose task is gone (e.g. a timer fired)."""
    # One flush at the end of the step instead of one before every query below; so the state of items
    # changed in this step is checked in memory, not in SQL.
    with runner.session.no_autoflush:
        return _project_unflushed(runner, wf, actor, from_unit_id, step_done)


_OPEN_ITEMS = (select(WorkItem).where(WorkItem.case_id == bindparam("case_id"), WorkItem.state == "open")
               .options(lazyload("*")))  # built once; the hot path binds the case


def _project_unflushed(runner: Runner, wf: Any, actor: User | None, from_unit_id: int | None,
                       step_done: WorkItem | None) -> list[WorkItem]:
    session, case, now = runner.session, runner.case, runner.now
    rows = runner.open_items if runner.open_items is not None else session.scalars(_OPEN_ITEMS, {"case_id": case.id})
    runner.open_items = None  # read once: a second projection in the same runner reads them again
    open_items = {w.task_uuid: w for w in rows if w.state == "open"}
    ready = workflow.ready_user_tasks(wf)
    ready_ids = {str(t.id) for t in ready}
    for uuid, item in open_items.items():
        if uuid not in ready_ids:
            item.state = "cancelled"
            add_event(session, case, "task_cancelled", now, step=item.name, step_bpmn_id=item.task_bpmn_id,
                   from_unit_id=item.unit_id)
    created: list[WorkItem] = []
    for task in ready:
        if str(task.id) in open_items:
            continue
        node = runner.version.nodes.get(task.task_spec.bpmn_id) or {}
        name = node.get("name") or task.task_spec.bpmn_name or task.task_spec.bpmn_id
        try:
            origin = origin_unit_id(session, case, node.get("role"))  # competent unit, or the desk for desk steps
            unit = route(session, origin, node.get("level") or "", case.data)
        except RoutingError as e:
            # Stored in Vietnamese whatever the language of the request that hit it: the case's record.
            case.error = f"{name}: {e.vietnamese}"
            runner.unrouted.append((name, node.get("level") or "", e.message))
            add_event(session, case, "routing_error", now, step=name, step_bpmn_id=task.task_spec.bpmn_id,
                   data={"message": e.vietnamese})
            continue
        item = WorkItem(case_id=case.id, task_uuid=str(task.id), task_bpmn_id=task.task_spec.bpmn_id, name=name,
                        unit_id=unit.id, role_code=node.get("role") or "", level_code=unit.level_code,
                        form=node.get("form"), state="open", supplement=bool(node.get("supplement")),
                        created_at=now, due_at=due(runner.calendar, now, node.get("deadline_days")))
        if item.due_at is not None:
            item.remind_at = _reminder_time(runner.calendar, item.due_at)
        session.add(item)
        created.append(item)
        add_event(session, case, "handover", now, actor_id=actor.id if actor else None,
               from_unit_id=from_unit_id, to_unit_id=unit.id, step=name, step_bpmn_id=item.task_bpmn_id,
               step_due_at=item.due_at,
               data={"role": item.role_code, "level": unit.level_code,
                     "after": step_done.name if step_done else None})
        if item.supplement:
            _pause(runner, item, task.data)
    # Every new step is announced here, the one place work items are born, whatever opened them.
    work_notices.announce_steps(session, case, created, now, kind=runner.notice_kind)
    still_open = [w for w in open_items.values() if w.state == "open"] + created
    runner.open_after = still_open
    if still_open:
        case.current_unit_id = min(still_open, key=lambda w: (w.due_at is None, w.due_at, w.id or 0)).unit_id
    return created


def _reminder_time(calendar: WorkCalendar, due_at: datetime) -> datetime:
    """One working day before the due moment (the sweep reminds the assignee then)."""
    return one_working_day_before(calendar, due_at)


def _pause(runner: Runner, item: WorkItem, data: dict) -> None:
    """Supplement request — yêu cầu bổ sung (NĐ 61 Điều 19.4): the case clock stops while the applicant
    completes the dossier. The waiting step has no deadline of its own: the applicant, not an official,
    is late, so the sweep neither reminds nor marks it overdue."""
    case = runner.case
    item.due_at = item.remind_at = None
    case.paused_at = runner.now
    case.supplement_count += 1
    runner.set_status(Status.SUPPLEMENT)
    add_event(runner.session, case, "paused", runner.now, step=item.name,
           data={"supplement_count": case.supplement_count})
    from engine import supplements  # the applicant is told what is missing (supplements → reception → here)

    supplements.on_paused(runner.session, case, item, data, runner.now)


def resume(runner: Runner) -> None:
    """The dossier is complete again: the time limit restarts from zero with a new appointment, which
    becomes the appointment of record (an apology later moves this one; the old one is in the event)."""
    case = runner.case
    case.paused_at = None
    runner.set_status(Status.PROCESSING)
    case.clock_started_at = runner.now
    old = case.due_at
    case.due_at = case.original_due_at = due(runner.calendar, runner.now, runner.version.deadline_days)
    add_event(runner.session, case, "resumed", runner.now,
           data={"previous_due_at": old.isoformat() if old else None,
                 "due_at": case.due_at.isoformat() if case.due_at else None})
    from engine import supplements

    supplements.on_resumed(runner.session, case, runner.now)


def fire_timers(session: Session, case: Case, now: datetime | None = None) -> bool:
    """Fire the case's BPMN timers that are due at `now` (the caller holds lock_case); re-project work
    items and save. Returns whether anything happened (a timer event is appended only then)."""
    now = current_time(now)
    if case.state is None or case.next_timer_at is None:
        return False
    runner = Runner(session, case, version_info(session, case.process_version_id), now)
    runner.notice_kind = "timer"
    wf = runner.load()
    before = case.next_timer_at
    try:
        workflow.fire_due_timers(wf)
    except Exception as e:  # noqa: BLE001 — the sweep records it on the case and retries later
        raise diagram_error(e, "diagram_timer_failed") from e
    created = project(runner, wf, None, case.current_unit_id)
    save(runner, wf)
    if case.next_timer_at == before and not created and not workflow.is_completed(wf):
        return False
    add_event(session, case, "timer", now, data={"due_at": before.isoformat(),
                                              "next_timer_at": case.next_timer_at.isoformat()
                                              if case.next_timer_at else None,
                                              "steps": [i.name for i in created]})
    session.flush()
    return True


def advance(session: Session, case: Case, apply: Any, now: datetime | None = None) -> list[WorkItem]:
    """Run `apply(wf)` on the locked case's workflow (a partner's message arrived), re-project, save."""
    from engine.errors import Conflict

    now = current_time(now)
    runner = Runner(session, case, version_info(session, case.process_version_id), now)
    wf = runner.load()
    try:
        apply(wf)
    except ValueError as e:
        raise Conflict.of("case_message_refused", code=case.code, error=str(e), details={"message": str(e)}) from e
    except Exception as e:  # noqa: BLE001 — a diagram error after the message: 422 naming the element
        raise diagram_error(e, "diagram_message_failed") from e
    if case.status_code == Status.RECEIVED:
        runner.set_status(Status.PROCESSING)
    created = project(runner, wf, None, case.current_unit_id)
    save(runner, wf)
    session.flush()
    return created


def diagram_error(e: Exception, text_code: str, **params: Any) -> Invalid:
    """A 422 naming the BPMN element whose script, condition or timer failed (or ran out of budget): TEXTS[
    text_code] says what failed, its `_at` twin where (the element's id and name)."""
    element, name, detail = workflow.failure(e)
    if not element:
        return Invalid.of(text_code, detail=detail, details={"element": None}, **params)
    shown = element + (f" «{name}»" if name and name != element else "")
    return Invalid.of(f"{text_code}_at", element=shown, detail=detail, details={"element": element}, **params)


def save(runner: Runner, wf: Any) -> None:
    case = runner.case
    from engine import messages  # liên thông: what the diagram sent in this step goes to the outbox

    messages.drain(runner.session, case, wf, runner.version.nodes, runner.now, case.current_unit_id)
    case.state = workflow.dump(wf)
    case.data = _json_safe(workflow.workflow_data(wf))
    case.next_timer_at = workflow.next_timer_due(wf)
    if workflow.is_completed(wf):
        ends = [runner.version.nodes.get(e) or {} for e in workflow.completed_end_events(wf)]
        results = [e.get("result") for e in ends if e.get("result")]
        case.result = case.result or (results[-1] if results else None)
        explicit = [e["status_code"] for e in ends if e.get("status_code")]
        runner.set_status(explicit[-1] if explicit else max(case.status_code, Status.RESOLVED))
        case.current_unit_id = case.receiving_unit_id
        case.next_timer_at = None


def _json_safe(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str))
