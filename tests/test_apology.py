"""Apology and new appointment (NĐ 61 Điều 19.9, Mẫu 04): from one working day before the due date, the
responsible unit moves the appointment once, with a reason; the original stays on record and the applicant
is told."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import apology
from engine.deploy import deploy
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import Case, Event, Notification
from tests.conftest import World, at, utc
from tests.helpers import Browser

TWO_LANES = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_bytes()
APPLICANT = {"name": "Trần Thị Bình", "address": "Thôn 2, xã An Phú", "email": "binh@example.vn"}


def _at_district(world: World) -> str:
    """A case received Friday 06/03 (due Friday 13/03 17:00), now with the district (HUYEN_A)."""
    with world.db.transaction() as s:
        deploy(s, TWO_LANES, "two_lanes.bpmn", forms={}, procedure_code="two_lanes")
    code = world.receive("xa_a1_clerk", procedure="two_lanes", applicant=APPLICANT,
                         received_at=at("2026-03-06 09:00"), now=at("2026-03-06 09:00"))
    world.complete_next(code, now=at("2026-03-09 10:00"))
    return code


def _apologise(world: World, username: str, code: str, new_due: datetime, now: datetime,
               reason: str = "Chờ xác minh thông tin người có công tại địa phương") -> Event:
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        return apology.issue_apology(s, world.user(s, username), case, reason, new_due, now)


def _case(world: World, code: str) -> Case:
    with world.db.transaction() as s:
        return s.scalar(select(Case).where(Case.code == code))


def test_apology_moves_the_appointment_once_and_tells_the_applicant(world: World) -> None:
    code = _at_district(world)
    # Too early: the window opens one working day before the due moment (Thursday 12/03 17:00).
    with pytest.raises(Conflict) as early:
        _apologise(world, "huyen_a_specialist", code, at("2026-03-18 17:00"), at("2026-03-11 16:00"))
    assert "17:00 12/03/2026" in early.value.message

    event = _apologise(world, "huyen_a_specialist", code, at("2026-03-18 17:00"), at("2026-03-12 17:30"))
    assert event.data["previous_due_at"] == utc(at("2026-03-13 17:00")).isoformat()
    assert event.data["new_due_at"] == at("2026-03-18 17:00").isoformat()
    case = _case(world, code)
    assert case.due_at == utc(at("2026-03-18 17:00"))
    assert case.original_due_at == utc(at("2026-03-13 17:00"))
    assert case.apology_count == 1
    with world.db.transaction() as s:
        [note] = s.scalars(select(Notification).where(Notification.case_id == case.id,
                                                      Notification.kind == "apology"))
        assert note.email == "binh@example.vn" and note.user_id is None
        assert "18/03/2026" in note.message and "Chờ xác minh" in note.message

    # Only once per case, whoever asks.
    with pytest.raises(Conflict) as twice:
        _apologise(world, "xa_a1_clerk", code, at("2026-03-20 17:00"), at("2026-03-13 08:00"))
    assert "một lần" in twice.value.message

    # Finished after the original appointment: still late — the apology moves the date, not the measure.
    world.complete_next(code, now=at("2026-03-17 10:00"))
    assert _case(world, code).timing == "late"


def test_apology_is_also_possible_once_late(world: World) -> None:
    code = _at_district(world)
    _apologise(world, "xa_a1_clerk", code, at("2026-03-20 11:30"), at("2026-03-16 09:00"))  # the desk, late
    assert _case(world, code).due_at == utc(at("2026-03-20 11:30"))


def test_only_the_responsible_unit_and_a_later_working_day(world: World) -> None:
    code = _at_district(world)
    now = at("2026-03-13 08:00")
    with pytest.raises(Forbidden):
        _apologise(world, "xa_a2_clerk", code, at("2026-03-18 17:00"), now)  # another commune
    with pytest.raises(Forbidden):
        _apologise(world, "tinh_leader", code, at("2026-03-18 17:00"), now)  # not holding the case
    with pytest.raises(Invalid):
        _apologise(world, "huyen_a_specialist", code, at("2026-03-13 16:00"), now)  # not after the due date
    with pytest.raises(Invalid) as weekend:
        _apologise(world, "huyen_a_specialist", code, at("2026-03-14 10:00"), now)  # a Saturday
    assert "14/03/2026" in weekend.value.message
    with pytest.raises(Invalid):
        _apologise(world, "huyen_a_specialist", code, at("2026-03-18 17:00"), now, reason="   ")
    assert _case(world, code).apology_count == 0


def test_apology_through_the_api(world: World, api: object) -> None:
    code = _at_district(world)
    # The API runs on the real clock (after the case's due date), so the window is open.
    ok = api.post(f"/api/v1/cases/{code}/apology", user="huyen_a_specialist",
                  json={"reason": "Hồ sơ cần xác minh thêm", "new_due_at": "2027-03-18T17:00:00"})
    assert ok.status_code == 201, ok.get_json()
    body = ok.get_json()
    assert body["case"]["due_at"] == "2027-03-18T17:00:00+07:00"
    assert body["case"]["original_due_at"] == "2026-03-13T17:00:00+07:00"
    assert body["apology"]["reason"] == "Hồ sơ cần xác minh thêm"
    again = api.post(f"/api/v1/cases/{code}/apology", user="huyen_a_specialist",
                     json={"reason": "Lần nữa", "new_due_at": "2027-03-25T17:00:00"})
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"
    bad = api.post(f"/api/v1/cases/{code}/apology", user="huyen_a_specialist",
                   json={"reason": "x", "new_due_at": "ngày mai"})
    assert bad.status_code == 422 and "new_due_at" in bad.get_json()["message"]
    hidden = api.post(f"/api/v1/cases/{code}/apology", user="xa_b1_clerk",
                      json={"reason": "x", "new_due_at": "2027-03-18T17:00:00"})
    assert hidden.status_code == 404  # another district's commune cannot even see the case


def test_apology_form_page(world: World, tmp_path: Path) -> None:
    code = _at_district(world)
    web = Browser(world.db, tmp_path)
    web.login("xa_a2_clerk")
    assert web.get(f"/cases/{code}/apology").status_code == 404
    web.login("huyen_a_specialist")
    assert 'id="apology-link"' in web.get(f"/cases/{code}").get_data(as_text=True)
    page = web.get(f"/cases/{code}/apology")
    assert page.status_code == 200 and "Phiếu xin lỗi và hẹn lại ngày trả kết quả" in page.get_data(as_text=True)
    bad = web.post(f"/cases/{code}/apology", {"reason": "Chờ xác minh", "day": "2027-03-20", "time": "17:00"})
    assert bad.status_code == 422 and "20/03/2027" in bad.get_data(as_text=True)  # a Saturday
    missing = web.post(f"/cases/{code}/apology", {"reason": "", "day": "2027-03-18", "time": "17:00"})
    assert missing.status_code == 422
    done = web.post(f"/cases/{code}/apology", {"reason": "Chờ xác minh", "day": "2027-03-18", "time": "17:00"},
                    follow_redirects=True)
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert "17:00 18/03/2027" in html and "Chờ xác minh" in html
    assert 'id="refusal"' in html  # the form is gone: once per case
    assert 'id="apology-link"' not in web.get(f"/cases/{code}").get_data(as_text=True)


def test_under_the_2025_forms_the_apology_asks_for_an_extension(world: World, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """TT 03/2025's Mẫu 04 is an apology *and* an extension request: the button and the page say so."""
    from engine import slip_sets

    monkeypatch.setenv(slip_sets.SET_ENV, slip_sets.TT03_2025)
    code = _at_district(world)
    web = Browser(world.db, tmp_path)
    web.login("huyen_a_specialist")
    case_page = web.get(f"/cases/{code}").get_data(as_text=True)
    assert "Xin lỗi và đề nghị gia hạn thời gian giải quyết (Mẫu 04)" in case_page
    page = web.get(f"/cases/{code}/apology").get_data(as_text=True)
    assert "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết" in page
    assert "hẹn lại ngày trả kết quả" not in page
