"""The answer to a completed step (POST /api/v1/tasks/{id}/complete) shows the case as it now stands — its units,
process version and open steps with their holders — built from what the step holds instead of read back
(engine.case_brief.after_step). It must say exactly what reading the case back says, at every step of a case,
when a step opens two steps at once, and when an open step is held by someone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine import case_brief, cases
from engine.catalog import load_forms
from engine.deploy import deploy
from engine.models import Case
from tests.conftest import World
from tests.test_step_atomicity import PARALLEL


def _said(brief: case_brief.CaseBrief) -> tuple:
    fields = ("id", "case_code", "name", "step", "unit", "unit_name", "level", "role", "state", "form", "due_at",
              "created_at", "claimed_by", "procedure")
    return (brief.procedure, brief.receiving_unit, brief.competent_unit, brief.current_unit, brief.process_version,
            [tuple(getattr(t, f) for f in fields) for t in brief.tasks])


def _complete_and_compare(world: World, username: str, item_id: int) -> Any:
    with world.db.transaction() as s:
        done = cases.complete_task(s, world.user(s, username), item_id, {"outcome": "approve"})
        built = case_brief.after_step(s, done.case, done.open_items)
        read = case_brief.case_brief(s, done.case)
        assert done.open_items is not None  # the answer is built, not read
        assert _said(built) == _said(read)
        return done, read


def test_the_answer_after_every_step_is_the_case_as_read_back(world: World) -> None:
    code = world.receive("xa_a1_clerk")
    steps = 0
    while True:
        with world.db.transaction() as s:
            items = cases.open_items(s, s.scalar(select(Case).where(Case.code == code)))
            if not items:
                break
            item_id, user = items[0].id, f"{items[0].unit.code.lower()}_{items[0].role_code}"
        _done, read = _complete_and_compare(world, user, item_id)
        steps += 1
    assert steps == 6 and read.tasks == []


def test_two_steps_opened_at_once_and_one_held_show_as_read_back(world: World) -> None:
    with world.db.transaction() as s:
        deploy(s, PARALLEL.encode(), "parallel.bpmn", forms=load_forms(), procedure_code="parallel")
    code = world.receive("xa_a1_clerk", procedure="parallel")
    item_id, _u, _r = world.open_item(code)
    done, read = _complete_and_compare(world, "xa_a1_specialist", item_id)
    assert len(read.tasks) == 2
    first, second = sorted(i.id for i in done.next_items)
    with world.db.transaction() as s:
        cases.claim(s, world.user(s, "huyen_a_specialist"), second)
    _done, read = _complete_and_compare(world, "huyen_a_specialist", first)
    assert [(t.id, t.claimed_by) for t in read.tasks] == [(second, "huyen_a_specialist")]
