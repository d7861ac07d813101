"""BPMN timer boundary events: a designer models an escalation in the diagram with add_working_days(...),
and the scheduler fires it exactly once, at the first sweep after its moment."""

from __future__ import annotations

from sqlalchemy import func, select

from engine import cases, scheduler
from engine.models import Case, Event, Notification, User
from tests.bpmn import deploy_test_diagram
from tests.conftest import World, at, utc


def _case(world: World, code: str) -> tuple[Case, list[tuple[str, str, str]]]:
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        items = [(i.task_bpmn_id, i.unit.code, i.role_code) for i in cases.open_items(s, case)]
        return case, items


def _count(world: World, code: str, kind: str) -> int:
    with world.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(Event).join(Case, Case.id == Event.case_id)
                        .where(Case.code == code, Event.kind == kind))


def test_timer_fires_once_after_one_working_day(world: World) -> None:
    proc = deploy_test_diagram(world.db, "timer_escalation")
    # Friday 09:00: one working day later is Monday 17:00 (the weekend does not count).
    code = world.receive("xa_a1_clerk", procedure=proc, received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"))
    case, items = _case(world, code)
    assert case.next_timer_at == utc(at("2026-03-09 17:00"))
    assert items == [("review", "XA_A1", "specialist")]

    before = scheduler.sweep(world.db, at("2026-03-09 16:59"))
    assert before.timers == []
    assert _case(world, code)[1] == [("review", "XA_A1", "specialist")]

    fired = scheduler.sweep(world.db, at("2026-03-09 17:00:03"))
    assert fired.timers == [code]
    case, items = _case(world, code)
    # Non-interrupting: the review stays with the specialist, the head gets the urge step.
    assert sorted(items) == [("review", "XA_A1", "specialist"), ("urge", "XA_A1", "head")]
    assert case.next_timer_at is None
    with world.db.transaction() as s:
        head = s.scalar(select(User).where(User.username == "xa_a1_head"))
        texts = list(s.scalars(select(Notification.message).where(Notification.user_id == head.id,
                                                                  Notification.kind == "timer")))
        assert len(texts) == 1 and "Lãnh đạo đôn đốc xử lý" in texts[0]

    again = scheduler.sweep(world.db, at("2026-03-09 17:00:03"))
    later = scheduler.sweep(world.db, at("2026-03-10 09:00"))
    assert again.timers == [] and later.timers == []
    assert _count(world, code, "timer") == 1
    assert sorted(_case(world, code)[1]) == [("review", "XA_A1", "specialist"), ("urge", "XA_A1", "head")]


def test_timer_does_not_fire_when_the_step_is_done_in_time(world: World) -> None:
    proc = deploy_test_diagram(world.db, "timer_escalation")
    code = world.receive("xa_a1_clerk", procedure=proc, received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"))
    world.complete_next(code, now=at("2026-03-09 10:00"))
    case, items = _case(world, code)
    assert case.status_code == 9 and case.timing == "early" and items == []
    assert case.next_timer_at is None
    assert scheduler.sweep(world.db, at("2026-03-10 09:00")).timers == []
    assert _count(world, code, "timer") == 0


def test_tick_command_fires_the_timer(world: World) -> None:
    from click.testing import CliRunner

    from web.cli import main

    proc = deploy_test_diagram(world.db, "timer_escalation")
    code = world.receive("xa_a1_clerk", procedure=proc, received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"))
    env = {"MOTCUA_DATABASE_URL": world.db.url}
    out = CliRunner().invoke(main, ["tick", "--now", "2026-03-09T17:05:00+07:00"], env=env)
    assert out.exit_code == 0, out.output
    assert f"timer fired: {code}" in out.output
    out = CliRunner().invoke(main, ["tick", "--now", "2026-03-09T17:05:00+07:00"], env=env)
    assert f"timer fired: {code}" not in out.output and "0 timer(s)" in out.output
    assert _count(world, code, "timer") == 1
