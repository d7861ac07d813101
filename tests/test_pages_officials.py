"""The officials' HTML pages through Flask's test client, on SQLite and PostgreSQL: login (its throttling in
tests/security/test_login_throttle.py), CSRF, the desk's three outcomes with scans, inbox, task completion with
server-side validation, case view, isolation."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.db import Database
from engine.models import Case, Document, WorkItem
from tests.helpers import Browser, text

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def web(db: Database, tmp_path: Path) -> Browser:
    return Browser(db, tmp_path)


def receive(web: Browser, **extra: Any) -> str:
    web.login("xa_a1_clerk")
    web.get("/reception?procedure=ncc_mai_tang")
    data = {"procedure": "ncc_mai_tang", "name": "Trần Thị Bình", "id_number": "036190004321",
            "address": "Thôn 2, xã An Phú", "phone": "0987654321", "channel": "desk",
            "docs": ["ban_khai", "giay_bao_tu"], "action": "accept",
            "file_ban_khai": (io.BytesIO(PDF), "bản khai.pdf"), **extra}
    r = web.post("/reception", data, content_type="multipart/form-data")
    assert r.status_code == 302, text(r)[:3000]
    return re.search(r"/cases/([^?]+)\?slip=01", r.headers["Location"]).group(1)


def test_login_page_is_vietnamese_and_wrong_password_says_so(web: Browser) -> None:
    r = web.get("/inbox")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert "Đăng nhập" in text(web.get("/login"))
    r = web.post("/login", {"username": "xa_a1_clerk", "password": "sai"})
    assert r.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in text(r)


def test_post_without_csrf_token_is_refused_with_a_vietnamese_page(web: Browser) -> None:
    r = web.client.post("/login", data={"username": "xa_a1_clerk", "password": "motcua2026"})
    assert r.status_code == 400
    assert "Phiên làm việc đã hết hạn" in text(r)


def test_clerk_lands_on_the_desk_and_others_on_the_inbox(web: Browser) -> None:
    assert web.login("xa_a1_clerk").headers["Location"].endswith("/reception")
    assert web.login("huyen_a_specialist").headers["Location"].endswith("/inbox")
    r = web.get("/reception")
    assert r.status_code == 403 and "không có quyền" in text(r)


def test_accept_stores_scan_with_checksum_and_shows_case_with_slip_01(web: Browser, db: Database) -> None:
    code = receive(web)
    page = text(web.get(f"/cases/{code}?slip=01"))
    assert code in page and "Được tiếp nhận" in page
    assert f"/cases/{code}/slips/01.pdf" in page and f"/cases/{code}/slips/05.pdf" in page
    assert "bản khai.pdf" in page
    with db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        doc = s.scalar(select(Document).where(Document.case_id == case.id))
        assert doc.doc_code == "ban_khai" and doc.content_type == "application/pdf" and len(doc.sha256) == 64
        assert case.data["documents_received"] == ["ban_khai", "giay_bao_tu"]
    r = web.get(f"/cases/{code}/documents/{doc.id}?download=1")
    assert r.status_code == 200 and r.data == PDF
    assert "attachment" in r.headers["Content-Disposition"]


def test_accept_is_refused_while_a_required_document_is_missing(web: Browser) -> None:
    web.login("xa_a1_clerk")
    web.get("/reception?procedure=ncc_mai_tang")
    r = web.post("/reception", {"procedure": "ncc_mai_tang", "name": "Lê Văn C", "docs": ["ban_khai"],
                                "action": "accept"})
    assert r.status_code == 422
    assert "Giấy báo tử" in text(r) and "Mẫu 02" in text(r)


def test_a_disguised_file_is_rejected_and_nothing_is_created(web: Browser, db: Database) -> None:
    web.login("xa_a1_clerk")
    web.get("/reception?procedure=ncc_mai_tang")
    r = web.post("/reception", {"procedure": "ncc_mai_tang", "name": "Lê Văn C",
                                "docs": ["ban_khai", "giay_bao_tu"], "action": "accept",
                                "file_other": (io.BytesIO(b"MZ\x90\x00 not a scan"), "scan.pdf")},
                 content_type="multipart/form-data")
    assert r.status_code == 422 and "chỉ nhận tệp PDF, JPEG hoặc PNG" in text(r)
    with db.transaction() as s:
        assert s.scalar(select(Case)) is None


def test_incomplete_dossier_lists_what_is_missing_and_gets_slip_02(web: Browser, db: Database) -> None:
    web.login("xa_a1_clerk")
    web.get("/reception?procedure=ncc_mai_tang")
    r = web.post("/reception", {"procedure": "ncc_mai_tang", "name": "Phạm Thị D", "docs": ["ban_khai"],
                                "missing_extra": "Bản sao sổ hộ khẩu", "action": "incomplete"})
    assert r.status_code == 302 and "slip=02" in r.headers["Location"]
    page = text(web.get(r.headers["Location"]))
    assert "Giấy báo tử hoặc trích lục khai tử" in page and "Bản sao sổ hộ khẩu" in page
    # Not received, but not refused either: it waits for the applicant (tests/test_supplement_at_desk.py).
    assert 'id="case-status">Chờ bổ sung<' in page and "slips/02.pdf" in page
    with db.transaction() as s:
        case = s.scalar(select(Case))
        assert case.state is None and case.result == "incomplete"


def test_refusal_needs_a_reason_and_gets_slip_03(web: Browser) -> None:
    web.login("xa_a1_clerk")
    web.get("/reception?procedure=ncc_mai_tang")
    form = {"procedure": "ncc_mai_tang", "name": "Hoàng Văn E", "action": "refuse"}
    r = web.post("/reception", form)
    assert r.status_code == 422 and "lý do từ chối" in text(r)
    r = web.post("/reception", {**form, "note": "Không thuộc thẩm quyền giải quyết của UBND xã"})
    assert r.status_code == 302 and "slip=03" in r.headers["Location"]
    assert "Không thuộc thẩm quyền" in text(web.get(r.headers["Location"]))


def _open_item(db: Database, code: str) -> WorkItem:
    with db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        return s.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open"))


def test_inbox_claim_and_complete_with_server_side_validation(web: Browser, db: Database) -> None:
    code = receive(web)
    item = _open_item(db, code)
    web.login("xa_a1_specialist")
    inbox = text(web.get("/inbox"))
    assert code in inbox and "Kiểm tra hồ sơ, bản khai" in inbox and 'id="count-total">1<' in inbox
    r = web.post(f"/tasks/{item.id}/claim", {"next": "/inbox"})
    assert r.status_code == 302
    mine = text(web.get("/inbox?claimed=me"))
    assert code in mine and "Chuyên viên — UBND xã An Phú" in mine and "Trả lại" in mine
    page = text(web.get(f"/tasks/{item.id}"))
    assert 'id="form-schema"' in page and "Trần Thị Bình" in page and "bản khai.pdf" in page
    r = web.post(f"/tasks/{item.id}", {"data_json": json.dumps({"y_kien_ra_soat": "Đủ"})})
    assert r.status_code == 422
    assert "Kết quả xử lý: bắt buộc nhập" in text(r)
    r = web.post(f"/tasks/{item.id}", {"data_json": json.dumps({"outcome": "duyet-bua", "y_kien_ra_soat": "Đủ"})})
    assert r.status_code == 422 and "duyet-bua" in text(r)
    r = web.post(f"/tasks/{item.id}", {"data_json": json.dumps({"outcome": "approve", "y_kien_ra_soat": "Đủ"}),
                                       "comment": "Hồ sơ hợp lệ"})
    assert r.status_code == 302
    done = text(web.get(r.headers["Location"]))
    assert "Hồ sơ đã được chuyển tới" in done and "UBND xã An Phú" in done and "Cấp xã" in done
    case_page = text(web.get(f"/cases/{code}"))
    assert "Hồ sơ hợp lệ" in case_page and "Đang xử lý" in case_page


def test_another_commune_gets_404_for_the_case_its_task_and_its_documents(web: Browser, db: Database) -> None:
    code = receive(web)
    item = _open_item(db, code)
    web.login("xa_b1_clerk")
    for path in (f"/cases/{code}", f"/tasks/{item.id}", f"/cases/{code}/documents/1", f"/cases/{code}/slips/01.pdf"):
        r = web.get(path)
        assert r.status_code == 404, path
        assert "Không tìm thấy" in text(r) and "Trần Thị Bình" not in text(r)
    assert code not in text(web.get("/cases"))


def test_language_switch_to_english_and_back(web: Browser) -> None:
    web.login("xa_a1_specialist")
    assert "Hộp công việc" in text(web.get("/inbox"))
    web.post("/lang/en", {"next": "/inbox"})
    assert "Inbox" in text(web.get("/inbox"))
    web.post("/lang/vi")
    assert "Hộp công việc" in text(web.get("/inbox"))
