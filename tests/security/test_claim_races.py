"""Claiming a step is a race two officials can run at the same moment: exactly one wins, the other is
told who holds the step (409). Real threads, one session and connection each, released together by a
barrier, on SQLite and on PostgreSQL (where writers do not queue, so only a conditional UPDATE and the
case lock keep the rule)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import cases, org
from engine.catalog import load_forms
from engine.deploy import deploy
from engine.errors import Conflict, Forbidden
from engine.models import Event, WorkItem
from tests.conftest import World
from tests.helpers import at_once

TWO_LANES = (Path(__file__).parent.parent / "diagrams" / "two_lanes.bpmn").read_bytes()
TRIALS = 20


@pytest.fixture
def race_world(world: World) -> World:
    with world.db.transaction() as s:
        deploy(s, TWO_LANES, "two_lanes.bpmn", forms=load_forms(), procedure_code="two_lanes")
        # A second specialist at the commune: two officials who may both take the same step.
        org.add_user(s, "xa_a1_specialist2", "XA_A1", ["specialist"], "motcua2026-x", full_name="Trần Thị Bình")
    return world


def _race(world: World, *actions: Callable[[Any], Any]) -> list[Any]:
    """Run each action in its own thread and transaction, released together; the result or the error."""

    def in_transaction(action: Callable[[Any], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with world.db.transaction() as s:
                return action(s)
        return run

    return at_once(*(in_transaction(a) for a in actions))


def _full_name(world: World, username: str) -> str:
    with world.db.transaction() as s:
        return world.user(s, username).full_name


def _claim_as(world: World, username: str, item_id: int) -> Callable[[Any], Any]:
    return lambda s: cases.claim(s, world.user(s, username), item_id).claimed_by_id


def test_two_officials_claiming_at_once_one_wins_the_other_hears_who(race_world: World) -> None:
    world = race_world
    code = world.receive("xa_a1_clerk", procedure="two_lanes")
    item_id, _u, _r = world.open_item(code)
    names = {u: _full_name(world, u) for u in ("xa_a1_specialist", "xa_a1_specialist2")}
    winners = []
    for _ in range(TRIALS):
        got = _race(world, _claim_as(world, "xa_a1_specialist", item_id),
                    _claim_as(world, "xa_a1_specialist2", item_id))
        errors = [g for g in got if isinstance(g, Exception)]
        assert len(errors) == 1, got
        assert isinstance(errors[0], Conflict), errors[0]
        winner = "xa_a1_specialist" if isinstance(got[1], Exception) else "xa_a1_specialist2"
        winners.append(winner)
        assert names[winner] in errors[0].message and errors[0].details["claimed_by"] == winner
        with world.db.transaction() as s:
            item = s.get(WorkItem, item_id)
            assert item.claimed_by.username == winner
            cases.unclaim(s, world.user(s, winner), item_id)
    with world.db.transaction() as s:
        claimed = s.scalar(select(func.count()).select_from(Event).where(Event.kind == "claimed"))
    assert claimed == TRIALS  # one audit event per trial: the loser recorded nothing


def test_claim_against_complete_never_leaves_a_completed_step_claimed(race_world: World) -> None:
    world = race_world
    for _ in range(TRIALS):
        code = world.receive("xa_a1_clerk", procedure="two_lanes")
        item_id, _u, _r = world.open_item(code)

        def complete(s: Any, item_id: int = item_id) -> Any:
            return cases.complete_task(s, world.user(s, "xa_a1_specialist"), item_id, {"outcome": "approve"})

        got = _race(world, complete, _claim_as(world, "xa_a1_specialist2", item_id))
        errors = [g for g in got if isinstance(g, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], Conflict), got
        with world.db.transaction() as s:
            item = s.get(WorkItem, item_id)
            if isinstance(got[0], Exception):  # the claim won: the step waits for its holder
                assert (item.state, item.claimed_by.username) == ("open", "xa_a1_specialist2")
                assert "Trần Thị Bình" in errors[0].message
            else:  # the completion won: nobody holds a finished step
                assert (item.state, item.claimed_by_id) == ("completed", None)
                assert item.completed_by.full_name in errors[0].message


def test_the_claim_api_answers_409_naming_the_holder(race_world: World, api: Any) -> None:
    world = race_world
    code = world.receive("xa_a1_clerk", procedure="two_lanes")
    item_id, _u, _r = world.open_item(code)
    assert api.post(f"/api/v1/tasks/{item_id}/claim", user="xa_a1_specialist2").status_code == 200
    # Claiming again what one holds is harmless.
    assert api.post(f"/api/v1/tasks/{item_id}/claim", user="xa_a1_specialist2").status_code == 200
    lost = api.post(f"/api/v1/tasks/{item_id}/claim", user="xa_a1_specialist")
    assert lost.status_code == 409 and "Trần Thị Bình" in lost.get_json()["message"]
    done = api.post(f"/api/v1/tasks/{item_id}/complete", user="xa_a1_specialist", json={"outcome": "approve"})
    assert done.status_code == 409 and "Trần Thị Bình" in done.get_json()["message"]


def test_only_the_holder_or_a_head_of_the_steps_unit_may_release_it(race_world: World) -> None:
    world = race_world
    code = world.receive("xa_a1_clerk", procedure="two_lanes")
    world.complete_next(code)  # the commune's review; the district appraises next
    item_id, unit, _r = world.open_item(code)
    assert unit == "HUYEN_A"
    with world.db.transaction() as s:
        cases.claim(s, world.user(s, "huyen_a_specialist"), item_id)
    # The commune's head sees the case (received there) but the step is the district's.
    with pytest.raises(Forbidden), world.db.transaction() as s:
        cases.unclaim(s, world.user(s, "xa_a1_head"), item_id)
    with world.db.transaction() as s:
        assert cases.unclaim(s, world.user(s, "huyen_a_head"), item_id).claimed_by_id is None


def test_a_completed_step_cannot_be_released(race_world: World) -> None:
    world = race_world
    code = world.receive("xa_a1_clerk", procedure="two_lanes")
    item_id, _u, _r = world.open_item(code)
    with world.db.transaction() as s:
        cases.claim(s, world.user(s, "xa_a1_specialist"), item_id)
    world.complete("xa_a1_specialist", item_id, {"outcome": "approve"})
    with pytest.raises(Conflict) as err, world.db.transaction() as s:
        cases.unclaim(s, world.user(s, "xa_a1_specialist"), item_id)
    assert "hoàn thành" in err.value.message
    with world.db.transaction() as s:
        released = s.scalar(select(func.count()).select_from(Event).where(Event.kind == "unclaimed"))
    assert released == 0  # no false audit event


def test_a_colleague_without_the_release_right_cannot_take_the_step_back(race_world: World, api: Any) -> None:
    """Same unit, same role, not a head: releasing someone else's claim is refused and nothing is recorded;
    the holder keeps the step. Through the API as the official would try it."""
    world = race_world
    code = world.receive("xa_a1_clerk", procedure="two_lanes")
    item_id, _u, _r = world.open_item(code)
    assert api.post(f"/api/v1/tasks/{item_id}/claim", user="xa_a1_specialist").status_code == 200
    refused = api.post(f"/api/v1/tasks/{item_id}/unclaim", user="xa_a1_specialist2")
    assert refused.status_code == 403, refused.get_json()
    with world.db.transaction() as s:
        assert s.get(WorkItem, item_id).claimed_by.username == "xa_a1_specialist"
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "unclaimed")) == 0
    done = api.post(f"/api/v1/tasks/{item_id}/complete", user="xa_a1_specialist", json={"outcome": "approve"})
    assert done.status_code == 200, done.get_json()
    after = api.post(f"/api/v1/tasks/{item_id}/unclaim", user="xa_a1_specialist")
    assert after.status_code == 409 and "hoàn thành" in after.get_json()["message"]
