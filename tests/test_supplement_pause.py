"""Supplement request while processing (NĐ 61 Điều 19.4): the case pauses (status 5) and its clock stops;
when the dossier is complete again the time limit restarts from zero with a new appointment. More than one
supplement request counts the case as late (QĐ 766)."""

from __future__ import annotations

from sqlalchemy import select

from engine import cases, scheduler
from engine.models import Case, Event, WorkItem
from tests.bpmn import deploy_test_diagram
from tests.conftest import World, at, utc


def _case(world: World, code: str) -> Case:
    with world.db.transaction() as s:
        return s.scalar(select(Case).where(Case.code == code))


def _kinds(world: World, code: str) -> list[str]:
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        return [e.kind for e in cases.events(s, case)]


def test_supplement_pauses_and_restarts_the_clock_from_zero(world: World) -> None:
    proc = deploy_test_diagram(world.db, "supplement")
    code = world.receive("xa_a1_clerk", procedure=proc, received_at=at("2026-03-02 09:00"),
                         now=at("2026-03-02 09:00"))
    assert _case(world, code).due_at == utc(at("2026-03-09 17:00"))  # Monday + 5 working days

    world.complete_next(code, {"outcome": "supplement"}, now=at("2026-03-03 10:00"))
    case = _case(world, code)
    assert case.status_code == 5 and case.paused_at == utc(at("2026-03-03 10:00"))
    assert case.supplement_count == 1
    with world.db.transaction() as s:
        assert cases.public_status(s, code)["status"] == "Yêu cầu bổ sung giấy tờ"
    item_id, unit, role = world.open_item(code)
    assert (unit, role) == ("XA_A1", "clerk")

    # The applicant takes two weeks; the waiting step is the applicant's, not an official's: no reminder,
    # no overdue mark, whatever the date.
    idle = scheduler.sweep(world.db, at("2026-03-13 09:00"))
    assert idle.overdue == [] and idle.reminded == []

    world.complete("xa_a1_clerk", item_id, {"outcome": "approve"}, now=at("2026-03-16 09:00"))
    case = _case(world, code)
    assert case.status_code == 4 and case.paused_at is None
    # Five working days from the day the dossier was complete again: Monday 23/03 17:00.
    assert case.due_at == case.original_due_at == utc(at("2026-03-23 17:00"))
    assert case.clock_started_at == utc(at("2026-03-16 09:00"))
    with world.db.transaction() as s:
        resumed = s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "resumed"))
        assert resumed.data["previous_due_at"].startswith("2026-03-09T10:00")  # 17:00 +07:00 in UTC
        review = s.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open"))
        assert review.task_bpmn_id == "review" and review.due_at == utc(at("2026-03-18 17:00"))

    world.complete_next(code, {"outcome": "approve"}, now=at("2026-03-19 09:00"))
    case = _case(world, code)
    # 17 calendar days after receipt, but early against the restarted limit.
    assert case.status_code == 9 and case.timing == "early"
    kinds = _kinds(world, code)
    assert kinds.index("paused") < kinds.index("resumed")
    assert kinds.count("paused") == 1


def test_a_second_supplement_request_counts_the_case_late(world: World) -> None:
    proc = deploy_test_diagram(world.db, "supplement")
    code = world.receive("xa_a1_clerk", procedure=proc, received_at=at("2026-03-02 09:00"),
                         now=at("2026-03-02 09:00"))
    for day in ("2026-03-03", "2026-03-05"):
        world.complete_next(code, {"outcome": "supplement"}, now=at(f"{day} 09:00"))
        world.complete_next(code, {"outcome": "approve"}, now=at(f"{day} 14:00"))
    case = _case(world, code)
    assert case.supplement_count == 2 and case.status_code == 4
    world.complete_next(code, {"outcome": "approve"}, now=at("2026-03-06 09:00"))
    case = _case(world, code)
    assert case.status_code == 9 and case.timing == "late"  # finished early, but asked twice
    assert _kinds(world, code).count("paused") == 2
