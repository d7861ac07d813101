"""The applicant's stop request (NĐ 118/2025 Điều 21): before a result exists the desk records who asked and
why, the case goes 7 → 8, its open steps close and the stop notice (Mẫu 05 of TT 03/2025) is issued; once a
result exists the request is refused. An apology with extension moves the appointment once and counts the
case late."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from engine import apology, cases, slips
from engine.deadlines import calendar_for
from engine.models import Case, Event, WorkItem
from engine.slip_sets import SET_ENV
from tests.conftest import World, at
from tests.helpers import Browser, at_once

REASON = "Gia đình đã nhận trợ cấp ở địa phương khác"


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())


def _case(world: World, code: str) -> Case:
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        s.expunge(case)
        return case


def test_stop_before_the_result_issues_the_stop_notice(world: World, api: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SET_ENV, "tt03-2025")
    code = world.receive("xa_a1_clerk")
    world.complete_next(code)  # the commune reviewed it; the commune leader's step is open
    r = api.post(f"/api/v1/cases/{code}/stop", user="xa_a1_clerk", json={"reason": REASON})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status_code"] == 8 and body["tasks"] == []
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        statuses = [e.data["to"] for e in s.scalars(select(Event).where(Event.case_id == case.id,
                                                                        Event.kind == "status").order_by(Event.id))]
        assert statuses[-2:] == [7, 8]
        assert s.scalars(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open")).all() == []
        asked = s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "stop_requested"))
        assert asked.data == {"reason": REASON, "requested_by": "Nguyễn Văn An"}
        assert asked.actor.username == "xa_a1_clerk"
        assert "05" in slips.available_slips(s, case)
        text = pdf_text(slips.render_slip(s, case, "05"))
    assert "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ" in text.upper()
    assert code in text and REASON in text and "036090001234" in text and "118/2025" in text
    # Nobody's inbox holds the case any more.
    with world.db.transaction() as s:
        assert cases.inbox(s, world.user(s, "xa_a1_leader")).items == []
    # A second request finds the case already stopped.
    again = api.post(f"/api/v1/cases/{code}/stop", user="xa_a1_clerk", json={"reason": REASON})
    assert again.status_code == 409


def test_stop_is_refused_once_a_result_exists(world: World, api: Any) -> None:
    code = world.receive("xa_a1_clerk")
    while _case(world, code).status_code < 9:
        world.complete_next(code)  # … up to the province's decision (status 9, result not yet returned)
    r = api.post(f"/api/v1/cases/{code}/stop", user="xa_a1_clerk", json={"reason": REASON})
    assert r.status_code == 409 and "kết quả" in r.get_json()["message"]
    world.complete_next(code)  # returned (10)
    r = api.post(f"/api/v1/cases/{code}/stop", user="xa_a1_clerk", json={"reason": REASON})
    assert r.status_code == 409
    assert _case(world, code).status_code == 10


def test_stop_needs_a_reason_and_the_desk(world: World, api: Any) -> None:
    code = world.receive("xa_a1_clerk")
    r = api.post(f"/api/v1/cases/{code}/stop", user="xa_a1_clerk", json={"reason": "  "})
    assert r.status_code == 422 and "reason" in r.get_json()["details"]
    r = api.post(f"/api/v1/cases/{code}/stop", user="xa_a1_specialist", json={"reason": REASON})
    assert r.status_code == 403
    r = api.post(f"/api/v1/cases/{code}/stop", user="xa_a2_clerk", json={"reason": REASON})
    assert r.status_code == 404
    assert _case(world, code).status_code == 2


def test_case_page_stop_action(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SET_ENV, "tt03-2025")
    code = world.receive("xa_a1_clerk")
    web = Browser(world.db, tmp_path)
    web.login("xa_a1_clerk")
    page = web.get(f"/cases/{code}").get_data(as_text=True)
    assert 'id="stop-form"' in page and "<script>" not in page
    r = web.post(f"/cases/{code}/stop", {"reason": REASON, "requested_by": "Nguyễn Văn Bình (ủy quyền)"})
    assert r.status_code == 302 and "slip=05" in r.headers["Location"]
    page = web.get(f"/cases/{code}?slip=05").get_data(as_text=True)
    assert "Thông báo dừng giải quyết hồ sơ" in page and 'id="stop-form"' not in page
    pdf = web.client.get(f"/cases/{code}/slips/05.pdf")
    assert pdf.status_code == 200 and "Nguyễn Văn Bình (ủy quyền)" in pdf_text(pdf.data)


def test_apology_with_extension_moves_the_date_once_and_counts_late(world: World,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SET_ENV, "tt03-2025")
    received = at("2026-03-02 08:00")
    code = world.receive("xa_a1_clerk", received_at=received, now=received)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        due = case.due_at
        now = apology.apology_opens_at(s, case) + timedelta(minutes=5)  # the last working day before the appointment
        assert now < due
        new_due = calendar_for(s).add_working_days(due, Decimal(3))
        apology.issue_apology(s, world.user(s, "xa_a1_clerk"), case, "Chờ xác minh", new_due, now)
        text = pdf_text(slips.render_slip(s, case, "04"))
    assert "đề nghị gia hạn" in text and "036090001234" in text and code in text
    while _case(world, code).status_code < 9:
        world.complete_next(code, now=now)  # finished before even the original appointment …
    assert _case(world, code).timing == "late"  # … still late: the apology admitted it


def test_stop_racing_a_completion_leaves_one_consistent_story(world: World) -> None:
    from engine import stop
    from engine.errors import Conflict

    code = world.receive("xa_a1_clerk")
    item_id, unit, role = world.open_item(code)

    def complete() -> str:
        world.complete(f"{unit.lower()}_{role}", item_id, {"outcome": "approve"})
        return "ok"

    def stop_it() -> str:
        with world.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.code == code))
            stop.request_stop(s, world.user(s, "xa_a1_clerk"), case, REASON)
            return "ok"

    completed, stopped = at_once(complete, stop_it)
    assert stopped == "ok"
    assert completed == "ok" or (isinstance(completed, Conflict) and "không còn mở" in completed.message)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.status_code == 8
        assert s.scalars(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open")).all() == []
