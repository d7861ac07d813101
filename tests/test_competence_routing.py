"""NĐ 118/2025: a dossier received at any desk of the province is decided by the competent unit. Received at
commune Hòa An's desk, decided by commune Bình Sơn and the province, returned at Hòa An's desk; no other
commune ever sees it, and the three-level province keeps routing as before."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import cases
from engine.demo import create_demo
from engine.errors import Invalid, NotFound
from engine.models import Case
from engine.routing import visible_cases
from tests.conftest import World
from tests.helpers import csrf_token

PROC = "ncc_mai_tang_2025"


@pytest.fixture
def two_levels(world: World) -> World:
    with world.db.transaction() as s:
        create_demo(s, levels=2)
    return world


def visible_codes(world: World, username: str) -> set[str]:
    with world.db.transaction() as s:
        user = world.user(s, username)
        return set(s.scalars(select(Case.code).where(visible_cases(user))))


def can_open(world: World, username: str, code: str) -> bool:
    with world.db.transaction() as s:
        try:
            cases.get_case(s, world.user(s, username), code)
            return True
        except NotFound:
            return False


def test_received_at_one_commune_decided_by_another_and_the_province_returned_at_the_desk(two_levels: World) -> None:
    world = two_levels
    code = world.receive("xa_hoa_an_clerk", PROC, competent_unit="XA_BINH_SON")
    outsiders = ["xa_song_hong_clerk", "xa_song_hong_specialist", "xa_song_hong_leader", "xa_a1_specialist",
                 "huyen_a_specialist"]
    walked = []
    while True:
        item_id, unit, role = world.open_item(code)
        walked.append((unit, role))
        for outsider in outsiders:
            assert not can_open(world, outsider, code), outsider
            with world.db.transaction() as s:
                assert item_id not in [i.id for i in cases.inbox(s, world.user(s, outsider)).items]
        world.complete_next(code)
        if (unit, role) == ("XA_HOA_AN", "clerk"):
            break
    assert walked == [("XA_BINH_SON", "specialist"), ("XA_BINH_SON", "leader"), ("TINH", "specialist"),
                      ("TINH", "leader"), ("XA_HOA_AN", "clerk")]
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.status_code == 10 and case.result == "approved"
        assert case.receiving_unit.code == "XA_HOA_AN" and case.competent_unit.code == "XA_BINH_SON"
    # The receiving desk and the deciding commune both see it; the neighbour of either does not.
    assert code in visible_codes(world, "xa_hoa_an_clerk")
    assert code in visible_codes(world, "xa_binh_son_specialist")
    assert code in visible_codes(world, "xa_binh_son_clerk")  # its unit is competent for the case
    for outsider in outsiders:
        assert code not in visible_codes(world, outsider)


def test_receiving_desk_does_no_deciding_and_the_deciding_commune_no_desk_work(two_levels: World) -> None:
    world = two_levels
    code = world.receive("xa_song_hong_clerk", PROC, competent_unit="XA_HOA_AN")
    with world.db.transaction() as s:
        assert cases.inbox(s, world.user(s, "xa_song_hong_specialist")).items == []
        assert [i.case.code for i in cases.inbox(s, world.user(s, "xa_hoa_an_specialist")).items] == [code]


def test_without_a_choice_the_receiving_commune_decides(two_levels: World) -> None:
    world = two_levels
    code = world.receive("xa_binh_son_clerk", PROC)
    assert world.open_item(code)[1:] == ("XA_BINH_SON", "specialist")


def test_competent_unit_must_be_a_commune_of_the_province(two_levels: World) -> None:
    world = two_levels
    for bad in ("TINH", "NO_SUCH_UNIT", "x" * 65):
        with pytest.raises(Invalid) as e:
            world.receive("xa_hoa_an_clerk", PROC, competent_unit=bad)
        assert "competent_unit" in e.value.details
    with pytest.raises(Invalid) as e:
        world.receive("xa_hoa_an_clerk", PROC, return_channel="pigeon")
    assert "return_channel" in e.value.details


def test_three_level_province_unchanged_with_competence_across_districts(world: World) -> None:
    # Received at An Phú (district A), decided by Bình Minh (district B): district B and the province decide.
    code = world.receive("xa_a1_clerk", "ncc_mai_tang", competent_unit="XA_B1")
    units = []
    while True:
        _item, unit, role = world.open_item(code)
        units.append(unit)
        world.complete_next(code)
        if role == "clerk":
            break
    assert units == ["XA_B1", "XA_B1", "HUYEN_B", "TINH", "TINH", "XA_A1"]
    assert not can_open(world, "huyen_a_specialist", code)
    assert not can_open(world, "xa_b2_specialist", code)


def test_api_receives_with_competent_unit(two_levels: World, api) -> None:  # noqa: ANN001
    r = api.post("/api/v1/cases", user="xa_hoa_an_clerk",
                 json={"procedure": PROC, "applicant": {"name": "Trần Thị Bình"}, "competent_unit": "XA_BINH_SON",
                       "return_channel": "post"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["competent_unit"] == "XA_BINH_SON" and body["return_channel"] == "post"
    assert body["tasks"][0]["unit"] == "XA_BINH_SON"
    r = api.post("/api/v1/cases", user="xa_hoa_an_clerk",
                 json={"procedure": PROC, "applicant": {"name": "Trần Thị Bình"}, "competent_unit": "TINH"})
    assert r.status_code == 422 and "competent_unit" in r.get_json()["details"]


def test_reception_page_offers_the_competent_units_without_script(two_levels: World, tmp_path) -> None:  # noqa: ANN001
    import re

    from tests.helpers import Browser

    web = Browser(two_levels.db, tmp_path)
    web.login("xa_hoa_an_clerk")
    page = web.get(f"/reception?procedure={PROC}").get_data(as_text=True)
    select_html = page[page.index('id="competent-unit"'):page.index("</select>", page.index('id="competent-unit"'))]
    assert "UBND xã Bình Sơn" in select_html and "UBND phường Sông Hồng" in select_html
    assert re.search(r'value="XA_HOA_AN"\s+selected', select_html)  # the receiving commune by default
    assert "<script>" not in page and "onchange" not in page
    r = web.post("/reception", {"procedure": PROC, "name": "Phạm Văn Em", "action": "accept", "channel": "desk",
                                "docs": ["ban_khai", "giay_bao_tu"], "competent_unit": "XA_BINH_SON",
                                "return_channel": "post", "proxy_name": "Phạm Thị Gấm",
                                "proxy_id_number": "036190007777"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    code = re.search(r"/cases/([^?]+)\?slip=01", r.headers["Location"]).group(1)
    assert two_levels.open_item(code)[1:] == ("XA_BINH_SON", "specialist")
    with two_levels.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.return_channel == "post" and case.data["proxy"]["name"] == "Phạm Thị Gấm"
    r = web.post("/reception", {"procedure": PROC, "name": "Phạm Văn Em", "action": "accept", "channel": "desk",
                                "docs": ["ban_khai", "giay_bao_tu"], "competent_unit": "TINH"})
    assert r.status_code == 422 and 'id="err-competent"' in r.get_data(as_text=True)


def test_online_channel_records_the_competent_unit(world: World, api) -> None:  # noqa: ANN001
    import io
    import re

    from engine import public

    page = api.client.get("/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen").get_data(as_text=True)
    assert 'id="competent-unit"' in page
    token = csrf_token(page)
    r = api.client.post("/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen", content_type="multipart/form-data",
                        data={"csrf_token": token, "unit": "XA_A2", "competent_unit": "XA_B1", "name": "Đỗ Thị Mai",
                              "phone": "0905123456", "doc_to_khai": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf"),
                              "doc_giay_chung_tu": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "b.pdf")})
    code = re.search(r'id="case-code">([^<]+)<', r.get_data(as_text=True)).group(1)
    with world.db.transaction() as s:
        public.accept_online(s, world.user(s, "xa_a2_clerk"), code)
    assert world.open_item(code)[1] == "XA_B1"
    assert not can_open(world, "xa_a1_specialist", code) and not can_open(world, "xa_b2_specialist", code)


def test_abolished_district_working_to_the_commune_means_the_competent_commune(world: World) -> None:
    # After the 2025 restructuring a province may hand the abolished district's steps to "the case's own
    # commune" (work_to = "commune"). For a dossier received at An Phú and decided by Bình Minh, that is Bình
    # Minh — the competent commune — never the receiving desk's commune.
    from engine import restructure
    from engine.restructure_plan import parse
    from tests.conftest import at

    plan = {"effective": "2025-07-01T00:00:00+07:00",
            "abolish_level": [{"level": "district", "children_to": "parent", "work_to": "commune"}]}
    restructure.apply(world.db, parse(plan), by="admin", now=at("2025-06-30 22:00"))
    code = world.receive("xa_a1_clerk", "ncc_mai_tang", competent_unit="XA_B1")
    walked = []
    while True:
        _item, unit, role = world.open_item(code)
        walked.append((unit, role))
        world.complete_next(code)
        if role == "clerk":
            break
    assert [u for u, _r in walked] == ["XA_B1", "XA_B1", "XA_B1", "TINH", "TINH", "XA_A1"], walked
    assert not can_open(world, "xa_a2_specialist", code) and not can_open(world, "xa_b2_specialist", code)
    assert code not in visible_codes(world, "xa_a2_clerk") | visible_codes(world, "xa_b2_leader")
