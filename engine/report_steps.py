"""The per-step table of /reports: for the steps completed in the period by a unit in scope, per unit and step,
how many, how many late, and the median and p90 of the time taken (created → completed, in wall-clock hours),
with PostgreSQL's percentile_cont definition (linear interpolation) on both backends. The same scope as every
report (engine.report_figures: subtree, field, level)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ARRAY, Float, func, literal, select, true, tuple_
from sqlalchemy.orm import Session

from engine.models import Case, Procedure, Unit, WorkItem
from engine.report_figures import _filtered
from engine.report_scope import Filters


@dataclass
class StepRow:
    unit_code: str
    unit_name: str
    step: str
    count: int
    late: int
    median_hours: float | None
    p90_hours: float | None

    @property
    def late_share(self) -> float:
        return round(self.late * 100 / self.count, 2) if self.count else 0.0


def _steps_query(f: Filters, *cols: Any) -> Any:
    q = select(*cols).select_from(WorkItem).join(Case, Case.id == WorkItem.case_id) \
        .join(Unit, Unit.id == WorkItem.unit_id).join(Procedure, Procedure.id == Case.procedure_id) \
        .where(WorkItem.state == "completed", WorkItem.completed_at >= f.period.start,
               WorkItem.completed_at < f.period.end)
    return _filtered(q, f)


def _steps_postgresql(f: Filters) -> Any:
    """The per-step table in one PostgreSQL statement that never sorts the period's steps as a whole: the
    (unit, step) pairs that ever completed a step are read off ix_work_items_steps by a skip scan (one index
    probe per pair), then for each pair in scope the steps completed in the period are a range of that index
    (unit, name, completed_at), aggregated there. At 1M cases this replaced a sort of the year's 1.9M steps by
    (unit, step) followed by a second sort per group."""
    w = WorkItem.__table__
    ahead = w.alias("w_next")
    pairs = select(w.c.unit_id, w.c.name).where(w.c.state == "completed") \
        .order_by(w.c.unit_id, w.c.name).limit(1).cte("step_pairs", recursive=True)
    after = tuple_(ahead.c.unit_id, ahead.c.name) > tuple_(pairs.c.unit_id, pairs.c.name)
    nxt = select(ahead.c.unit_id, ahead.c.name).where(ahead.c.state == "completed", after) \
        .order_by(ahead.c.unit_id, ahead.c.name).limit(1).lateral("nxt")
    pairs = pairs.union_all(select(nxt.c.unit_id, nxt.c.name).select_from(pairs).join(nxt, true()))
    done = w.alias("w_done")
    hours = func.date_part("epoch", done.c.completed_at - done.c.created_at) / 3600.0
    agg = select(func.count().label("n"), func.count().filter(done.c.timing == "late").label("late"),
                 func.percentile_cont(literal([0.5, 0.9], ARRAY(Float))).within_group(hours).label("q")) \
        .where(done.c.state == "completed", done.c.unit_id == pairs.c.unit_id, done.c.name == pairs.c.name,
               done.c.completed_at >= f.period.start, done.c.completed_at < f.period.end)
    if f.field:
        agg = agg.where(done.c.case_id.in_(select(Case.id).join(Procedure, Procedure.id == Case.procedure_id)
                                           .where(Procedure.field == f.field)))
    agg = agg.lateral("agg")
    q = select(Unit.code, Unit.name, pairs.c.name, agg.c.n, agg.c.late, agg.c.q) \
        .select_from(pairs).join(Unit, Unit.id == pairs.c.unit_id).join(agg, true()).where(agg.c.n > 0)
    return _filtered(q, replace(f, field=None))  # the field is a condition of the aggregate, above


def steps(session: Session, f: Filters) -> list[StepRow]:
    """Time spent per step (created → completed, in hours) per unit that did it: median, p90, share late.
    Percentiles in SQL on PostgreSQL (both from one sort per group, percentile_cont's linear interpolation); on
    SQLite (small deployments) over the grouped durations with the same definition."""
    out: list[StepRow] = []
    if session.get_bind().dialect.name == "postgresql":
        for code, name, step, count, n_late, (med, p90) in session.execute(_steps_postgresql(f)):
            out.append(StepRow(code, name, step, int(count), int(n_late), _round(med), _round(p90)))
    else:
        groups: dict[tuple[str, str, str], list[tuple[float, bool]]] = {}
        hours = (func.julianday(WorkItem.completed_at) - func.julianday(WorkItem.created_at)) * 24.0
        q = _steps_query(f, Unit.code, Unit.name, WorkItem.name, hours, WorkItem.timing)
        for code, name, step, h, timing in session.execute(q):
            groups.setdefault((code, name, step), []).append((float(h or 0), timing == "late"))
        for (code, name, step), values in groups.items():
            durations = sorted(v for v, _ in values)
            out.append(StepRow(code, name, step, len(values), sum(1 for _, lt in values if lt),
                               _round(_percentile(durations, 0.5)), _round(_percentile(durations, 0.9))))
    out.sort(key=lambda r: (-r.late_share, -(r.p90_hours or 0), r.unit_code, r.step))
    return out


def _percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation, the same definition as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)
