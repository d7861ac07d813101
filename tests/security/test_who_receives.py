"""Who may receive a dossier, and where (issue 9, item 5): only the one-stop desk's clerks, only at a unit where
the procedure's first step has somewhere to go; a back-dated reception is bounded and audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import cases
from engine.errors import Forbidden, Invalid
from engine.models import Case, Event, WorkItem
from tests.conftest import World, at

APPLICANT = {"name": "Nguyễn Thị Hoa", "phone": "0912000111"}


def _stored(world: World) -> tuple[int, int]:
    with world.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(Case)), s.scalar(select(func.count()).select_from(WorkItem))


@pytest.mark.parametrize("username", ["xa_a1_specialist", "xa_a1_head", "xa_a1_leader", "designer", "admin"])
def test_only_clerks_receive_through_the_api(api: Any, world: World, username: str) -> None:
    before = _stored(world)
    r = api.post("/api/v1/cases", username, json={"procedure": "ho_tro_mai_tang", "applicant": APPLICANT})
    assert r.status_code == 403, r.get_json()
    assert "Một cửa" in r.get_json()["message"]
    assert _stored(world) == before


def test_a_clerk_receives_and_the_case_has_its_first_work_item(api: Any) -> None:
    r = api.post("/api/v1/cases", "xa_a1_clerk", json={"procedure": "ho_tro_mai_tang", "applicant": APPLICANT})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["tasks"], "a received case must wait in someone's inbox"


@pytest.mark.parametrize("clerk", ["huyen_a_clerk", "tinh_clerk"])
def test_reception_where_the_first_step_cannot_route_is_422_naming_the_level(api: Any, world: World,
                                                                            clerk: str) -> None:
    """ncc_mai_tang starts at a commune; a district or province desk has several communes below it."""
    before = _stored(world)
    r = api.post("/api/v1/cases", clerk, json={"procedure": "ncc_mai_tang", "applicant": APPLICANT})
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["details"]["level"] == "commune"
    assert "commune" in body["message"]
    assert _stored(world) == before, "nothing stored: no case without a work item"


def test_engine_refuses_a_specialist_and_stores_nothing(world: World) -> None:
    with pytest.raises(Forbidden):
        world.receive("xa_a1_specialist", procedure="ho_tro_mai_tang")
    with pytest.raises(Forbidden):  # the desk's other outcomes (Mẫu 02/03) are receptions too
        with world.db.transaction() as s:
            cases.record_intake_outcome(s, world.user(s, "xa_a1_head"), "ho_tro_mai_tang", APPLICANT,
                                        "refused", "Không thuộc thẩm quyền")
    assert _stored(world) == (0, 0)


def test_backdating_within_the_limit_is_audited_with_who_entered_it(world: World) -> None:
    now = at("2026-03-13 10:00")  # Friday
    code = world.receive(procedure="ho_tro_mai_tang", received_at=at("2026-03-09 08:00"), now=now)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        received = s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "received"))
        assert received.at == at("2026-03-09 08:00")
        assert received.data["backdated"]["by"] == "xa_a1_clerk"
        assert received.data["backdated"]["entered_at"].startswith("2026-03-13")


def test_reception_dated_now_is_not_marked_backdated(world: World) -> None:
    code = world.receive(procedure="ho_tro_mai_tang")
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        received = s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "received"))
        assert "backdated" not in received.data


@pytest.mark.parametrize("received", ["1970-01-01 08:00", "2001-05-01 08:00", "2026-02-20 08:00"])
def test_backdating_beyond_the_limit_is_refused(world: World, received: str) -> None:
    """10 working days back from Friday 13/03/2026 is 27/02; 20/02 (and 1970, 2001) are refused."""
    with pytest.raises(Invalid) as e:
        world.receive(procedure="ho_tro_mai_tang", received_at=at(received), now=at("2026-03-13 10:00"))
    assert "received_at" in e.value.details
    assert _stored(world) == (0, 0)


def test_the_limit_is_a_setting(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_BACKDATE_MAX_DAYS", "40")  # an operator entering a backlog of paper dossiers
    world.receive(procedure="ho_tro_mai_tang", received_at=at("2026-02-02 08:00"), now=at("2026-03-13 10:00"))
    monkeypatch.setenv("MOTCUA_BACKDATE_MAX_DAYS", "0")
    with pytest.raises(Invalid):
        world.receive(procedure="ho_tro_mai_tang", received_at=at("2026-03-13 08:00"), now=at("2026-03-13 10:00"))


def test_api_refuses_future_and_far_backdated_received_at(api: Any, world: World) -> None:
    from engine.models import utcnow

    future = (utcnow() + timedelta(days=1)).isoformat()
    for value in (future, "2001-05-01T08:00:00+07:00", "0001-01-01T00:00:00"):
        r = api.post("/api/v1/cases", "xa_a1_clerk", json={"procedure": "ho_tro_mai_tang", "applicant": APPLICANT,
                                                           "received_at": value})
        assert r.status_code == 422, (value, r.get_json())
        assert "received_at" in r.get_json()["details"], value
    assert _stored(world) == (0, 0)
