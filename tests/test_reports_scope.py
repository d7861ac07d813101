"""Who sees which figures: a head or leader sees their unit's subtree, the admin everything; a unit outside
one's subtree is refused, and staff without a reporting role get 403."""

from __future__ import annotations

from typing import Any

from tests.conftest import World, at

PERIOD = "from=2025-03-01&to=2025-03-31"


def _cases(world: World) -> None:
    for user, when in (("xa_a1_clerk", "2025-03-03 09:00"), ("xa_a1_clerk", "2025-03-04 09:00"),
                       ("xa_a2_clerk", "2025-03-05 09:00"), ("xa_b1_clerk", "2025-03-06 09:00")):
        world.receive(user, "ho_tro_mai_tang", received_at=at(when))


def _new(api: Any, user: str, extra: str = "") -> Any:
    return api.get(f"/api/v1/reports/summary?{PERIOD}{extra}", user)


def test_each_head_sees_only_their_subtree(world: World, api: Any) -> None:
    _cases(world)
    expected = {"admin": 4, "tinh_leader": 4, "tinh_head": 4, "huyen_a_head": 3, "huyen_a_leader": 3,
                "huyen_b_head": 1, "xa_a1_head": 2, "xa_a2_leader": 1, "xa_b2_head": 0}
    for user, count in expected.items():
        resp = _new(api, user)
        assert resp.status_code == 200, (user, resp.get_json())
        assert resp.get_json()["received_new"] == count, user


def test_narrowing_to_a_unit_inside_the_subtree(world: World, api: Any) -> None:
    _cases(world)
    assert _new(api, "huyen_a_head", "&unit=XA_A2").get_json()["received_new"] == 1
    assert _new(api, "admin", "&unit=HUYEN_B").get_json()["received_new"] == 1
    assert _new(api, "admin", "&level=commune").get_json()["received_new"] == 4


def test_units_outside_the_subtree_and_other_roles_are_refused(world: World, api: Any) -> None:
    _cases(world)
    for user, extra in (("huyen_a_head", "&unit=XA_B1"), ("xa_a1_head", "&unit=HUYEN_A"),
                        ("xa_a1_head", "&unit=TINH")):
        resp = _new(api, user, extra)
        assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden", (user, extra)
    for user in ("xa_a1_clerk", "huyen_a_specialist", "designer"):
        assert _new(api, user).status_code == 403, user
    assert _new(api, "admin", "&unit=NO_SUCH").status_code == 404
    assert api.get(f"/api/v1/reports/summary?{PERIOD}").status_code == 401


def test_bad_parameters_are_clear_422s(world: World, api: Any) -> None:
    for query in ("from=2025-13-01&to=2025-03-31", "from=2025-04-01&to=2025-03-01", "from=yesterday",
                  f"{PERIOD}&level=nowhere"):
        resp = api.get(f"/api/v1/reports/summary?{query}", "admin")
        assert resp.status_code == 422 and resp.is_json, query
