"""A lane (level, role) resolves to the unit on the case's own path: a commune of district A never sends
work to district B, and a case nobody can route stays visible with a clear error."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine import cases, org, routing
from engine.catalog import load_forms
from engine.deploy import deploy
from engine.models import Case, Unit
from tests.conftest import World

TWO_LANES = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_bytes()


def unit(s, code: str) -> Unit:
    return s.scalar(select(Unit).where(Unit.code == code))


def test_each_commune_routes_to_its_own_district_and_the_shared_province(world: World) -> None:
    with world.db.transaction() as s:
        for commune, district in [("XA_A1", "HUYEN_A"), ("XA_A2", "HUYEN_A"), ("XA_B1", "HUYEN_B")]:
            assert routing.resolve_unit(s, unit(s, commune), "district").code == district
            assert routing.resolve_unit(s, unit(s, commune), "province").code == "TINH"
            assert routing.resolve_unit(s, unit(s, commune), "commune").code == commune


def test_lower_level_from_a_district_needs_the_commune_named(world: World) -> None:
    with world.db.transaction() as s:
        district = unit(s, "HUYEN_B")
        try:
            routing.resolve_unit(s, district, "commune")
            raise AssertionError("two communes below: must not guess")
        except routing.RoutingError as e:
            assert "unit_commune" in e.message
        assert routing.resolve_unit(s, district, "commune", {"unit_commune": "XA_B2"}).code == "XA_B2"
        try:
            routing.resolve_unit(s, district, "commune", {"unit_commune": "XA_A1"})
            raise AssertionError("a commune of another district must be refused")
        except routing.RoutingError as e:
            assert "XA_A1" in e.message


def test_case_of_district_a_is_never_in_district_b_inbox(world: World) -> None:
    code = world.receive("xa_a1_clerk")
    while True:
        item_id, unit_code, _role = world.open_item(code)
        assert unit_code in {"XA_A1", "HUYEN_A", "TINH"}
        with world.db.transaction() as s:
            for outsider in ("huyen_b_specialist", "huyen_b_head", "xa_b1_specialist", "xa_a2_specialist"):
                page = cases.inbox(s, world.user(s, outsider))
                assert item_id not in [i.id for i in page.items]
        if unit_code == "TINH":
            break
        world.complete_next(code)


def test_two_level_province_routes_commune_straight_to_province(world: World) -> None:
    """Since 2025 many provinces have no districts: the same diagram kinds must work with two levels."""
    with world.db.transaction() as s:
        org.add_unit(s, "T2", "UBND tỉnh Hai Cấp", "province", agency_code="000.00.00.H98")
        org.add_unit(s, "T2_X1", "UBND xã Mới", "commune", parent="T2", agency_code="000.01.00.H98")
        org.add_user(s, "t2_x1_specialist", "T2_X1", ["specialist"], "pw-12345678")
        org.add_user(s, "t2_x1_clerk", "T2_X1", ["clerk"], "pw-12345678")
        org.add_user(s, "t2_specialist", "T2", ["specialist"], "pw-12345678")
        xml = TWO_LANES.replace(b'value="district"', b'value="province"')
        deploy(s, xml, "two_lanes.bpmn", forms=load_forms(), procedure_code="two_level_demo")
    code = world.receive("t2_x1_clerk", procedure="two_level_demo")
    assert world.complete_next(code) == ("T2_X1", "specialist")
    assert world.open_item(code)[1:] == ("T2", "specialist")


def test_unroutable_step_is_a_visible_error_not_a_lost_case(world: World) -> None:
    with world.db.transaction() as s:
        org.add_unit(s, "LONELY", "UBND xã Không Huyện", "commune", agency_code="000.99.00.H97")
        org.add_user(s, "lonely_specialist", "LONELY", ["specialist"], "pw-12345678")
        org.add_user(s, "lonely_clerk", "LONELY", ["clerk"], "pw-12345678")
        deploy(s, TWO_LANES, "two_lanes.bpmn", forms=load_forms(), procedure_code="two_lanes")
    code = world.receive("lonely_clerk", procedure="two_lanes")
    item_id, _unit, _role = world.open_item(code)
    world.complete("lonely_specialist", item_id, {"outcome": "approve"})
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert "Huyện thẩm định" in case.error and "cấp huyện" in case.error
        assert cases.get_case(s, world.user(s, "lonely_specialist"), code).code == code
        kinds = [e.kind for e in cases.events(s, case)]
        assert "routing_error" in kinds
    # Once the organisation is fixed, the owner re-routes the waiting step; nothing was lost.
    with world.db.transaction() as s:
        org.add_unit(s, "LONELY_D", "UBND huyện Mới", "district", agency_code="000.00.99.H97")
        lonely = s.scalar(select(Unit).where(Unit.code == "LONELY"))
        lonely.parent_id = unit(s, "LONELY_D").id
        lonely.path = unit(s, "LONELY_D").path + f"{lonely.id}/"
    with world.db.transaction() as s:
        case = cases.retry_routing(s, world.user(s, "lonely_specialist"), code)
        assert case.error is None
    assert world.open_item(code)[1:] == ("LONELY_D", "specialist")
