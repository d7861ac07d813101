"""The one adapter around SpiffWorkflow 3.2: parse, create, save and load workflows, find READY user
tasks and the next timer. Everything else in motcua talks to SpiffWorkflow through here, so an upgrade
(its timer and serializer APIs move between releases) is a change in one file."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine import budget

_SPEC_REF = "MotcuaSpecRef"


class _SpecRef:
    """Stand-in for a spec inside a saved state: the real spec lives once per process version."""


_specs: dict[str, Any] = {}  # ref key -> restored spec, shared read-only by every instance
_versions: dict[str, tuple[Any, dict[str, Any]]] = {}
_specs_lock = threading.Lock()

_clock: ContextVar[Callable[[], datetime] | None] = ContextVar("motcua_workflow_clock", default=None)


class _ClockDatetime(datetime):
    """Spiff's timers compare with datetime.now(); motcua runs them on the transaction's clock instead, so
    `motcua tick --now` and tests decide when a timer is due (real time when no clock is set)."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        clock = _clock.get()
        if clock is None:
            return datetime.now(tz)
        value = clock()
        return value.astimezone(tz) if tz is not None else value


_spiff_timer.datetime = _ClockDatetime


def current_time() -> datetime:
    """The clock the running transaction set with use_clock (real time when none)."""
    clock = _clock.get()
    return clock() if clock is not None else datetime.now(UTC)


def use_clock(now: Callable[[], datetime]) -> None:
    """Timers evaluated in this thread/context from now on compare with `now()`."""
    _clock.set(now)


_registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
_registry.register(_SpecRef, lambda v: {}, lambda d: _specs[d["key"]], typename=_SPEC_REF)
_serializer = BpmnWorkflowSerializer(_registry)


def parse(xml: bytes, filename: str, process_id: str) -> tuple[Any, dict[str, Any]]:
    """Parse with the XSD validator on; raises lxml's XMLSyntaxError or Spiff's ValidationException."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(xml, filename=filename)
    spec = parser.get_spec(process_id)
    return spec, parser.get_subprocess_specs(process_id)


def spec_json(spec: Any, subprocess_specs: dict[str, Any]) -> str:
    """The spec part of a serialization, stored once per process version."""
    wf = BpmnWorkflow(spec, subprocess_specs)
    dct = json.loads(_serializer.serialize_json(wf))
    return json.dumps({"spec": dct["spec"], "subprocess_specs": dct["subprocess_specs"]})


def _ensure_specs(key: str, spec_blob: str | Callable[[], str]) -> tuple[Any, dict[str, Any]]:
    cached = _versions.get(key)
    if cached is None:
        with _specs_lock:
            dct = json.loads(spec_blob() if callable(spec_blob) else spec_blob)
            spec = _registry.restore(dct["spec"])
            subs = {name: _registry.restore(sub) for name, sub in dct["subprocess_specs"].items()}
            _specs[key] = spec
            _specs.update({f"{key}/{name}": sub for name, sub in subs.items()})
            cached = _versions[key] = (spec, subs)
    return cached


def start(key: str, spec_blob: str | Callable[[], str], data: dict, script_engine: PythonScriptEngine) -> BpmnWorkflow:
    """Create an instance of the process version `key`, seed its data and run it to the first wait."""
    spec, subs = _ensure_specs(key, spec_blob)
    wf = BpmnWorkflow(spec, subs, script_engine=script_engine)
    wf.task_tree.data.update(data)
    with budget.step_budget():
        wf.do_engine_steps()
    return wf


def dry_run(spec: Any, subprocess_specs: dict[str, Any], data: dict, script_engine: PythonScriptEngine) -> None:
    """Run a freshly parsed spec to its first wait and throw the instance away (deploy's start check);
    raises what a reception would raise."""
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    wf.task_tree.data.update(data)
    with budget.step_budget():
        wf.do_engine_steps()


def dump(wf: BpmnWorkflow) -> str:
    """Serialize the instance state without its spec (the spec is swapped for a reference meanwhile, so
    it is not converted on every save)."""
    spec, subs = wf.spec, wf.subprocess_specs
    wf.spec, wf.subprocess_specs = _SpecRef(), {}
    try:
        return _serializer.serialize_json(wf)
    finally:
        wf.spec, wf.subprocess_specs = spec, subs


def load(key: str, spec_blob: str | Callable[[], str], state: str, script_engine: PythonScriptEngine) -> BpmnWorkflow:
    _, subs = _ensure_specs(key, spec_blob)
    dct = json.loads(state)
    dct["spec"] = {"typename": _SPEC_REF, "key": key}
    dct["subprocess_specs"] = {name: {"typename": _SPEC_REF, "key": f"{key}/{name}"} for name in subs}
    _serializer.migrate(dct)
    wf = _serializer.from_dict(dct)
    wf.script_engine = script_engine
    return wf


def ready_user_tasks(wf: BpmnWorkflow) -> list[Task]:
    return list(wf.get_tasks(state=TaskState.READY, manual=True))


def find_task(wf: BpmnWorkflow, task_id: str) -> Task | None:
    from uuid import UUID

    try:
        return wf.get_task_from_id(UUID(task_id))
    except Exception:  # noqa: BLE001 — Spiff raises its own TaskNotFoundException or ValueError
        return None


def is_ready(task: Task) -> bool:
    return task.has_state(TaskState.READY)


def complete_task(wf: BpmnWorkflow, task: Task, form_data: dict) -> None:
    """Merge the form into the task data, run the task and everything automatic after it."""
    task.task_spec.add_data_from_form(task, form_data)
    with budget.step_budget():
        task.run()
        wf.do_engine_steps()


def next_timer_due(wf: BpmnWorkflow) -> datetime | None:
    """The earliest due time among waiting timer events; indexed on the case row for the scheduler."""
    dues = []
    for t in wf.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent):
        value = t.internal_data.get("event_value")
        if value and isinstance(t.task_spec.event_definition, TimerEventDefinition):
            dues.append(TimerEventDefinition.get_datetime(value if isinstance(value, str) else value["next"]))
    return min(dues, default=None)


def fire_due_timers(wf: BpmnWorkflow) -> None:
    # 3.2 renamed refresh_waiting_tasks() to refresh_timers(); keep the difference here.
    refresh = getattr(wf, "refresh_timers", None) or wf.refresh_waiting_tasks
    with budget.step_budget():
        refresh()
        wf.do_engine_steps()


def failure(e: BaseException) -> tuple[str, str, str]:
    """(element id, element name, what went wrong) of an error raised while diagram code ran; a budget
    overrun is reported by its own message rather than Spiff's wrapper text."""
    spec = getattr(getattr(e, "task", None), "task_spec", None) or getattr(e, "task_spec", None)
    element = str(getattr(spec, "bpmn_id", None) or getattr(spec, "name", None) or "")
    name = str(getattr(spec, "bpmn_name", None) or "")
    cause: BaseException | None = e
    for _ in range(20):  # the chain is short; bounded in case it loops
        if cause is None or isinstance(cause, budget.BudgetExceeded):
            break
        cause = cause.__cause__ or cause.__context__
    return element, name, str(cause) if isinstance(cause, budget.BudgetExceeded) else str(e)


def workflow_data(wf: BpmnWorkflow) -> dict:
    """Case data as the workflow sees it now: the final data when done, else the last completed task's."""
    if wf.is_completed():
        return dict(wf.data)
    done = [t for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id]
    latest = max(done, key=lambda t: t.last_state_change, default=None)
    return dict(latest.data) if latest is not None else dict(wf.task_tree.data)


def completed_end_events(wf: BpmnWorkflow) -> list[str]:
    return [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)
            if type(t.task_spec).__name__ == "EndEvent" and t.task_spec.bpmn_id]


