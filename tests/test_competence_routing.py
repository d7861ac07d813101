"""NĐ 118/2025: a dossier received at any desk of the province is decided by the competent unit. Received at
commune Hòa An's desk, decided by commune Bình Sơn and the province, returned at Hòa An's desk; no other
commune ever sees it, and the three-level province keeps routing as before."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import cases
from engine.demo import create_demo
from engine.errors import Invalid, NotFound
from engine.models import Case, Unit
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
    # By default the commune the applicant's address names decides (else the receiving commune).
    assert re.search(r'<option value=""\s+selected>[^<]*nơi cư trú', select_html)
    assert not re.search(r'value="XA_HOA_AN"\s+selected', select_html)
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
    # Left at the default, the applicant's address decides: a resident of Sông Hồng applying at Hòa An.
    r = web.post("/reception", {"procedure": PROC, "name": "Đinh Văn Phúc", "action": "accept", "channel": "desk",
                                "address": "Tổ 4, phường Sông Hồng", "docs": ["ban_khai", "giay_bao_tu"],
                                "competent_unit": ""})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    code = re.search(r"/cases/([^?]+)\?slip=01", r.headers["Location"]).group(1)
    assert two_levels.open_item(code)[1:] == ("XA_SONG_HONG", "specialist")
    r = web.post("/reception", {"procedure": PROC, "name": "Phạm Văn Em", "action": "accept", "channel": "desk",
                                "docs": ["ban_khai", "giay_bao_tu"], "competent_unit": "TINH"})
    assert r.status_code == 422 and 'id="err-competent"' in r.get_data(as_text=True)


def test_without_a_choice_the_applicants_commune_decides(two_levels: World, api) -> None:  # noqa: ANN001
    # NĐ 118/2025: a commune-level dossier is decided where the applicant lives, whichever desk received it.
    world = two_levels
    home = {"name": "Võ Thị Hạnh", "address": "Xóm Bãi, xã Bình Sơn, tỉnh Sông Hồng"}
    code = world.receive("xa_song_hong_clerk", PROC, applicant=home)
    assert world.open_item(code)[1:] == ("XA_BINH_SON", "specialist")
    r = api.post("/api/v1/cases", user="xa_hoa_an_clerk", json={"procedure": PROC, "applicant": home})
    assert r.status_code == 201 and r.get_json()["competent_unit"] == "XA_BINH_SON"
    assert r.get_json()["tasks"][0]["unit"] == "XA_BINH_SON"
    # An address naming no commune of the province, or only part of a name, leaves the receiving commune.
    for address in ("Số 12 phố Huế, Hà Nội", "Thôn Bình Sơn Hạ", "", "xã Bình Sơn và phường Sông Hồng"):
        code = world.receive("xa_hoa_an_clerk", PROC, applicant={"name": "Võ Thị Hạnh", "address": address})
        assert world.open_item(code)[1] == "XA_HOA_AN", address
    # The desk's explicit choice wins over the address.
    code = world.receive("xa_hoa_an_clerk", PROC, applicant=home, competent_unit="XA_HOA_AN")
    assert world.open_item(code)[1] == "XA_HOA_AN"


def test_online_channel_records_the_competent_unit(world: World, api) -> None:  # noqa: ANN001
    import io
    import re

    from engine import public

    page = api.client.get("/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen").get_data(as_text=True)
    assert 'id="competent-unit"' in page
    token = csrf_token(page)
    r = api.client.post("/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen", content_type="multipart/form-data",
                        data={"csrf_token": token, "unit": "XA_A2", "competent_unit": "XA_B1", "name": "Đỗ Thị Mai",
                              "return_channel": "post",
                              "phone": "0905123456", "doc_to_khai": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf"),
                              "doc_giay_chung_tu": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "b.pdf")})
    code = re.search(r'id="case-code">([^<]+)<', r.get_data(as_text=True)).group(1)
    with world.db.transaction() as s:
        public.accept_online(s, world.user(s, "xa_a2_clerk"), code)
    assert world.open_item(code)[1] == "XA_B1"
    assert not can_open(world, "xa_a1_specialist", code) and not can_open(world, "xa_b2_specialist", code)
    with world.db.transaction() as s:
        assert s.scalar(select(Case.return_channel).where(Case.code == code)) == "post"
    # Left empty, the online form's competent unit is the commune of the applicant's address.
    page = api.client.get("/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen").get_data(as_text=True)
    assert 'name="return_channel" value="post"' in page
    r = api.client.post("/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen", content_type="multipart/form-data",
                        data={"csrf_token": csrf_token(page), "unit": "XA_A2", "competent_unit": "",
                              "name": "Đỗ Văn Minh", "address": "Thôn Trung, xã Bình Yên", "phone": "0905123457",
                              "doc_to_khai": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf"),
                              "doc_giay_chung_tu": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "b.pdf")})
    code = re.search(r'id="case-code">([^<]+)<', r.get_data(as_text=True)).group(1)
    with world.db.transaction() as s:
        public.accept_online(s, world.user(s, "xa_a2_clerk"), code)
        assert s.scalar(select(Case.return_channel).where(Case.code == code)) is None  # the desk, by default
    assert world.open_item(code)[1] == "XA_B2"
    r = api.client.post("/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen", content_type="multipart/form-data",
                        data={"csrf_token": csrf_token(page), "unit": "XA_A2", "name": "Đỗ Văn Minh",
                              "phone": "0905123457", "return_channel": "pigeon",
                              "doc_to_khai": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf"),
                              "doc_giay_chung_tu": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "b.pdf")})
    assert r.status_code == 422 and 'id="err-return_channel"' in r.get_data(as_text=True)


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


def test_two_level_demo_dossier_received_at_one_commune_decided_by_another_and_the_province(
        two_levels: World) -> None:
    from engine.demo import seed_two_level_dossier
    from engine.models import Event, User

    world = two_levels
    with world.db.transaction() as s:
        code = seed_two_level_dossier(s)
        assert code is not None and seed_two_level_dossier(s) is None  # idempotent
    _item, unit, role = world.open_item(code)
    assert (unit, role) == ("XA_HOA_AN", "clerk")  # the result waits at the receiving desk
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.status_code == 9  # decided (Đã xử lý xong), to be returned
        done = s.execute(select(Unit.code, Event.step).join(User, User.id == Event.actor_id)
                         .join(Unit, Unit.id == User.unit_id)
                         .where(Event.case_id == case.id, Event.kind == "task_completed").order_by(Event.id)).all()
        assert [u for u, _step in done] == ["XA_BINH_SON", "XA_BINH_SON", "TINH", "TINH"], done
    assert code in visible_codes(world, "xa_hoa_an_clerk") and code in visible_codes(world, "xa_binh_son_leader")
    assert code not in visible_codes(world, "xa_song_hong_clerk")


def test_init_demo_levels_2_shows_the_2025_dossier_and_three_levels_stay_empty(tmp_path) -> None:  # noqa: ANN001
    from click.testing import CliRunner

    from engine.db import Database
    from web.cli import main

    for levels, expected in (("2", 1), ("3", 0)):
        url = f"sqlite:///{tmp_path}/demo{levels}.db"
        env = {"MOTCUA_DATABASE_URL": url, "MOTCUA_INSTANCE_PATH": str(tmp_path / levels)}
        first = CliRunner().invoke(main, ["init", "--demo", "--levels", levels], env=env)
        assert first.exit_code == 0, first.output
        assert ("UBND xã Bình Sơn" in first.output) == (levels == "2")
        again = CliRunner().invoke(main, ["init", "--demo", "--levels", levels], env=env)
        assert again.exit_code == 0 and "dossier" not in again.output
        database = Database(url)
        with database.transaction() as s:
            rows = s.scalars(select(Case)).all()
            assert len(rows) == expected
            if rows:
                assert rows[0].receiving_unit.code == "XA_HOA_AN" and rows[0].competent_unit.code == "XA_BINH_SON"
        database.dispose()


def test_only_commune_level_procedures_ask_online_for_the_applicants_commune(world: World) -> None:
    from engine import competence, public
    from engine.models import ProcessVersion

    with world.db.transaction() as s:
        communes = [u.code for u in public.competent_choices(s, "ho_tro_mai_tang")]
        assert sorted(communes) == ["XA_A1", "XA_A2", "XA_B1", "XA_B2"]
        province_only = ProcessVersion(nodes={"t1": {"kind": "user_task", "level": "province", "role": "specialist"},
                                              "t2": {"kind": "user_task", "level": "commune", "role": "clerk"}})
        assert not competence.decided_by_residence(s, province_only)  # the desk's return step does not count
        home = s.scalar(select(Unit).where(Unit.code == "XA_A1"))
        assert competence.named_in_address(s, province_only, home, "Thôn 1, xã Bình Minh") is None
