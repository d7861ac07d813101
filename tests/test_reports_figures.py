"""The standard report's figures, checked case by case against a month built through the engine with past
dates (March 2025): carried over, new by channel, early / on-time / late, in progress within time and
overdue, paused for a supplement, withdrawn, refused at intake and after review — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine import cases, public, reports
from engine.models import Case
from tests.conftest import World, at

PERIOD = "from=2025-03-01&to=2025-03-31"
APPLICANT = {"name": "Lê Thị Hoa", "id_number": "036190009999", "address": "Thôn 2", "phone": "0911222333"}
PDF = b"%PDF-1.4\n% motcua test\n"


def _due(world: World, code: str) -> Any:
    with world.db.transaction() as s:
        return s.scalar(select(Case.due_at).where(Case.code == code))


def _finish(world: World, code: str, start: Any, resolve_at: Any) -> None:
    """Approve every step of ho_tro_mai_tang: the steps before the decision a minute apart from `start`, the
    district's decision (status 9, the resolution) at `resolve_at`, the return a minute later."""
    t = start
    for _ in range(3):  # commune review, commune leader's proposal, district appraisal
        t += timedelta(minutes=1)
        world.complete_next(code, {"outcome": "approve"}, now=t)
    world.complete_next(code, {"outcome": "approve"}, now=resolve_at)  # district decides: resolved
    world.complete_next(code, {}, now=resolve_at + timedelta(minutes=1))  # returned at the commune desk


def build_scenario(world: World, tmp_path: Path) -> dict[str, str]:
    """Name → case code. Expected figures for 01–31/03/2025 are in EXPECTED_ALL."""
    c: dict[str, str] = {}
    proc = "ho_tro_mai_tang"
    # Resolved in February: in no March figure.
    c["old"] = world.receive(procedure=proc, received_at=at("2025-02-10 09:00"))
    _finish(world, c["old"], at("2025-02-10 09:00"), at("2025-02-11 09:00"))
    # Carried over from February, resolved early in March.
    c["carried_early"] = world.receive(procedure=proc, received_at=at("2025-02-27 09:00"))
    _finish(world, c["carried_early"], at("2025-02-27 09:00"), at("2025-03-03 09:00"))
    # Carried over, never touched: overdue at the end of March.
    c["carried_overdue"] = world.receive(procedure=proc, channel="post", received_at=at("2025-02-28 09:00"))
    # New online, resolved on the due day before the due moment: on time.
    c["online_on_time"] = world.receive(procedure=proc, channel="online", received_at=at("2025-03-03 08:00"))
    due = _due(world, c["online_on_time"])
    _finish(world, c["online_on_time"], at("2025-03-03 08:00"), due - timedelta(minutes=10))
    # New at the desk, decided a day after the due moment: late.
    c["late"] = world.receive(procedure=proc, received_at=at("2025-03-04 09:00"))
    _finish(world, c["late"], at("2025-03-04 09:00"), _due(world, c["late"]) + timedelta(days=1))
    # New at the end of the month: still within time on 31/03.
    c["in_time"] = world.receive(procedure=proc, received_at=at("2025-03-28 09:00"))
    # New by post, the commune asks for a supplement: paused.
    c["paused"] = world.receive(procedure=proc, channel="post", received_at=at("2025-03-10 09:00"))
    world.complete_next(c["paused"], {"outcome": "supplement", "giay_to_can_bo_sung": "Giấy chứng tử (bản sao)"},
                        now=at("2025-03-10 10:00"))
    # New, refused after the commune's review: resolved early AND refused.
    c["refused_review"] = world.receive(procedure=proc, received_at=at("2025-03-05 09:00"))
    world.complete_next(c["refused_review"], {"outcome": "refuse", "ly_do_tu_choi": "Không thuộc đối tượng"},
                        now=at("2025-03-05 10:00"))
    world.complete_next(c["refused_review"], {}, now=at("2025-03-05 11:00"))
    # New, withdrawn by the applicant the next day.
    c["withdrawn"] = world.receive(procedure=proc, received_at=at("2025-03-06 09:00"))
    with world.db.transaction() as s:
        public.withdraw(s, world.user(s, "xa_a1_clerk"), c["withdrawn"], "Công dân xin rút hồ sơ",
                        now=at("2025-03-07 09:00"))
    # Refused at intake (never received).
    with world.db.transaction() as s:
        c["refused_intake"] = cases.record_intake_outcome(
            s, world.user(s, "xa_a1_clerk"), proc, APPLICANT, "refused", "Không thuộc thẩm quyền",
            now=at("2025-03-12 09:00")).code
    # Another district (HUYEN_B), another field (Người có công): in progress within time.
    c["other_district"] = world.receive("xa_b1_clerk", "ncc_mai_tang", received_at=at("2025-03-05 09:00"))
    # Received in April: outside the period.
    c["april"] = world.receive(procedure=proc, received_at=at("2025-04-02 09:00"))
    # Submitted online, not accepted yet: not received.
    with world.db.transaction() as s:
        c["submitted"] = public.submit_online(
            s, proc, "XA_A1", {**APPLICANT, "email": "hoa@example.vn"}, {},
            [public.Upload("to_khai", "to_khai.pdf", io.BytesIO(PDF)),
             public.Upload("giay_chung_tu", "giay_chung_tu.pdf", io.BytesIO(PDF))], tmp_path / "docs", 1 << 20,
            now=at("2025-03-15 09:00")).code
    return c


