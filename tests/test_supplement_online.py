"""A supplement asked for during processing reaches the applicant online: an e-mail and the lookup list
everything missing and say the time limit stops; the applicant uploads the documents through the lookup page
or the public API (code + secret, the usual file checks); the desk sees them and accepts; the waiting step
completes, the clock restarts from zero and the lookup shows the new appointment (Mẫu 02, NĐ 61 Điều 19.4)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from engine import supplements
from engine.calendar import VN_TZ
from engine.deadlines import calendar_for
from engine.models import Case, Document, Notification, Unit, WorkItem
from engine.notifications import local_text
from tests.conftest import World, at

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
APPLICANT = {"name": "Trịnh Văn Lộc", "id_number": "036085007788", "address": "Xóm Trại, xã An Phú",
             "phone": "0915000111", "email": "loc@example.vn"}
MISSING = "Giấy chứng tử của người mất (bản sao)\n- Sổ hộ khẩu (bản sao)"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _track(api: Any, code: str, secret: str) -> str:
    token = _csrf(api.client.get(f"/tra-cuu?code={code}").get_data(as_text=True))
    return api.client.post("/tra-cuu", data={"csrf_token": token, "code": code, "secret": secret}) \
        .get_data(as_text=True)


def _send(api: Any, code: str, secret: str, name: str, content: bytes) -> Any:
    token = _csrf(api.client.get(f"/tra-cuu?code={code}").get_data(as_text=True))
    return api.client.post("/tra-cuu/bo-sung", data={"csrf_token": token, "code": code, "secret": secret,
                                                     "note": "Gửi bổ sung", "files": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")


def _shown(moment: Any) -> str:
    """dd/mm/yyyy hh:mm in Vietnam time, as the pages show a moment."""
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def _case(world: World, code: str) -> Case:
    with world.db.transaction() as s:
        return s.scalar(select(Case).where(Case.code == code))


def _paused(world: World) -> tuple[str, str]:
    code = world.receive(procedure="ho_tro_mai_tang", applicant=APPLICANT, received_at=at("2026-11-23 09:00"))
    world.complete_next(code, {"outcome": "supplement", "giay_to_can_bo_sung": MISSING}, now=at("2026-11-24 10:00"))
    return code, _case(world, code).lookup_secret


def _received(world: World) -> int:
    with world.db.transaction() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "XA_A1"))
        return supplements.count_received(s, [unit.id])


def test_the_applicant_is_told_everything_missing_and_that_the_clock_stops(world: World, api: Any) -> None:
    code, secret = _paused(world)
    with world.db.transaction() as s:
        mail = s.scalar(select(Notification).where(Notification.email == APPLICANT["email"],
                                                   Notification.kind == "supplement"))
    assert mail is not None and code in mail.message
    assert "Giấy chứng tử của người mất (bản sao); Sổ hộ khẩu (bản sao)" in mail.message
    assert "tính lại từ đầu" in mail.message and "trang tra cứu" in mail.message
    page = _track(api, code, secret)
    assert "Yêu cầu bổ sung giấy tờ" in page
    assert "<li>Giấy chứng tử của người mất (bản sao)</li>" in page and "<li>Sổ hộ khẩu (bản sao)</li>" in page
    # The old appointment no longer holds while the dossier waits; the upload form is there.
    assert 'id="lookup-due"' not in page and 'id="lookup-paused"' in page
    assert 'action="/tra-cuu/bo-sung"' in page and 'name="files"' in page
    body = api.post(f"/api/v1/public/cases/{code}", json={"secret": secret}).get_json()
    assert body["status_code"] == 5 and body["due_at"] is None  # the JSON lookup says the same


def test_upload_through_the_lookup_then_the_desk_accepts_and_the_clock_restarts(world: World, api: Any) -> None:
    code, secret = _paused(world)
    old_due = _case(world, code).due_at
    # A file that is not a scan is refused with its name, and nothing is kept.
    bad = _send(api, code, secret, "ghi-chu.txt", b"not a scan")
    assert bad.status_code == 422 and "ghi-chu.txt" in bad.get_data(as_text=True)
    # A wrong secret answers like an unknown case and stores nothing.
    assert _send(api, code, "ZZZZZZ" if secret != "ZZZZZZ" else "YYYYYY", "chung-tu.pdf", PDF).status_code == 404
    assert _received(world) == 0
    sent = _send(api, code, secret, "chung-tu.pdf", PDF)
    assert sent.status_code == 200 and "Đã gửi giấy tờ bổ sung" in sent.get_data(as_text=True)
    page = _track(api, code, secret)
    assert re.search(r'id="lookup-sent">[^<]*chung-tu\.pdf', page)
    case = _case(world, code)
    assert case.status_code == 5 and case.paused_at is not None  # still waiting for the desk
    assert _received(world) == 1
    with world.db.transaction() as s:
        step = s.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open"))
        assert step.supplement and step.due_at is None
        docs = s.scalars(select(Document).where(Document.work_item_id == step.id)).all()
        assert [(d.filename, d.uploaded_by_id) for d in docs] == [("chung-tu.pdf", None)]
        bell = s.scalars(select(Notification.message).where(Notification.kind == "supplement_uploaded")).all()
        assert bell and all(code in m for m in bell)
    # Someone else's desk cannot accept it; the commune's clerk can, through the API.
    assert api.post(f"/api/v1/cases/{code}/supplement/accept", "xa_a2_clerk", json={}).status_code == 404
    resp = api.post(f"/api/v1/cases/{code}/supplement/accept", "xa_a1_clerk", json={"note": "Đủ giấy tờ"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status_code"] == 4
    case = _case(world, code)
    assert case.paused_at is None and case.clock_started_at > at("2026-11-24 10:00")
    with world.db.transaction() as s:
        deadline = case.procedure.deadline_days
        expected = calendar_for(s).add_working_days(case.clock_started_at, Decimal(deadline))
        done = s.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.supplement.is_(True)))
        assert done.state == "completed" and done.outcome is None
        again = s.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open"))
        assert again.task_bpmn_id == "commune_review"  # the review starts again
        told = s.scalar(select(Notification).where(Notification.email == APPLICANT["email"],
                                                   Notification.kind == "supplement_accepted"))
    assert case.due_at == case.original_due_at == expected and case.due_at > old_due + timedelta(days=1)
    assert local_text(case.due_at) in told.message
    page = _track(api, code, secret)
    assert re.search(r'id="lookup-due">([^<]+)<', page).group(1) == _shown(case.due_at)
    assert "Đang xử lý" in page and 'id="lookup-supplement"' not in page
    assert _received(world) == 0
    # Nothing waits any more: a second acceptance is a conflict.
    assert api.post(f"/api/v1/cases/{code}/supplement/accept", "xa_a1_clerk", json={}).status_code == 409


def test_the_public_api_takes_the_supplement_with_code_and_secret(world: World, api: Any) -> None:
    code, secret = _paused(world)
    path = f"/api/v1/public/cases/{code}/supplement"
    assert api.post(path, data={"secret": "", "files": (io.BytesIO(PDF), "a.pdf")},
                    content_type="multipart/form-data").status_code == 422
    assert api.post(path, data={"secret": secret}, content_type="multipart/form-data").status_code == 422
    bad = api.post(path, data={"secret": secret, "files": (io.BytesIO(b"<html>"), "trang.html")},
                   content_type="multipart/form-data")
    assert bad.status_code == 422 and "trang.html" in bad.get_json()["message"]
    ok = api.post(path, data={"secret": secret.lower(), "files": [(io.BytesIO(PNG), "ho-khau.png"),
                                                                  (io.BytesIO(PDF), "chung-tu.pdf")]},
                  content_type="multipart/form-data")
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json() == {"code": code, "status_code": 5, "status": "Yêu cầu bổ sung giấy tờ",
                             "documents": ["ho-khau.png", "chung-tu.pdf"]}
    assert _received(world) == 1
    # A case that does not wait for anything refuses a supplement.
    other = world.receive(procedure="ho_tro_mai_tang", applicant=APPLICANT, received_at=at("2026-11-23 09:00"))
    resp = api.post(f"/api/v1/public/cases/{other}/supplement",
                    data={"secret": _case(world, other).lookup_secret, "files": (io.BytesIO(PDF), "a.pdf")},
                    content_type="multipart/form-data")
    assert resp.status_code == 409


def test_the_desk_accepts_from_the_case_page(world: World, api: Any) -> None:
    from tests.test_pages_officials import Browser

    code, secret = _paused(world)
    assert _send(api, code, secret, "chung-tu.pdf", PDF).status_code == 200
    web = Browser(world.db, api.app.config["MOTCUA"].instance_path.parent)
    web.login("xa_a1_clerk")
    page = web.get(f"/cases/{code}").get_data(as_text=True)
    assert re.search(r'id="supplement-sent">.*chung-tu\.pdf', page, re.S) and 'id="accept-supplement"' in page
    r = web.post(f"/cases/{code}/bo-sung/chap-nhan", {"note": ""})
    assert r.status_code == 302
    case = _case(world, code)
    assert case.status_code == 4 and case.paused_at is None
    assert _shown(case.due_at) in web.get(f"/cases/{code}").get_data(as_text=True)
