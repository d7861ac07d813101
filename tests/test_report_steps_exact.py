"""The per-step table of /reports (engine.reports.steps) against its definition, step by step: for every scope
and filter, the steps completed in the period by a unit in scope, counted, with their late ones, and the
median and p90 of created → completed in hours (linear interpolation, PostgreSQL's percentile_cont) —
recomputed here in Python from the work items themselves, on SQLite and PostgreSQL. The PostgreSQL query
joins cases and procedures only for a field filter; this shows it leaves nothing out and adds nothing."""

from __future__ import annotations

import statistics
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from engine import reports
from engine.models import Case, Procedure, Unit, WorkItem
from tests.conftest import World, at
from tests.test_reports_figures import build_scenario


def _quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=10, method="inclusive")  # linear interpolation, as percentile_cont
    return cuts[4] if q == 0.5 else cuts[8]


def _expected(s, f: reports.Filters) -> list[tuple]:  # noqa: ANN001
    q = select(WorkItem, Unit, Procedure).join(Unit, Unit.id == WorkItem.unit_id) \
        .join(Case, Case.id == WorkItem.case_id).join(Procedure, Procedure.id == Case.procedure_id) \
        .where(WorkItem.state == "completed")
    groups: dict[tuple[str, str, str], list[WorkItem]] = {}
    for item, unit, proc in s.execute(q):
        if not f.period.start <= item.completed_at < f.period.end:
            continue
        if f.root is not None and not unit.path.startswith(f.root.path):
            continue
        if f.field and proc.field != f.field:
            continue
        groups.setdefault((unit.code, unit.name, item.name), []).append(item)
    out = []
    for (code, name, step), items in groups.items():
        hours = sorted((i.completed_at - i.created_at).total_seconds() / 3600 for i in items)
        out.append((code, name, step, len(items), sum(i.timing == "late" for i in items),
                    round(_quantile(hours, 0.5), 2), round(_quantile(hours, 0.9), 2)))
    return sorted(out)


def test_steps_are_the_median_and_p90_of_the_steps_in_scope(world: World, tmp_path: Path) -> None:
    codes = build_scenario(world, tmp_path)
    # A step of the other district's Người có công case, so that a field filter has something to keep.
    world.complete_next(codes["other_district"], {"outcome": "approve"}, now=at("2025-03-05 15:30"))
    seen = 0
    with world.db.transaction() as s:
        for username in ("admin", "tinh_leader", "huyen_a_head", "huyen_b_head", "xa_a1_head"):
            for field in (None, "Người có công"):
                for first, last in (("2025-03-01", "2025-03-31"), ("2025-02-01", "2025-03-31")):
                    f = reports.filters_for(s, world.user(s, username), first, last, field=field)
                    got = sorted((r.unit_code, r.unit_name, r.step, r.count, r.late, r.median_hours, r.p90_hours)
                                 for r in reports.steps(s, f))
                    assert got == _expected(s, f), (username, field, first)
                    seen += len(got)
        assert seen > 20  # the scenario has steps in most scopes
        late = [r for r in reports.steps(s, reports.filters_for(s, world.user(s, "admin"), "2025-03-01",
                                                                "2025-03-31")) if r.late]
        assert late and all(r.p90_hours >= r.median_hours for r in late)
        assert any(timedelta(hours=r.median_hours) > timedelta(days=1) for r in late)  # the slow decisions


def test_the_report_indexes_exist_after_the_migrations(db) -> None:  # noqa: ANN001
    """Migration 0016_reports13 creates the indexes the per-step table and the monthly rate read (both backends)."""
    from sqlalchemy import inspect

    found = inspect(db.engine)
    steps = {i["name"]: i["column_names"] for i in found.get_indexes("work_items")}
    assert steps["ix_work_items_steps"] == ["unit_id", "name", "completed_at", "created_at", "timing"]
    resolved = {i["name"]: i["column_names"] for i in found.get_indexes("cases")}
    assert resolved["ix_cases_resolved_month"] == ["resolved_at", "timing", "receiving_unit_id", "procedure_id"]