EXPECTED_ALL = {
    "received_carried_over": 2, "received_new": 7, "received_online": 1, "received_desk": 5, "received_post": 1,
    "resolved_early": 2, "resolved_on_time": 1, "resolved_late": 1, "in_progress_in_time": 2,
    "in_progress_overdue": 1, "paused": 1, "withdrawn": 1, "refused": 2, "intake_incomplete": 0,
    "on_time_rate": 75.0,
}
BEHIND = {  # figure → scenario cases behind it
    "received_carried_over": {"carried_early", "carried_overdue"},
    "received_new": {"online_on_time", "late", "in_time", "paused", "refused_review", "withdrawn",
                     "other_district"},
    "received_online": {"online_on_time"}, "received_post": {"paused"},
    "resolved_early": {"carried_early", "refused_review"}, "resolved_on_time": {"online_on_time"},
    "resolved_late": {"late"}, "in_progress_in_time": {"in_time", "other_district"},
    "in_progress_overdue": {"carried_overdue"}, "paused": {"paused"}, "withdrawn": {"withdrawn"},
    "refused": {"refused_intake", "refused_review"},
}


def test_summary_api_gives_every_figure(world: World, api: Any, tmp_path: Path) -> None:
    build_scenario(world, tmp_path)
    resp = api.get(f"/api/v1/reports/summary?{PERIOD}", "admin")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == EXPECTED_ALL
    # The province's leader sees the whole province: the same figures.
    assert api.get(f"/api/v1/reports/summary?{PERIOD}", "tinh_leader").get_json() == EXPECTED_ALL
    # Every case that came in is accounted for at the end of the period.
    f = EXPECTED_ALL
    assert f["received_carried_over"] + f["received_new"] == (
        f["resolved_early"] + f["resolved_on_time"] + f["resolved_late"] + f["in_progress_in_time"]
        + f["in_progress_overdue"] + f["paused"] + f["withdrawn"])


def test_drill_down_lists_exactly_the_cases_behind_each_figure(world: World, tmp_path: Path) -> None:
    codes = build_scenario(world, tmp_path)
    names = {v: k for k, v in codes.items()}
    with world.db.transaction() as s:
        f = reports.filters_for(s, world.user(s, "admin"), "2025-03-01", "2025-03-31")
        figures = reports.summary(s, f)
        for figure, expected in BEHIND.items():
            page = reports.drill_down(s, f, figure, per_page=3)
            listed = {names[c.code] for c in page.cases}
            for n in range(2, page.pages + 1):
                listed |= {names[c.code] for c in reports.drill_down(s, f, figure, page=n, per_page=3).cases}
            assert listed == expected, figure
            assert page.total == figures[figure] == len(expected), figure


def test_field_and_period_filters(world: World, api: Any, tmp_path: Path) -> None:
    build_scenario(world, tmp_path)
    ncc = api.get(f"/api/v1/reports/summary?{PERIOD}&field=Người có công", "admin").get_json()
    assert ncc["received_new"] == 1 and ncc["in_progress_in_time"] == 1 and ncc["received_desk"] == 1
    assert ncc["on_time_rate"] is None  # nothing resolved: no rate rather than a made-up 0 or 100
    april = api.get("/api/v1/reports/summary?from=2025-04-01&to=2025-04-30", "admin").get_json()
    # What was open on 31/03 (2 in time, 1 overdue, 1 paused) is carried into April; one is new.
    assert april["received_carried_over"] == 4 and april["received_new"] == 1
    assert april["resolved_early"] + april["resolved_on_time"] + april["resolved_late"] == 0


def test_per_unit_table_and_steps(world: World, tmp_path: Path) -> None:
    build_scenario(world, tmp_path)
    with world.db.transaction() as s:
        f = reports.filters_for(s, world.user(s, "admin"), "2025-03-01", "2025-03-31")
        rows = {r.key: r.figures for r in reports.table(s, f, "unit")}
        assert set(rows) == {"XA_A1", "XA_B1"}
        assert rows["XA_B1"]["received_new"] == 1 and rows["XA_A1"]["received_new"] == 6
        by_level = reports.table(s, f, "level")
        assert [r.key for r in by_level] == ["commune"]
        step_rows = reports.steps(s, f)
        decide = [r for r in step_rows if r.unit_code == "HUYEN_A" and r.step.startswith("Quyết định")]
        # The scenario appraises within minutes and decides days later: the district's decision is the late step.
        assert decide and decide[0].count == 3 and decide[0].late == 3 and decide[0].late_share == 100.0
        assert step_rows[0].late_share == 100.0
        assert decide[0].median_hours is not None and decide[0].p90_hours >= decide[0].median_hours
        months = reports.monthly_rate(s, f)
        assert months == [{"month": "2025-03", "early": 2, "on_time": 1, "late": 1, "rate": 75.0}]
