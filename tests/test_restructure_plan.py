"""A restructuring plan: its checks, its dry run (changes nothing), its apply (refused with problems, batched,
resumable, idempotent), the history it keeps, and the same through the API."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select

from engine import reports, restructure, unit_history
from engine.db import Database
from engine.demo_restructure import plan as shipped_plan
from engine.errors import Invalid
from engine.models import Case, Event, Unit, User, WorkItem
from engine.restructure_plan import parse
from tests.conftest import World, at

PLAN = {
    "effective": "2025-07-01T00:00:00+07:00",
    "merge": [{"into": {"code": "XA_AN_HOA", "name": "UBND xã An Hòa", "level": "commune", "parent": "TINH"},
               "from": ["XA_A1", "XA_A2"]}],
    "abolish_level": [{"level": "district", "children_to": "parent", "work_to": "province"}],
    "rename": [{"unit": "TINH", "name": "Sở Nội vụ tỉnh Sông Hồng"}],
    "move_users": [{"from": "HUYEN_A", "to": "TINH"}, {"from": "HUYEN_B", "to": "TINH"}],
}
BEFORE = at("2025-06-20 09:00")


def _cases(world: World, n: int, steps: int = 0) -> list[str]:
    codes = []
    for _ in range(n):
        code = world.receive("xa_a1_clerk", received_at=BEFORE)
        for _ in range(steps):
            world.complete_next(code, now=BEFORE)
        codes.append(code)
    return codes


def _snapshot(db: Database) -> tuple:
    with db.transaction() as s:
        return (s.scalar(select(func.count()).select_from(Event)), s.scalar(select(func.count()).select_from(Unit)),
                sorted(s.execute(select(WorkItem.id, WorkItem.unit_id).where(WorkItem.state == "open")).all()),
                sorted(s.execute(select(User.username, User.unit_id)).all()))


def test_a_bad_plan_names_each_field() -> None:
    with pytest.raises(Invalid) as e:
        parse({"effective": "hôm qua", "merge": [{"into": {"name": "x"}, "from": "XA_A1"}],
               "abolish_level": [{"level": "district", "children_to": "sideways"}], "typo": 1})
    details = e.value.details
    assert {"effective", "merge[0].into.code", "merge[0].from", "abolish_level[0].children_to",
            "abolish_level[0].work_to", "typo"} <= set(details)


def test_dry_run_lists_where_each_open_step_goes_and_changes_nothing(world: World) -> None:
    commune, district = _cases(world, 1)[0], _cases(world, 1, steps=2)[0]
    before = _snapshot(world.db)
    with world.db.transaction() as s:
        pv = restructure.preview(s, parse(PLAN))
    moves = {c.code: [(m.step_id, m.from_unit, m.to_unit, m.role) for m in c.moves] for c in pv.cases}
    assert moves[commune] == [("commune_review", "XA_A1", "XA_AN_HOA", "specialist")]
    assert moves[district] == [("district_appraise", "HUYEN_A", "TINH", "specialist")]
    assert pv.ok and not pv.problems
    assert _snapshot(world.db) == before


def test_problems_are_listed_and_apply_refuses_them(world: World) -> None:
    code = _cases(world, 1)[0]
    bad = copy.deepcopy(PLAN)
    bad["merge"].append({"into": "XA_A2", "from": ["HUYEN_B"]})  # a district merged and abolished at once
    bad["merge"].append({"into": "XA_B1", "from": ["XA_B2"]})
    bad["merge"].append({"into": "XA_B2", "from": ["XA_B1"]})  # a cycle
    bad["move_users"].append({"from": "NOWHERE", "to": "TINH"})
    with world.db.transaction() as s:  # nobody left to review at the merged commune
        for user in s.scalars(select(User).where(User.username.in_(["xa_a1_specialist", "xa_a2_specialist"]))):
            user.active = False
        pv = restructure.preview(s, parse(bad))
    text = " | ".join(pv.problems)
    assert "vừa được sáp nhập vừa thuộc cấp bị bãi bỏ" in text
    assert "vòng lặp" in text and "NOWHERE" in text
    [case] = [c for c in pv.cases if c.code == code]
    assert case.moves[0].problem == "không có người dùng vai trò specialist tại XA_AN_HOA"
    before = _snapshot(world.db)
    with pytest.raises(Invalid) as e:
        restructure.apply(world.db, parse(bad), by="admin")
    assert any("specialist" in p for p in e.value.details["problems"])
    assert _snapshot(world.db) == before


def test_apply_in_batches_resumes_and_a_second_apply_changes_nothing(world: World) -> None:
    codes = _cases(world, 3) + _cases(world, 2, steps=2)
    plan = parse(PLAN)
    first = restructure.apply(world.db, plan, by="admin", batch_size=2, max_batches=1)  # interrupted
    assert first.cases_moved == 2 and not first.already_applied
    with world.db.transaction() as s:
        assert not restructure.preview(s, plan).applied
    rest = restructure.apply(world.db, plan, by="admin", batch_size=2)
    assert rest.cases_moved == 3
    events = _snapshot(world.db)
    again = restructure.apply(world.db, plan, by="admin")
    assert again.already_applied and _snapshot(world.db) == events
    with world.db.transaction() as s:
        for code in codes:
            case = s.scalar(select(Case).where(Case.code == code))
            kinds = list(s.scalars(select(Event.kind).where(Event.case_id == case.id,
                                                            Event.kind == "org_restructured")))
            assert kinds == ["org_restructured"]
            [item] = [i for i in s.scalars(select(WorkItem).where(WorkItem.case_id == case.id,
                                                                  WorkItem.state == "open"))]
            assert item.unit.code in {"XA_AN_HOA", "TINH"} and item.due_at is not None


def test_history_stays_true_and_old_diagrams_keep_routing(world: World) -> None:
    old_case = _cases(world, 1)[0]
    restructure.apply(world.db, parse(PLAN), by="admin", now=at("2025-06-30 22:00"))
    with world.db.transaction() as s:
        tinh = s.scalar(select(Unit).where(Unit.code == "TINH"))
        assert unit_history.name_at(s, tinh, at("2025-06-01 08:00")).startswith("Sở Lao động")
        assert unit_history.name_at(s, tinh, at("2025-07-02 08:00")) == "Sở Nội vụ tỉnh Sông Hồng"
        old, now_holder = unit_history.by_code(s, "XA_A1")  # a lookup by the old code still works
        assert not old.active and now_holder.code == "XA_AN_HOA"
        assert s.scalar(select(Unit.parent_id).where(Unit.code == "XA_B1")) is not None
        assert s.scalar(select(Case.code).where(Case.code == old_case)) == old_case
    # A new case of an old version (district lanes) received at the merged commune: the district's steps
    # go to the province, as the level alias says.
    code = world.receive("xa_a1_clerk", procedure="tro_cap_xa_hoi", received_at=at("2025-07-02 09:00"))
    units = []
    for _ in range(6):
        unit, _role = _complete_any(world, code)
        units.append(unit)
        if unit is None:
            break
    assert "TINH" in units and "HUYEN_A" not in units and "XA_AN_HOA" in units
    # Reports: a period before the reform groups by the old units, one after by the new.
    with world.db.transaction() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        june = reports.filters_for(s, admin, "2025-06-01", "2025-06-30", now=at("2025-12-31 00:00"))
        july = reports.filters_for(s, admin, "2025-07-01", "2025-07-31", now=at("2025-12-31 00:00"))
        assert {r.key for r in reports.table(s, june, "unit")} == {"XA_A1"}
        july_rows = reports.table(s, july, "unit")
        assert [r.key for r in july_rows] == ["XA_AN_HOA"] and july_rows[0].label == "UBND xã An Hòa"


def _complete_any(world: World, code: str) -> tuple[str | None, str | None]:
    from engine import cases
    from tests.test_restructure_2025 import actor

    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        items = cases.open_items(s, case)
        if not items:
            return None, None
        item = items[0]
        unit = item.unit.code
        cases.complete_task(s, actor(s, item.unit_id, item.role_code), item.id, {"outcome": "approve"},
                            now=at("2025-07-03 09:00"))
        return unit, item.role_code


def test_the_api_previews_and_applies_a_plan(world: World, api) -> None:  # noqa: ANN001
    code = _cases(world, 1)[0]
    r = api.post("/api/v1/org/restructure?dry_run=true", user="xa_a1_clerk", json=PLAN)
    assert r.status_code == 403
    r = api.post("/api/v1/org/restructure?dry_run=true", user="admin",
                 json={**PLAN, "merge": [{"into": {"code": ""}, "from": []}]})
    assert r.status_code == 422 and "merge" in str(r.get_json()["details"])
    r = api.post("/api/v1/org/restructure?dry_run=true", user="admin", json=PLAN)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["ok"] and body["result"] is None
    assert [m["to_unit"] for c in body["cases"] if c["code"] == code for m in c["moves"]] == ["XA_AN_HOA"]
    with world.db.transaction() as s:
        assert s.scalar(select(Unit.active).where(Unit.code == "XA_A1")) is True
    r = api.post("/api/v1/org/restructure?dry_run=false", user="admin", json=PLAN)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["result"]["cases_moved"] == 1 and r.get_json()["applied"]
    r = api.post("/api/v1/org/restructure?dry_run=false", user="admin", json=PLAN)
    assert r.get_json()["result"]["already_applied"]


def test_the_shipped_plan_reads() -> None:
    plan = shipped_plan()
    assert [m.into["code"] for m in plan.merges] == ["XA_AN_HOA", "XA_BINH_SON"]
    assert plan.abolish[0].level == "district" and plan.abolish[0].work_to == "province"


def test_the_admin_page_previews_then_applies(world: World, tmp_path) -> None:  # noqa: ANN001
    import html

    from engine.resources import shipped
    from tests.helpers import Browser

    code = _cases(world, 1)[0]
    web = Browser(world.db, tmp_path)
    web.login("xa_a1_clerk")
    assert web.get("/admin/restructure").status_code == 403
    web.login("admin")
    assert "Sắp xếp đơn vị hành chính" in web.get("/admin/restructure").get_data(as_text=True)
    plan = (shipped() / "bpmn" / "restructure-2025" / "plan.toml").read_text(encoding="utf-8")
    page = web.post("/admin/restructure", {"plan": plan, "action": "preview"}).get_data(as_text=True)
    assert code in page and "XA_AN_HOA" in page and 'id="apply-form"' in page
    assert "Hiệu lực: 01/07/2025" in page  # the date as officials write it, not ISO 8601
    with world.db.transaction() as s:
        assert s.scalar(select(Unit.active).where(Unit.code == "XA_A1")) is True
    bad = web.post("/admin/restructure", {"plan": "effective = 'x'\n[[merge]]\n", "action": "preview"})
    assert 'id="plan-error"' in bad.get_data(as_text=True)
    done = web.post("/admin/restructure", {"plan": plan, "action": "apply"}, follow_redirects=True)
    assert "Đã áp dụng kế hoạch: 1 hồ sơ" in html.unescape(done.get_data(as_text=True))
    with world.db.transaction() as s:
        assert s.scalar(select(Unit.active).where(Unit.code == "XA_A1")) is False


def test_the_merged_communes_staff_keep_seeing_its_finished_cases(world: World) -> None:
    from engine import cases
    from engine.routing import visible_cases

    code = _cases(world, 1)[0]
    with world.db.transaction() as s:  # finished before the merge: no open step moves with it
        case = s.scalar(select(Case).where(Case.code == code))
        for item in cases.open_items(s, case):
            item.state = "cancelled"
    restructure.apply(world.db, parse(PLAN), by="admin")
    with world.db.transaction() as s:
        clerk = s.scalar(select(User).where(User.username == "xa_a2_clerk"))  # was at xã An Lạc, now An Hòa
        assert cases.get_case(s, clerk, code).code == code
        assert code in set(s.scalars(select(Case.code).where(visible_cases(clerk))))
        other = s.scalar(select(User).where(User.username == "xa_b1_clerk"))
        assert code not in set(s.scalars(select(Case.code).where(visible_cases(other))))
