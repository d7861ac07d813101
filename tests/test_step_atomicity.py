"""A step either happens completely or not at all: when the diagram fails after a task, the case, its
work items and its audit trail stay exactly as they were before the step."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import cases
from engine.catalog import load_forms
from engine.deploy import deploy
from engine.errors import Invalid
from engine.models import Case, Event, Notification, WorkItem
from tests.conftest import World

TWO_LANES = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_text(encoding="utf-8")
FAILING = TWO_LANES.replace(
    '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="appraise" />',
    '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="compute" />'
    '<bpmn:scriptTask id="compute" name="Tính trợ cấp"><bpmn:script>amount = base_amount * 2</bpmn:script>'
    '</bpmn:scriptTask><bpmn:sequenceFlow id="f2b" sourceRef="compute" targetRef="appraise" />')


def snapshot(world: World, code: str) -> tuple:
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        items = s.execute(select(WorkItem.id, WorkItem.state, WorkItem.completed_by_id)
                          .where(WorkItem.case_id == case.id).order_by(WorkItem.id)).all()
        n_events = s.scalar(select(func.count()).select_from(Event).where(Event.case_id == case.id))
        n_notices = s.scalar(select(func.count()).select_from(Notification).where(Notification.case_id == case.id))
        return case.state, case.status_code, case.version, tuple(items), n_events, case.data, n_notices


def test_script_error_after_a_task_leaves_the_case_untouched(world: World) -> None:
    with world.db.transaction() as s:
        deploy(s, FAILING.encode(), "failing.bpmn", forms=load_forms(), procedure_code="failing")
    code = world.receive("xa_a1_clerk", procedure="failing")
    before = snapshot(world, code)
    item_id, _u, _r = world.open_item(code)
    with pytest.raises(Invalid) as err:
        world.complete("xa_a1_specialist", item_id, {"outcome": "approve"})
    assert "base_amount" in err.value.message and "Xã xem xét" in err.value.message
    assert snapshot(world, code) == before
    # With the missing value supplied the same step goes through.
    world.complete("xa_a1_specialist", item_id, {"outcome": "approve", "base_amount": 1_500_000})
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.data["amount"] == 3_000_000
        assert [i.unit.code for i in cases.open_items(s, case)] == ["HUYEN_A"]


def test_diagram_scripts_cannot_reach_the_system(world: World) -> None:
    """Even a script that compiles cannot import or escape through attributes at run time."""
    sneaky = TWO_LANES.replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="appraise" />',
        '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="s1" />'
        '<bpmn:scriptTask id="s1" name="Lén"><bpmn:script>x = getattr(outcome, "__class__")</bpmn:script>'
        '</bpmn:scriptTask><bpmn:sequenceFlow id="f2b" sourceRef="s1" targetRef="appraise" />')
    with world.db.transaction() as s:
        deploy(s, sneaky.encode(), "sneaky.bpmn", forms=load_forms(), procedure_code="sneaky")
    code = world.receive("xa_a1_clerk", procedure="sneaky")
    item_id, _u, _r = world.open_item(code)
    with pytest.raises(Invalid):
        world.complete("xa_a1_specialist", item_id, {"outcome": "approve"})
    assert world.open_item(code)[0] == item_id


def test_add_working_days_is_available_to_scripts(world: World) -> None:
    scripted = TWO_LANES.replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="appraise" />',
        '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="s1" />'
        '<bpmn:scriptTask id="s1" name="Hẹn"><bpmn:script>follow_up = add_working_days(received_at, 3)</bpmn:script>'
        '</bpmn:scriptTask><bpmn:sequenceFlow id="f2b" sourceRef="s1" targetRef="appraise" />')
    with world.db.transaction() as s:
        deploy(s, scripted.encode(), "scripted.bpmn", forms=load_forms(), procedure_code="scripted")
    from tests.conftest import at

    code = world.receive("xa_a1_clerk", procedure="scripted", received_at=at("2026-03-06 09:00"))  # Friday
    world.complete_next(code)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.data["follow_up"].startswith("2026-03-11T17:00")  # Wednesday, end of the working day


def test_a_case_written_behind_the_lock_makes_the_step_a_conflict(world: World) -> None:
    """The version check stands behind the case lock: had anything written the case between the lock and the
    step's own write (here plain SQL on the same connection, just before the case UPDATE), the step is refused
    with 409 and stores nothing of itself."""
    from sqlalchemy import event, text

    from engine.errors import Conflict

    code = world.receive("xa_a1_clerk")
    item_id, _u, _r = world.open_item(code)
    engine = world.db.engine
    done: list[bool] = []

    def sneak(conn, clause, *_args):  # noqa: ANN001, ANN202
        # The statement that writes the case (on PostgreSQL it writes the steps too, in WITH clauses).
        if not done and hasattr(clause, "compile") and "UPDATE cases SET" in str(clause.compile(dialect=conn.dialect)):
            done.append(True)
            conn.execute(text("UPDATE cases SET version = version + 1 WHERE code = :c"), {"c": code})

    before = snapshot(world, code)
    event.listen(engine, "before_execute", sneak)
    try:
        with pytest.raises(Conflict) as err:
            world.complete("xa_a1_specialist", item_id, {"outcome": "approve"})
    finally:
        event.remove(engine, "before_execute", sneak)
    assert done and "người khác cập nhật" in err.value.message
    assert snapshot(world, code) == before  # the sneaky write rolled back with the step, its notices too
    world.complete("xa_a1_specialist", item_id, {"outcome": "approve"})
    assert world.open_item(code)[0] != item_id
    assert snapshot(world, code)[-1] > before[-1]  # the next step's people are told once the step stands


PARALLEL = (TWO_LANES
            .replace('<bpmn:flowNodeRef>appraise</bpmn:flowNodeRef>',
                     '<bpmn:flowNodeRef>appraise</bpmn:flowNodeRef><bpmn:flowNodeRef>verify</bpmn:flowNodeRef>'
                     '<bpmn:flowNodeRef>split</bpmn:flowNodeRef><bpmn:flowNodeRef>join</bpmn:flowNodeRef>')
            .replace('<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="appraise" />',
                     '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="split" />'
                     '<bpmn:parallelGateway id="split" />'
                     '<bpmn:sequenceFlow id="f2a" sourceRef="split" targetRef="appraise" />'
                     '<bpmn:sequenceFlow id="f2b" sourceRef="split" targetRef="verify" />'
                     '<bpmn:userTask id="verify" name="Huyện xác minh"><bpmn:extensionElements>'
                     '<spiffworkflow:properties><spiffworkflow:property name="deadline_days" value="1" />'
                     '</spiffworkflow:properties>'
                     '</bpmn:extensionElements></bpmn:userTask>'
                     '<bpmn:sequenceFlow id="f2c" sourceRef="verify" targetRef="join" />'
                     '<bpmn:parallelGateway id="join" />'
                     '<bpmn:sequenceFlow id="f2d" sourceRef="join" targetRef="gate" />')
            .replace('<bpmn:sequenceFlow id="f3" sourceRef="appraise" targetRef="gate" />',
                     '<bpmn:sequenceFlow id="f3" sourceRef="appraise" targetRef="join" />'))


def test_a_step_opening_two_steps_at_once_stores_both(world: World) -> None:
    """A completion that opens two steps (a parallel split) writes both, each with its own id and deadline, and
    each can then be completed; the case is approved once both are done."""
    with world.db.transaction() as s:
        deploy(s, PARALLEL.encode(), "parallel.bpmn", forms=load_forms(), procedure_code="parallel")
    code = world.receive("xa_a1_clerk", procedure="parallel")
    item_id, _u, _r = world.open_item(code)
    version = snapshot(world, code)[2]
    done = world.complete("xa_a1_specialist", item_id, {"outcome": "approve"})
    assert sorted(i.name for i in done.next_items) == ["Huyện thẩm định", "Huyện xác minh"]
    assert all(i.id and i.due_at and i.level_code == "district" for i in done.next_items)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.version == version + 1
        opened = cases.open_items(s, case)
        assert sorted((i.id, i.name) for i in opened) == sorted((i.id, i.name) for i in done.next_items)
    for item in done.next_items:
        world.complete("huyen_a_specialist", item.id, {"outcome": "approve"})
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.result == "approved" and not cases.open_items(s, case)


def test_a_steps_events_keep_the_order_they_were_made_in(world: World) -> None:
    """The Phiếu kiểm soát orders by (time, id): the events of one completion, written together, keep the order
    in which the step made them — the completion, the status change, then the handover to the next step."""
    world.complete_next(world.receive("xa_a1_clerk"))  # the per-process caches are warm for the next case
    code = world.receive("xa_a1_clerk")
    world.complete_next(code)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        kinds = list(s.scalars(select(Event.kind).where(Event.case_id == case.id).order_by(Event.at, Event.id)))
    assert kinds[-3:] == ["task_completed", "status", "handover"], kinds
