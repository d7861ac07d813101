"""Every step gets its due date from its deadline_days and the case from the procedure's legal limit, in
working days; each step and the case are classified early / on time / late when they finish."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from engine import cases
from engine.deploy import deploy
from engine.models import Case, Event, WorkItem
from tests.conftest import World, at, utc
from web.cli import main

TWO_LANES = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_bytes()


def _deploy(world: World, xml: bytes = TWO_LANES, code: str = "two_lanes") -> list[dict]:
    with world.db.transaction() as s:
        return deploy(s, xml, "two_lanes.bpmn", forms={}, procedure_code=code).warnings


def _items(world: World, code: str) -> list[WorkItem]:
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        return list(s.scalars(select(WorkItem).where(WorkItem.case_id == case.id).order_by(WorkItem.id)))


def _case(world: World, code: str) -> Case:
    with world.db.transaction() as s:
        return s.scalar(select(Case).where(Case.code == code))


def test_case_and_step_due_dates_count_working_days(world: World) -> None:
    _deploy(world)
    # Friday 09:00. The case has 5 working days: Friday 13/03 17:00; the commune's review 2: Tuesday 10/03.
    code = world.receive("xa_a1_clerk", procedure="two_lanes", received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:05"))
    case = _case(world, code)
    assert case.due_at == case.original_due_at == utc(at("2026-03-13 17:00"))
    [review] = _items(world, code)
    assert review.due_at == utc(at("2026-03-10 17:00"))
    assert review.remind_at == utc(at("2026-03-09 17:00"))  # one working day before, over the weekend

    # Done on its due day: on time. The district's 2.5 days start when it receives the case (Tuesday 10:00):
    # two whole days (Wednesday, Thursday) and half of Friday's working hours → Friday 11:30.
    world.complete_next(code, now=at("2026-03-10 10:00"))
    review, appraise = _items(world, code)
    assert review.timing == "on_time"
    assert appraise.unit.code == "HUYEN_A" and appraise.due_at == utc(at("2026-03-13 11:30"))

    # The district finishes Friday 14:00: its step is late, the case (due 17:00) on time.
    world.complete_next(code, now=at("2026-03-13 14:00"))
    review, appraise = _items(world, code)
    assert appraise.timing == "late"
    case = _case(world, code)
    assert case.status_code == 9 and case.timing == "on_time"
    with world.db.transaction() as s:
        stored = [(e.step, e.timing) for e in s.scalars(select(Event).where(
            Event.case_id == case.id, Event.kind == "task_completed").order_by(Event.id))]
    assert stored == [("Xã xem xét", "on_time"), ("Huyện thẩm định", "late")]


def test_a_case_finished_before_its_due_day_is_early(world: World) -> None:
    _deploy(world)
    code = world.receive("xa_a1_clerk", procedure="two_lanes", received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"))
    world.complete_next(code, now=at("2026-03-09 08:00"))
    world.complete_next(code, now=at("2026-03-11 16:59"))  # district due Thursday 12/03 11:30
    assert [i.timing for i in _items(world, code)] == ["early", "early"]
    assert _case(world, code).timing == "early"


def test_a_day_off_override_moves_new_due_dates(world: World) -> None:
    _deploy(world)
    env = {"MOTCUA_DATABASE_URL": world.db.url}
    out = CliRunner().invoke(main, ["calendar", "override", "2026-03-09", "--off", "--note", "Nghỉ bão"], env=env)
    assert out.exit_code == 0, out.output
    assert "09/03/2026" in out.output
    code = world.receive("xa_a1_clerk", procedure="two_lanes", received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"))
    [review] = _items(world, code)
    assert review.due_at == utc(at("2026-03-11 17:00"))  # Monday is off: Tuesday, Wednesday
    assert _case(world, code).due_at == utc(at("2026-03-16 17:00"))
    listed = CliRunner().invoke(main, ["calendar", "overrides", "--year", "2026"], env=env)
    assert "09/03/2026 off  Nghỉ bão" in listed.output
    # A working Saturday (a yearly swap) counts like any working day.
    out = CliRunner().invoke(main, ["calendar", "override", "07/03/2026", "--work"], env=env)
    assert out.exit_code == 0
    code2 = world.receive("xa_a1_clerk", procedure="two_lanes", received_at=at("2026-03-06 09:00"),
                          now=at("2026-03-06 09:00"))
    assert _items(world, code2)[0].due_at == utc(at("2026-03-10 17:00"))  # Saturday, Tuesday
    bad = CliRunner().invoke(main, ["calendar", "override", "2026-02-30", "--off"], env=env)
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    none = CliRunner().invoke(main, ["calendar", "override", "2026-03-20"], env=env)
    assert none.exit_code == 2 and "--off, --work or --remove" in none.output
    gone = CliRunner().invoke(main, ["calendar", "override", "2026-03-09", "--remove"], env=env)
    assert gone.exit_code == 0
    again = CliRunner().invoke(main, ["calendar", "override", "2026-03-09", "--remove"], env=env)
    assert again.exit_code == 1 and "Không có điều chỉnh lịch" in again.output


def test_deploy_warns_when_the_longest_path_exceeds_the_legal_limit(world: World) -> None:
    tight = TWO_LANES.replace(b'name="deadline_days" value="5"', b'name="deadline_days" value="4"')
    warnings = _deploy(world, tight, "tight")
    assert any("4.5" in w["message"] and "4" in w["message"] for w in warnings)
    assert _deploy(world) == []


def test_open_items_listing_orders_by_due_date(world: World) -> None:
    _deploy(world)
    late = world.receive("xa_a1_clerk", procedure="two_lanes", received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"))
    early = world.receive("xa_a1_clerk", procedure="two_lanes", received_at=at("2026-03-02 09:00"),
                          now=at("2026-03-06 09:00"))
    with world.db.transaction() as s:
        page = cases.inbox(s, world.user(s, "xa_a1_specialist"))
        assert [i.case.code for i in page.items] == [early, late]


def test_calendar_admin_page(world: World, tmp_path: Path) -> None:
    from tests.helpers import Browser

    _deploy(world)
    web = Browser(world.db, tmp_path)
    web.login("xa_a1_clerk")
    assert web.get("/admin/calendar").status_code == 403
    web.login("admin")
    page = web.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert "Tết Nguyên Đán" in page and "17/02/2026" in page
    added = web.post("/admin/calendar", {"day": "2026-03-09", "kind": "off", "note": "Nghỉ bão số 3"},
                     follow_redirects=True)
    assert added.status_code == 200 and "09/03/2026" in added.get_data(as_text=True)
    code = world.receive("xa_a1_clerk", procedure="two_lanes", received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"))
    assert _items(world, code)[0].due_at == utc(at("2026-03-11 17:00"))
    bad = web.post("/admin/calendar", {"day": "09/03/2026", "kind": "off"})
    assert bad.status_code == 422 and "Ngày không hợp lệ" in bad.get_data(as_text=True)
    no_csrf = web.client.post("/admin/calendar", data={"day": "2026-03-10", "kind": "off"})
    assert no_csrf.status_code == 400
    removed = web.post("/admin/calendar/2026-03-09/delete", follow_redirects=True)
    assert removed.status_code == 200 and 'data-day="2026-03-09"' not in removed.get_data(as_text=True)
