"""The khai tử group's time limits are data and count as QĐ 296/QĐ-VPCP says: 9, 6 or 18 working days by the
paying agency chosen, the police the same working day, a dossier received after 15:00 (or on a day off)
from the next working day, and the relatives' VNeID confirmation not counted. Concrete dates over weekends
and the New Year holiday (Friday 01/01/2027)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine import deploy
from engine.errors import Invalid
from engine.models import Case, Event
from engine.resources import shipped
from tests.conftest import at

KHAI_TU = {"co_quan_cong_an": "CONG-AN", "co_quan_chi_tra": "BHXH", "ho_ten_nguoi_chet": "Trần Văn Bình",
           "so_dinh_danh_nguoi_chet": "036050001111", "ngay_chet": "2026-11-28",
           "thu_tuc": ["khai_tu", "xoa_thuong_tru", "mai_tang_phi"]}


def _case(world, code: str) -> Case:
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        s.expunge(case)
        return case


@pytest.mark.parametrize(("group", "received", "starts", "due"), [
    ("bhxh", "2026-12-04 14:59", "2026-12-04 14:59", "2026-12-17 17:00"),  # before 15:00: counts that Friday
    ("bhxh", "2026-12-04 15:30", "2026-12-07 07:30", "2026-12-18 17:00"),  # after: from Monday
    ("bao_tro_xa_hoi", "2026-12-31 16:00", "2027-01-04 07:30", "2027-01-12 17:00"),  # New Year, weekend
    ("nguoi_co_cong", "2026-12-07 10:00", "2026-12-07 10:00", "2026-12-31 17:00"),
])
def test_the_groups_appointment_follows_the_paying_agency_and_the_15h_cutoff(world, group, received, starts, due):
    code = world.receive(procedure="lien_thong_khai_tu", received_at=at(received),
                         data={**KHAI_TU, "doi_tuong_chi_tra": group})
    case = _case(world, code)
    assert case.clock_started_at == at(starts)
    assert case.due_at == at(due)


def test_a_dossier_received_on_a_saturday_counts_from_monday_and_police_finish_that_day(world):
    code = world.receive(procedure="xoa_thuong_tru_lien_thong", received_at=at("2026-12-05 09:00"),
                         data={"ho_ten_nguoi_chet": "Trần Văn Bình"})
    case = _case(world, code)
    assert (case.clock_started_at, case.due_at) == (at("2026-12-07 07:30"), at("2026-12-07 17:00"))


def test_the_paying_agency_counts_its_own_share(world):
    code = world.receive(procedure="tro_cap_mai_tang_lien_thong", received_at=at("2026-12-04 16:00"),
                         data={"doi_tuong_chi_tra": "nguoi_co_cong"})
    assert _case(world, code).due_at == at("2026-12-30 17:00")  # 17 days from Mon 07/12


def _with_vneid_wait(xml: str) -> str:
    """The police's diagram with the relatives' VNeID confirmation before the removal, marked not counted."""
    xml = xml.replace('<bpmn:message id="msg_out"', '<bpmn:message id="msg_vneid" name="xac_nhan_vneid" />\n'
                      '  <bpmn:message id="msg_out"')
    xml = xml.replace('<bpmn:flowNodeRef>xoa_thuong_tru</bpmn:flowNodeRef>',
                      '<bpmn:flowNodeRef>cho_vneid</bpmn:flowNodeRef><bpmn:flowNodeRef>xoa_thuong_tru</bpmn:flowNodeRef>')
    xml = xml.replace('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="xoa_thuong_tru" />',
                      '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="cho_vneid" />'
                      '<bpmn:sequenceFlow id="f1b" sourceRef="cho_vneid" targetRef="xoa_thuong_tru" />')
    xml = xml.replace('<bpmn:incoming>f1</bpmn:incoming>', '<bpmn:incoming>f1b</bpmn:incoming>')
    wait = ('<bpmn:receiveTask id="cho_vneid" name="Chờ thân nhân xác nhận trên VNeID" messageRef="msg_vneid">'
            '<bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="message" value="xac_nhan_vneid" />'
            '<spiffworkflow:property name="clock" value="{clock}" />'
            '</spiffworkflow:properties></bpmn:extensionElements>'
            '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f1b</bpmn:outgoing></bpmn:receiveTask>\n    ')
    return xml.replace('<bpmn:userTask id="xoa_thuong_tru"', wait + '<bpmn:userTask id="xoa_thuong_tru"')


def _deliver(world, code: str, message: str, now) -> None:
    from engine.case_records import lock_case
    from engine.projection import advance
    from engine.workflow import deliver_message

    with world.db.transaction() as s:
        case = lock_case(s, s.scalar(select(Case.id).where(Case.code == code)))
        advance(s, case, lambda wf: deliver_message(wf, message, {}), now)


def test_the_relatives_vneid_confirmation_is_not_counted(world):
    xml = (Path(shipped()) / "bpmn" / "xoa_thuong_tru_lien_thong.bpmn").read_text()
    with world.db.transaction() as s:
        bad = _with_vneid_wait(xml).replace("{clock}", "stopped")
        with pytest.raises(Invalid) as refused:
            deploy.deploy(s, bad.encode(), "x.bpmn", forms=forms_of(), procedure_code="xoa_thuong_tru_lien_thong")
        assert "clock" in repr(refused.value.details)  # deploy names the property it cannot read
    with world.db.transaction() as s:
        deploy.deploy(s, _with_vneid_wait(xml).replace("{clock}", "paused").encode(), "x.bpmn", forms=forms_of(),
                      procedure_code="xoa_thuong_tru_lien_thong")
    code = world.receive(procedure="xoa_thuong_tru_lien_thong", received_at=at("2026-12-04 09:00"), data={})
    assert _case(world, code).due_at == at("2026-12-04 17:00")  # the same working day
    _deliver(world, code, "khai_tu_xoa_thuong_tru", at("2026-12-04 09:00"))
    # Fri 09:00–17:00, Mon, Tue 07:30–09:00: 16 working hours = 2 days spent waiting for the relatives
    _deliver(world, code, "xac_nhan_vneid", at("2026-12-08 09:00"))
    case = _case(world, code)
    assert case.due_at == at("2026-12-08 17:00")
    with world.db.transaction() as s:
        kinds = [e.kind for e in s.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.id))]
        resumed = s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "clock_resumed"))
        assert kinds.count("clock_paused") == 1 and kinds.count("clock_resumed") == 1
        assert resumed.data["days_not_counted"] == "2.0000"


def forms_of() -> dict:
    from engine.catalog import load_forms

    return load_forms()

