"""Deploying a new version of a procedure changes new cases only: a case started on version 1 finishes on
version 1, a case received after version 2 passes through the step version 2 added."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine import cases, designer
from engine.models import Case, Event
from tests.conftest import World

SHIPPED = Path(__file__).resolve().parent.parent / "bpmn" / "ncc_mai_tang.bpmn"
NEW_STEP = "post_notice"


def add_step(xml: str, step: str = NEW_STEP, name: str = "Niêm yết công khai tại xã") -> str:
    """ncc_mai_tang with a user task (commune specialist lane, 1 working day) between start and the review."""
    assert 'sourceRef="start" targetRef="review_merge"' in xml
    start_ref = "<bpmn:flowNodeRef>start</bpmn:flowNodeRef>"
    xml = xml.replace(start_ref, f"{start_ref}\n        <bpmn:flowNodeRef>{step}</bpmn:flowNodeRef>")
    xml = xml.replace('sourceRef="start" targetRef="review_merge"', f'sourceRef="start" targetRef="{step}"')
    xml = xml.replace("<bpmn:incoming>start_to_review_merge</bpmn:incoming>",
                      f"<bpmn:incoming>{step}_to_review_merge</bpmn:incoming>")
    task = (f'<bpmn:userTask id="{step}" name="{name}">\n'
            "      <bpmn:extensionElements>\n        <spiffworkflow:properties>\n"
            '          <spiffworkflow:property name="deadline_days" value="1" />\n'
            "        </spiffworkflow:properties>\n      </bpmn:extensionElements>\n"
            f"      <bpmn:incoming>start_to_review_merge</bpmn:incoming>\n"
            f"      <bpmn:outgoing>{step}_to_review_merge</bpmn:outgoing>\n    </bpmn:userTask>\n"
            f'    <bpmn:sequenceFlow id="{step}_to_review_merge" sourceRef="{step}" targetRef="review_merge" />\n    ')
    return xml.replace('<bpmn:exclusiveGateway id="review_merge">', task + '<bpmn:exclusiveGateway id="review_merge">')


def steps_of(world: World, code: str) -> list[str]:
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        return [e.step_bpmn_id for e in s.scalars(select(Event).where(Event.case_id == case.id)) if e.step_bpmn_id]


def finish(world: World, code: str) -> list[tuple[str, str]]:
    done = []
    for _ in range(20):
        with world.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.code == code))
            if not cases.open_items(s, case):
                break
        done.append(world.complete_next(code))
    return done


def test_running_case_stays_on_version_1_new_case_takes_the_new_step(world: World) -> None:
    old = world.receive()
    assert world.open_item(old)[1:] == ("XA_A1", "specialist")

    with world.db.transaction() as s:
        pv = designer.deploy_xml(s, world.user(s, "designer"), add_step(SHIPPED.read_text(encoding="utf-8")),
                                 code="ncc_mai_tang")
        assert pv.version == 2 and pv.nodes[NEW_STEP]["level"] == "commune"

    new = world.receive()
    # The new case waits at the new step, in the commune specialist's inbox.
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == new))
        items = cases.open_items(s, case)
        assert [i.task_bpmn_id for i in items] == [NEW_STEP]
        assert case.process_version.version == 2
        inbox = cases.inbox(s, world.user(s, "xa_a1_specialist")).items
        assert NEW_STEP in {i.task_bpmn_id for i in inbox}

    finish(world, old)
    finish(world, new)
    with world.db.transaction() as s:
        old_case = s.scalar(select(Case).where(Case.code == old))
        new_case = s.scalar(select(Case).where(Case.code == new))
        assert old_case.process_version.version == 1 and old_case.status_code == 10
        assert new_case.process_version.version == 2 and new_case.status_code == 10
    assert NEW_STEP not in steps_of(world, old)
    new_steps = steps_of(world, new)
    assert NEW_STEP in new_steps and new_steps.index(NEW_STEP) < new_steps.index("commune_review")

    with world.db.transaction() as s:
        info = designer.procedure_versions(s, "ncc_mai_tang")
        assert [(v.version, v.cases) for v in info.versions] == [(1, 1), (2, 1)]
        assert info.versions[1].deployed_by == "designer"


def test_draft_deploys_with_its_forms_and_is_then_gone(world: World) -> None:
    form = {"type": "default", "id": "form_niem_yet_moi", "components": [
        {"type": "select", "key": "outcome", "label": "Kết quả", "validate": {"required": True},
         "values": [{"label": "Đồng ý", "value": "approve"}, {"label": "Từ chối", "value": "refuse"}]}]}
    xml = add_step(SHIPPED.read_text(encoding="utf-8")).replace(
        '<spiffworkflow:property name="deadline_days" value="1" />',
        '<spiffworkflow:property name="deadline_days" value="1" />\n'
        '          <spiffworkflow:property name="form" value="niem_yet_moi" />', 1)
    with world.db.transaction() as s:
        user = world.user(s, "designer")
        # Without the form the draft does not validate; with it in the draft it does.
        assert any("niem_yet_moi" in p.message for p in designer.validate(s, xml, code="ncc_mai_tang").problems)
        designer.save_draft(s, user, "ncc_mai_tang", xml, {"niem_yet_moi": form})
        assert designer.validate(s, xml, code="ncc_mai_tang").valid
        assert designer.diff_versions(s, "ncc_mai_tang", 1, "draft").added == sorted(
            [NEW_STEP, f"{NEW_STEP}_to_review_merge"])
        pv = designer.deploy_draft(s, user, "ncc_mai_tang")
        assert pv.version == 2 and pv.forms["niem_yet_moi"] == form
        assert designer.get_draft(s, "ncc_mai_tang") is None
    # Version 1 keeps its own forms.
    with world.db.transaction() as s:
        assert "niem_yet_moi" not in designer.get_version(s, "ncc_mai_tang", 1).forms


def test_template_is_a_valid_three_level_procedure(world: World) -> None:
    with world.db.transaction() as s:
        xml = designer.template(s, "thu_tuc_mau", "Thủ tục mẫu liên thông", ["province", "district", "commune"])
        v = designer.validate(s, xml, code="thu_tuc_mau")
        assert v.valid, v.problems
        tasks = [n for n in v.nodes.values() if n["kind"] == "user_task"]
        assert [(t["level"], t["role"]) for t in tasks] == [
            ("commune", "specialist"), ("district", "specialist"), ("province", "specialist"), ("commune", "clerk")]
        assert "bpmndi:BPMNShape" in xml and xml.count("<di:waypoint") >= 8
        designer.deploy_xml(s, world.user(s, "designer"), xml, code="thu_tuc_mau")
    code = world.receive(procedure="thu_tuc_mau")
    assert [u for u, _ in finish(world, code)] == ["XA_A1", "HUYEN_A", "TINH", "XA_A1"]


def test_diff_names_added_removed_and_changed_elements() -> None:
    v1 = SHIPPED.read_text(encoding="utf-8")
    v2 = add_step(v1).replace('name="deadline_days" value="7"', 'name="deadline_days" value="6"')
    d = designer.diff_xml(v1, v2)
    assert d.added == [NEW_STEP, f"{NEW_STEP}_to_review_merge"]
    assert d.removed == []
    # the retargeted flow, the lane that gained the step, the merge with a new incoming, the re-timed task
    assert set(d.changed) == {"start_to_review_merge", "lane_commune_specialist", "review_merge", "district_appraise"}
    back = designer.diff_xml(v2, v1)
    assert back.removed == d.added and back.added == []
    # moving shapes only (DI) is not a change
    moved = v1.replace('<dc:Bounds x="520" y="340"', '<dc:Bounds x="530" y="345"')
    assert designer.diff_xml(v1, moved).changed == []
