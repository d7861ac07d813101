"""What a role may do is data on the roles table, not its code: a province that names its roles 'mot_cua',
'chuyen_vien' and 'truong_phong' (and has no 'clerk' or 'head' doing that work) keeps its escalations, its
ledger, its Phiếu kiểm soát and its report access — on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine import cases, ledger, org, reports, scheduler
from engine.control_slip import control_rows
from engine.deploy import deploy
from engine.errors import Forbidden
from engine.models import Case, Event, Notification, Role, User
from tests.conftest import World, at
from tests.helpers import login

TWO_LANES = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_text(encoding="utf-8")
# The commune's step is done by the province's desk role, the district's by its specialist role.
PROVINCE_DIAGRAM = TWO_LANES.replace('<spiffworkflow:property name="role" value="specialist" />',
                                     '<spiffworkflow:property name="role" value="mot_cua" />', 1) \
    .replace('value="specialist"', 'value="chuyen_vien"').encode()


@pytest.fixture
def province(world: World) -> World:
    with world.db.transaction() as s:
        org.add_role(s, "mot_cua", "Bộ phận tiếp nhận và trả kết quả", ["receives_dossiers"])
        org.add_role(s, "chuyen_vien", "Chuyên viên thụ lý")
        org.add_role(s, "truong_phong", "Trưởng phòng", ["escalation_target", "reads_reports", "releases_claims"])
        # The shipped codes do none of that work in this province.
        s.execute(update(Role).where(Role.code.in_(("clerk", "head")))
                  .values(receives_dossiers=False, escalation_target=False))
        for username, unit, role in (("an_mot_cua", "XA_A1", "mot_cua"), ("an_truong_phong", "XA_A1", "truong_phong"),
                                     ("hoa_an_chuyen_vien", "HUYEN_A", "chuyen_vien")):
            org.add_user(s, username, unit, [role], "motcua2026", email=f"{username}@tinh.gov.vn")
        deploy(s, PROVINCE_DIAGRAM, "tinh_rieng.bpmn", forms={}, procedure_code="tinh_rieng")
    return world


def _receive(world: World) -> str:
    return world.receive("an_mot_cua", procedure="tinh_rieng", received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"), applicant={"name": "Lê Thị Hoa", "phone": "0912000111"})


def test_an_overdue_step_is_escalated_to_the_role_marked_as_escalation_target(province: World) -> None:
    code = _receive(province)
    report = scheduler.sweep(province.db, at("2026-03-10 17:30"))
    assert report.overdue and report.escalated == 1
    with province.db.transaction() as s:
        escalated = list(s.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                                   .where(Notification.kind == "escalated")))
        assert escalated == ["an_truong_phong"]  # not xa_a1_head: 'head' is no escalation target here
        event = s.scalar(select(Event).where(Event.kind == "escalated"))
        assert event is not None and s.get(Case, event.case_id).code == code


def test_the_ledger_knows_the_desk_by_its_capability(province: World) -> None:
    code = _receive(province)
    item_id, unit, role = province.open_item(code)
    assert (unit, role) == ("XA_A1", "mot_cua")
    province.complete("an_mot_cua", item_id, {"outcome": "approve"}, now=at("2026-03-06 10:00"))
    with province.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        [row] = ledger.rows_for_cases(s, [case])
        # Handing the case to its own desk is not sending it; the district's step is.
        assert row.sent_at == at("2026-03-06 10:00")
        assert row.lead == "UBND huyện Hòa An"
        assert row.number == ledger.number(case)[1] == 1
        received = control_rows(s, case)[0]
        assert received.receiver.startswith("UBND xã An Phú — Bộ phận tiếp nhận và trả kết quả")


def test_report_access_and_claim_release_follow_the_capabilities(province: World) -> None:
    code = _receive(province)
    item_id, _unit, _role = province.open_item(code)
    with province.db.transaction() as s:
        cases.claim(s, province.user(s, "an_mot_cua"), item_id)
    with province.db.transaction() as s:
        reports.ensure_reporter(province.user(s, "an_truong_phong"))
        with pytest.raises(Forbidden):
            reports.ensure_reporter(province.user(s, "hoa_an_chuyen_vien"))
        released = cases.unclaim(s, province.user(s, "an_truong_phong"), item_id)
        assert released.claimed_by_id is None


def test_labels_come_from_the_tables(province: World, api: object) -> None:
    code = _receive(province)
    item_id, _unit, _role = province.open_item(code)
    with province.db.transaction() as s:
        s.execute(update(Role).where(Role.code == "mot_cua").values(name="Tổ một cửa liên thông"))
    client = api.app.test_client()  # type: ignore[attr-defined]
    login(client, "an_mot_cua")
    html = client.get(f"/tasks/{item_id}").get_data(as_text=True)
    assert "Tổ một cửa liên thông" in html
