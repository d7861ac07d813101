"""Running cases move to a new version of their diagram: previewed (who cannot and why), applied with history,
deadline and claim kept, audited (`migrated`), reversible while nothing happened since; CLI and API too."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine import cases, catalog, migrate_cases
from engine.db import Database
from engine.demo_restructure import MAPPING, V2_FILE, v2_xml
from engine.deploy import deploy
from engine.errors import Conflict, Invalid
from engine.models import Case, Event, User, WorkItem
from tests.conftest import World, at

NOW = at("2026-03-02 09:00")


def _deploy_v2(db: Database) -> int:
    with db.transaction() as s:
        return deploy(s, v2_xml(), V2_FILE, forms=catalog.load_forms(), procedure_code="ncc_mai_tang").version


def _case_at(world: World, steps: int) -> str:
    code = world.receive("xa_a1_clerk", received_at=NOW)
    for _ in range(steps):
        world.complete_next(code, now=NOW)
    return code


def _open(db: Database, code: str) -> list[WorkItem]:
    with db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        return cases.open_items(s, case)


def test_preview_says_which_cases_cannot_move_and_why(world: World) -> None:
    at_commune, at_district, at_province = _case_at(world, 0), _case_at(world, 2), _case_at(world, 3)
    version = _deploy_v2(world.db)
    with world.db.transaction() as s:
        pv = migrate_cases.preview(s, "ncc_mai_tang", version)
    checks = {c.code: c for c in pv.cases}
    assert checks[at_commune].can_migrate and checks[at_province].can_migrate
    blocked = checks[at_district]
    assert not blocked.can_migrate and blocked.waiting == ["district_appraise"]
    assert "district_appraise" in blocked.why[0] and "--map" in blocked.why[0]
    with world.db.transaction() as s:
        mapped = migrate_cases.preview(s, "ncc_mai_tang", version, mapping=MAPPING)
        assert all(c.can_migrate for c in mapped.cases)
        with pytest.raises(Invalid):  # naming a case that cannot move refuses the whole request
            migrate_cases.migrate(s, None, "ncc_mai_tang", version, [at_district])
    assert _open(world.db, at_district)[0].task_bpmn_id == "district_appraise"


def test_migration_keeps_deadline_claim_and_history_and_can_be_reverted(world: World) -> None:
    at_district, at_province = _case_at(world, 2), _case_at(world, 3)
    [review] = _open(world.db, at_province)
    with world.db.transaction() as s:
        cases.claim(s, s.scalar(select(User).where(User.username == "tinh_specialist")), review.id)
    [appraise] = _open(world.db, at_district)
    version = _deploy_v2(world.db)
    with world.db.transaction() as s:
        designer = s.scalar(select(User).where(User.username == "designer"))
        migrate_cases.migrate(s, designer, "ncc_mai_tang", version, mapping=MAPPING, now=NOW)
    [kept] = _open(world.db, at_province)
    assert (kept.id, kept.due_at, kept.task_bpmn_id) == (review.id, review.due_at, "province_review")
    assert kept.claimed_by_id is not None
    [moved] = _open(world.db, at_district)
    assert moved.id == appraise.id and moved.due_at == appraise.due_at
    assert (moved.task_bpmn_id, moved.unit.code) == ("province_review", "TINH")
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == at_district))
        ev = s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "migrated"))
        assert (ev.data["from"], ev.data["to"], ev.data["map"], ev.data["by"]) == (1, version, MAPPING, "designer")
        done = s.scalars(select(Event.step_bpmn_id).where(Event.case_id == case.id, Event.kind == "task_completed"))
        assert list(done) == ["commune_review", "commune_confirm"]  # history kept
    # Nothing happened since: back to version 1, the step at the district again.
    with world.db.transaction() as s:
        migrate_cases.revert(s, None, at_district)
    [back] = _open(world.db, at_district)
    assert (back.id, back.task_bpmn_id, back.unit.code) == (appraise.id, "district_appraise", "HUYEN_A")
    world.complete_next(at_district, now=NOW)  # v1 runs on: the province reviews next
    assert world.open_item(at_district)[1:] == ("TINH", "specialist")
    # The other case moved on after its migration: it can no longer be reverted, and it runs to the end on v2.
    world.complete_next(at_province, now=NOW)
    with world.db.transaction() as s, pytest.raises(Conflict):
        migrate_cases.revert(s, None, at_province)
    for _ in range(2):  # decide, return the result
        world.complete_next(at_province, now=NOW)
    assert _open(world.db, at_province) == []
    with world.db.transaction() as s:
        assert s.scalar(select(Case.status_code).where(Case.code == at_province)) == 10


def test_cli_and_api(world: World, api, monkeypatch) -> None:  # noqa: ANN001
    from web.cli import main

    code = _case_at(world, 2)
    version = _deploy_v2(world.db)
    monkeypatch.setenv("MOTCUA_DATABASE_URL", world.db.url)
    runner = CliRunner()
    out = runner.invoke(main, ["cases", "migrate", "--procedure", "ncc_mai_tang", "--to-version", str(version),
                               "--dry-run"])
    assert out.exit_code == 0 and "KHÔNG chuyển được" in out.output and code in out.output
    r = api.post("/api/v1/processes/ncc_mai_tang/migrate", user="xa_a1_clerk", json={"to_version": version})
    assert r.status_code == 403
    r = api.post("/api/v1/processes/ncc_mai_tang/migrate", user="designer", json={"to_version": 0})
    assert r.status_code == 422 and "to_version" in str(r.get_json()["details"])
    r = api.post("/api/v1/processes/ncc_mai_tang/migrate", user="designer",
                 json={"to_version": version, "map": MAPPING, "dry_run": False})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["movable"] == 1 and r.get_json()["applied"]
    assert world.open_item(code)[1:] == ("TINH", "specialist")
    out = runner.invoke(main, ["cases", "migrate", "--revert", code])
    assert out.exit_code == 0, out.output
    assert world.open_item(code)[1:] == ("HUYEN_A", "specialist")


def test_the_designer_page_previews_and_moves_running_cases(world: World, tmp_path) -> None:  # noqa: ANN001
    from tests.helpers import Browser

    code = _case_at(world, 2)
    version = _deploy_v2(world.db)
    web = Browser(world.db, tmp_path)
    web.login("designer")
    listing = web.get("/designer").get_data(as_text=True)
    assert f"chuyển hồ sơ đang chạy sang phiên bản {version}" in listing
    page = web.get(f"/designer/ncc_mai_tang/migrate/{version}").get_data(as_text=True)
    assert code in page and "district_appraise" in page and 'id="migrate-form"' not in page
    page = web.get(f"/designer/ncc_mai_tang/migrate/{version}?map=district_appraise%3Dprovince_review")
    assert 'id="migrate-form"' in page.get_data(as_text=True)
    web.post(f"/designer/ncc_mai_tang/migrate/{version}",
             {"map": "district_appraise=province_review", "action": "apply"})
    assert world.open_item(code)[1:] == ("TINH", "specialist")
    web.login("xa_a1_clerk")
    assert web.get(f"/designer/ncc_mai_tang/migrate/{version}").status_code == 403


def _with_inserted_step(xml: bytes) -> bytes:
    """v2 with a province check inserted between the commune's confirmation and the province's review."""
    from lxml import etree

    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    b = "{" + ns["bpmn"] + "}"
    root = etree.fromstring(xml)
    flow = root.xpath("//bpmn:sequenceFlow[@id='commune_confirm_to_province_review']", namespaces=ns)[0]
    flow.set("targetRef", "province_check")
    proc = flow.getparent()
    task = etree.SubElement(proc, b + "userTask", id="province_check", name="Kiểm tra danh sách tại tỉnh")
    spiff = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
    props = etree.SubElement(etree.SubElement(task, b + "extensionElements"), spiff + "properties")
    etree.SubElement(props, spiff + "property", name="deadline_days", value="1")
    etree.SubElement(task, b + "incoming").text = "commune_confirm_to_province_review"
    etree.SubElement(task, b + "outgoing").text = "province_check_to_review"
    etree.SubElement(proc, b + "sequenceFlow", id="province_check_to_review", sourceRef="province_check",
                     targetRef="province_review")
    review = root.xpath("//bpmn:userTask[@id='province_review']/bpmn:incoming", namespaces=ns)[0]
    review.text = "province_check_to_review"
    lane = root.xpath("//bpmn:lane[@id='lane_province_specialist']", namespaces=ns)[0]
    etree.SubElement(lane, b + "flowNodeRef").text = "province_check"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_step_inserted_before_or_after_the_waiting_one_does_not_block(world: World) -> None:
    waiting_before, waiting_after = _case_at(world, 1), _case_at(world, 3)  # commune_confirm, province_review
    with world.db.transaction() as s:
        version = deploy(s, _with_inserted_step(v2_xml()), "ncc_v3.bpmn", forms=catalog.load_forms(),
                         procedure_code="ncc_mai_tang").version
        assert all(c.can_migrate for c in migrate_cases.preview(s, "ncc_mai_tang", version).cases)
        migrate_cases.migrate(s, None, "ncc_mai_tang", version, [waiting_before, waiting_after], now=NOW)
    world.complete_next(waiting_before, now=NOW)  # the inserted step comes next for the case before it
    assert _open(world.db, waiting_before)[0].task_bpmn_id == "province_check"
    world.complete_next(waiting_after, now=NOW)  # ...and is not redone for the case already past it
    assert _open(world.db, waiting_after)[0].task_bpmn_id == "province_decide"