def is_completed(wf: BpmnWorkflow) -> bool:
    return wf.is_completed()


def version_spec(key: str, spec_blob: str | Callable[[], str]) -> Any:
    """The parsed top-level spec of a process version (cached like every spec)."""
    return _ensure_specs(key, spec_blob)[0]


def waiting_steps(wf: BpmnWorkflow) -> list[str]:
    """BPMN ids the instance waits on: READY user tasks, WAITING timers and messages."""
    ready = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY, manual=True)]
    waiting = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent)]
    return [b for b in ready + waiting if b]


def migrate(wf: BpmnWorkflow, key: str, spec_blob: str | Callable[[], str], mapping: dict[str, str]) -> None:
    """Move a running instance onto another version's spec with SpiffWorkflow's own diff (SpecDiff aligns
    task specs by BPMN id, then by structure; migrate_workflow swaps specs and re-predicts what waits).

    motcua adds two things (docs/restructuring.md): `mapping` names the successor of a step the new version
    no longer has, and finished tasks whose spec is gone are spliced out of Spiff's tree — their record is
    motcua's audit trail and work items, which migration never touches — so the state stays loadable."""
    from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow

    new_spec, new_subs = _ensure_specs(key, spec_blob)
    top, _subs = diff_workflow(_registry, wf, new_spec, new_subs)
    for task in list(wf.tasks.values()):
        target = mapping.get(task.task_spec.name)
        if target and target in new_spec.task_specs:
            top.alignment[task] = new_spec.task_specs[target]
    for task in list(wf.get_tasks(skip_subprocesses=True)):
        if top.alignment.get(task) is None and task.id in wf.tasks and task.parent is not None:
            _splice(wf, task)
    migrate_workflow(top, wf, new_spec)
    wf.subprocess_specs = new_subs
    with budget.step_budget():
        wf.do_engine_steps()


def _splice(wf: BpmnWorkflow, task: Task) -> None:
    """Remove a task from the tree, its children taking its place under its parent."""
    parent = task.parent
    index = parent._children.index(task.id)
    parent._children[index:index + 1] = list(task._children)
    for child in task.children:
        child._parent = parent.id
    del wf.tasks[task.id]
def deliver_message(wf: BpmnWorkflow, name: str, payload: dict) -> None:
    """A partner's message `name` reaches the task waiting for it (correlation by case was done in SQL, so
    the event carries none); the payload becomes that task's data under the message's variable or name.
    Raises ValueError when no task waits for it."""
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
    from SpiffWorkflow.bpmn.util import BpmnEvent

    waiting = [t for t in wf.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent)
               if isinstance(t.task_spec.event_definition, MessageEventDefinition)
               and t.task_spec.event_definition.name == name]
    if not waiting:
        raise ValueError(f"no step is waiting for message '{name}'")
    task = waiting[0]
    definition = task.task_spec.event_definition
    with budget.step_budget():
        wf.send_event(BpmnEvent(definition, payload, {}))
        task.data[getattr(definition, "message_var", None) or name] = payload
        wf.do_engine_steps()
