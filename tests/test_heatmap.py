"""The diagram as a heatmap, figures per BPMN element on SQLite and PostgreSQL: dossiers waiting now and the
share overdue, median and p90 time per step in WORKING hours (a Friday-afternoon step finished on Monday
morning took 2.5 working hours, not 65), scoped to the caller's subtree."""

from __future__ import annotations

from datetime import timedelta

from engine.models import WorkItem, utcnow
from tests.conftest import at

QUERY = "/api/v1/reports/steps?procedure=ncc_mai_tang&from=2026-11-01&to=2026-12-31"


def prepared(world, db) -> tuple[str, str]:
    """Two cases whose first step was done in November (2.5 and 4.5 working hours), now waiting (overdue) at
    the second step; two received now at the first step, one of them made overdue. Returns the two element ids."""
    friday = world.receive(received_at=at("2026-11-06 16:00"))
    first_step, _u, _r = world.open_item(friday)
    with db.transaction() as s:
        element1 = s.get(WorkItem, first_step).task_bpmn_id
    world.complete("xa_a1_specialist", first_step, {"outcome": "approve"}, now=at("2026-11-09 09:00"))
    monday = world.receive(received_at=at("2026-11-02 08:00"))
    world.complete("xa_a1_specialist", world.open_item(monday)[0], {"outcome": "approve"},
                   now=at("2026-11-02 14:00"))
    second_step, _u, _r = world.open_item(friday)
    with db.transaction() as s:
        element2 = s.get(WorkItem, second_step).task_bpmn_id
    world.receive()
    late = world.receive()
    with db.transaction() as s:
        s.get(WorkItem, world.open_item(late)[0]).due_at = utcnow() - timedelta(hours=1)
    return element1, element2


def test_steps_report_counts_waiting_overdue_and_working_hours(api, world, db) -> None:
    element1, element2 = prepared(world, db)
    r = api.get(QUERY, user="huyen_a_head")
    assert r.status_code == 200, r.json
    steps = {s["element"]: s for s in r.json["steps"]}
    one, two = steps[element1], steps[element2]
    assert (one["waiting"], one["overdue"], one["overdue_share"]) == (2, 1, 50.0)
    assert (one["completed"], one["median_hours"], one["p90_hours"]) == (2, 3.5, 4.3)
    assert (two["waiting"], two["overdue"], two["overdue_share"], two["completed"]) == (2, 2, 100.0, 0)
    assert two["median_hours"] is None


def test_steps_report_is_scoped_and_for_report_readers(api, world, db) -> None:
    prepared(world, db)
    assert api.get(QUERY, user="huyen_b_head").json["steps"] == []
    assert api.get(QUERY, user="xa_a1_specialist").status_code == 403
    assert api.get(QUERY + "&unit=HUYEN_A", user="huyen_b_head").status_code == 403
    r = api.get("/api/v1/reports/steps?procedure=khong_co", user="huyen_a_head")
    assert r.status_code == 404
    r = api.get("/api/v1/reports/steps?procedure=ncc_mai_tang&from=2026-12-31&to=2026-01-01", user="huyen_a_head")
    assert r.status_code == 422
    assert api.get("/api/v1/reports/steps", user="huyen_a_head").status_code == 422
