"""The diagram as a heatmap: per BPMN element of a procedure, how many dossiers wait there now and the share
of those overdue, and for the steps completed in the period the median and p90 time taken in WORKING hours
(engine.calendar: holidays, weekends and the office hours do not count). Scoped like every report: the
caller's unit subtree (engine.reports.filters_for), by the unit doing the step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import inputs
from engine.deadlines import calendar_for
from engine.errors import Invalid, NotFound
from engine.models import Case, Procedure, ProcessVersion, Unit, WorkItem, utcnow
from engine.report_scope import Filters, Period, filters_for
from engine.report_steps import _percentile, _round

WHICH = ("waiting", "overdue", "completed")


@dataclass
class StepHeat:
    element: str
    name: str
    waiting: int = 0
    overdue: int = 0
    completed: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None

    @property
    def overdue_share(self) -> float:
        return round(self.overdue * 100 / self.waiting, 1) if self.waiting else 0.0


@dataclass
class Heatmap:
    procedure: Procedure
    period: Period
    bpmn_xml: str | None
    steps: dict[str, StepHeat] = field(default_factory=dict)

    @property
    def max_waiting(self) -> int:
        return max((s.waiting for s in self.steps.values()), default=0)


def _procedure(session: Session, code: Any) -> Procedure:
    code = inputs.text("procedure", code, Procedure.code, required=True)
    if not code:
        raise Invalid.of("heatmap_procedure_required", details={"procedure": "bắt buộc nhập"})
    proc = session.scalar(select(Procedure).where(Procedure.code == code))
    if proc is None:
        raise NotFound.of("procedure_not_found", code=code)
    return proc


def _scoped(q: Any, f: Filters, proc: Procedure) -> Any:
    q = q.join(Case, Case.id == WorkItem.case_id).join(Unit, Unit.id == WorkItem.unit_id) \
        .where(Case.procedure_id == proc.id)
    if f.root is not None:
        q = q.where(Unit.path.startswith(f.root.path))
    return q


def step_heat(session: Session, user: Any, procedure: Any, first: str | None, last: str | None,
              unit: str | None = None, now: datetime | None = None) -> Heatmap:
    """The heatmap of `procedure` for the period, over the caller's subtree (or `unit`'s, within it)."""
    now = now or utcnow()
    f = filters_for(session, user, first, last, unit, now=now)
    proc = _procedure(session, procedure)
    version = session.scalar(select(ProcessVersion).where(ProcessVersion.procedure_id == proc.id)
                             .order_by(ProcessVersion.version.desc()).limit(1))
    heat = Heatmap(proc, f.period, version.bpmn_xml if version else None)

    def step(element: str, name: str) -> StepHeat:
        return heat.steps.setdefault(element, StepHeat(element, name))

    waiting = _scoped(select(WorkItem.task_bpmn_id, func.max(WorkItem.name), func.count(),
                             func.count(WorkItem.id).filter(WorkItem.due_at < now)), f, proc) \
        .where(WorkItem.state == "open").group_by(WorkItem.task_bpmn_id)
    for element, name, n, late in session.execute(waiting):
        s = step(element, name)
        s.waiting, s.overdue = int(n), int(late or 0)
    calendar = calendar_for(session)
    per_day = calendar.hours.hours_per_day
    done = _scoped(select(WorkItem.task_bpmn_id, WorkItem.name, WorkItem.created_at, WorkItem.completed_at), f, proc) \
        .where(WorkItem.state == "completed", WorkItem.completed_at >= f.period.start,
               WorkItem.completed_at < f.period.end)
    durations: dict[str, list[float]] = {}
    for element, name, created, completed in session.execute(done):
        step(element, name)
        days = calendar.working_days_between(created, completed)
        durations.setdefault(element, []).append(float(Decimal(days) * per_day))
    for element, values in durations.items():
        values.sort()
        s = heat.steps[element]
        s.completed = len(values)
        s.median_hours, s.p90_hours = _round(_percentile(values, 0.5)), _round(_percentile(values, 0.9))
    return heat


def step_cases(session: Session, user: Any, procedure: Any, element: Any, which: Any, first: str | None,
               last: str | None, unit: str | None = None, now: datetime | None = None,
               limit: int = 200) -> list[Case]:
    """The cases behind one figure of one step: waiting there, overdue there, or completed in the period."""
    now = now or utcnow()
    if which not in WHICH:
        raise Invalid.of("heatmap_which_choice", choices=", ".join(WHICH), details={"which": "invalid"})
    f = filters_for(session, user, first, last, unit, now=now)
    proc = _procedure(session, procedure)
    element = inputs.text("element", element, WorkItem.task_bpmn_id, required=True)
    q = _scoped(select(WorkItem.case_id), f, proc).where(WorkItem.task_bpmn_id == element)
    if which == "completed":
        q = q.where(WorkItem.state == "completed", WorkItem.completed_at >= f.period.start,
                    WorkItem.completed_at < f.period.end)
    else:
        q = q.where(WorkItem.state == "open")
        if which == "overdue":
            q = q.where(WorkItem.due_at < now)
    return list(session.scalars(select(Case).where(Case.id.in_(q)).order_by(Case.received_at, Case.id).limit(limit)))
