"""A day at the one-stop desk in a real browser: a three-level case from reception to returned result by the
right officials in turn, a supplement request, refusals, another commune locked out, slips as PDF."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from engine.models import Case, WorkItem
from tests.browser.conftest import LiveServer, shot

PDF_SCAN = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
APPLICANT = {"name": "Nguyễn Thị Hoa", "id_number": "036185001122", "address": "Thôn Đông, xã An Phú",
             "phone": "0912000111"}


def reception(page, server: LiveServer, action: str, docs: tuple[str, ...] = ("ban_khai", "giay_bao_tu"),
              note: str = "", missing: str = "", screenshot: str | None = None) -> str:
    page.goto(f"{server.url}/reception")
    page.fill("#q", "người có công")
    page.get_by_role("link", name=re.compile("người có công với cách mạng từ trần")).click()
    for key, value in APPLICANT.items():
        page.fill(f"#ap-{key}", value)
    for code in docs:
        page.check(f"#doc-{code}")
    if "ban_khai" in docs:
        page.set_input_files("#file-ban_khai", files=[{"name": "ban-khai.pdf", "mimeType": "application/pdf",
                                                       "buffer": PDF_SCAN}])
    if note:
        page.fill("#note", note)
    if missing:
        page.fill("#missing_extra", missing)
    if screenshot:
        shot(page, screenshot, full_page=False)  # the action bar sticks to the bottom of the screen
    page.click(f"button[name=action][value={action}]")
    page.wait_for_selector("#case-code")
    return page.inner_text("#case-code").strip()


def open_item(server: LiveServer, code: str) -> tuple[int, str, str]:
    with server.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        item = s.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open"))
        return item.id, item.unit.code, item.role_code


def fill_task_form(page, choice: str | None) -> None:
    """Fill the form-js form as an official would: pick the outcome, write in every visible text box."""
    page.wait_for_selector("#form-js[data-ready=true]")
    if choice:
        page.get_by_label(re.compile("^" + choice)).check()
    for select_field in page.locator("#form-js .fjs-form-field-select").all():
        select_field.locator(".fjs-input-group").click()
        page.locator(".fjs-dropdownlist-item").first.click()
    for box in page.locator("#form-js .fjs-form-field-number input:visible").all():
        if not box.input_value():  # amounts as an official types them (web/assets/taskform/vn_numbers.js)
            box.fill("1.800.000")
    for box in page.locator("#form-js textarea:visible, #form-js input[type=text]:visible").all():
        if not box.input_value() and "flatpickr" not in (box.get_attribute("class") or "") \
                and box.get_attribute("placeholder") in (None, ""):
            box.fill("Đã kiểm tra, đủ điều kiện")


def do_step(page, server: LiveServer, login, code: str, choice: str | None, expect_next: str | None,
            screenshot: str | None = None) -> str:
    """The step's official opens it from the inbox, fills the form and completes it; returns the result text."""
    _item_id, unit, role = open_item(server, code)
    login(f"{unit.lower()}_{role}")
    page.goto(f"{server.url}/inbox")
    page.locator(f"tr[data-case='{code}'] a.task-link").click()
    fill_task_form(page, choice)
    page.fill("#comment", f"Ý kiến của {unit.lower()}_{role}")
    if screenshot:
        shot(page, screenshot)
    page.click("#complete-btn")
    page.wait_for_selector("#moved")
    moved = page.inner_text("#moved")
    if expect_next:
        assert expect_next in moved, moved
    return moved


def pdf_text(page, server: LiveServer, code: str, nn: str) -> str:
    r = page.request.get(f"{server.url}/cases/{code}/slips/{nn}.pdf")
    assert r.status == 200, f"slip {nn}: HTTP {r.status}"
    assert r.headers["content-type"].startswith("application/pdf")
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(r.body())).pages)


def test_three_level_case_from_reception_to_returned_result(page, live_server, login) -> None:
    login("xa_a1_clerk")
    code = reception(page, live_server, "accept", screenshot="reception")
    assert "Được tiếp nhận" in page.inner_text("#case-status")
    shot(page, "case_received")

    do_step(page, live_server, login, code, "Đồng ý", "UBND xã An Phú", screenshot="task_commune_review")
    login("xa_a1_specialist")
    page.goto(f"{live_server.url}/cases/{code}")
    assert "Ý kiến của xa_a1_specialist" in page.inner_text("#control-timeline")
    do_step(page, live_server, login, code, None, "UBND huyện Hòa An")
    page.goto(f"{live_server.url}/inbox")
    shot(page, "inbox_after_commune")
    do_step(page, live_server, login, code, "Đồng ý", "Sở Lao động")
    do_step(page, live_server, login, code, None, "Sở Lao động")
    do_step(page, live_server, login, code, "Đồng ý", "UBND xã An Phú")
    _item, unit, role = open_item(live_server, code)
    assert (unit, role) == ("XA_A1", "clerk")
    login("xa_a1_clerk")
    page.goto(f"{live_server.url}/inbox")
    assert code in page.inner_text("table.inbox-table")
    shot(page, "inbox")
    moved = do_step(page, live_server, login, code, None, None, screenshot="task")
    assert "Đã trả kết quả" in moved
    page.goto(f"{live_server.url}/cases/{code}")
    assert page.inner_text("#case-status").strip() == "Đã trả kết quả"
    page.wait_for_selector("#diagram[data-ready=true]")
    assert page.locator("#diagram .step-completed").count() >= 6
    timeline = page.inner_text("#control-timeline")
    for unit_name in ("UBND xã An Phú", "UBND huyện Hòa An", "Sở Lao động"):
        assert unit_name in timeline
    shot(page, "case_view")
    assert code in pdf_text(page, live_server, code, "01")
    assert code in pdf_text(page, live_server, code, "05")


def test_supplement_request_during_processing_and_at_the_desk(page, live_server, login) -> None:
    login("xa_a1_clerk")
    code = reception(page, live_server, "accept")
    moved = do_step(page, live_server, login, code, "Yêu cầu bổ sung", "UBND xã An Phú")
    assert "Tiếp nhận hồ sơ bổ sung" in moved
    page.goto(f"{live_server.url}/cases/{code}")
    assert "Yêu cầu bổ sung giấy tờ" in page.inner_text("#case-status")

    login("xa_a1_clerk")
    code2 = reception(page, live_server, "incomplete", docs=("ban_khai",), missing="Bản sao căn cước của thân nhân")
    info = page.inner_text("main")
    assert "Giấy báo tử hoặc trích lục khai tử" in info and "Bản sao căn cước của thân nhân" in info
    assert page.locator("a[data-slip='02']").count() == 1
    shot(page, "case_incomplete")
    assert code2 in pdf_text(page, live_server, code2, "02")


def test_refusal_at_the_desk_needs_a_reason(page, live_server, login) -> None:
    login("xa_a1_clerk")
    page.goto(f"{live_server.url}/reception?procedure=ncc_mai_tang")
    page.fill("#ap-name", "Đỗ Văn Khoa")
    page.click("button[name=action][value=refuse]")
    assert "lý do từ chối" in page.inner_text("[role=alert]")
    code = reception(page, live_server, "refuse", docs=(), note="Người từ trần không thuộc diện người có công")
    assert "Không được tiếp nhận" in page.inner_text("#case-status")
    assert "không thuộc diện người có công" in page.inner_text("main")
    assert code in pdf_text(page, live_server, code, "03")


def test_another_commune_cannot_open_the_case(page, live_server, login) -> None:
    login("xa_a1_clerk")
    code = reception(page, live_server, "accept")
    item_id, _unit, _role = open_item(live_server, code)
    login("xa_b1_clerk")
    for path in (f"/cases/{code}", f"/tasks/{item_id}"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status in (403, 404)
        assert "Không tìm thấy" in page.inner_text("h1")
        assert APPLICANT["name"] not in page.content()
    shot(page, "error_404")


def test_wrong_password_and_login_page(page, live_server, login) -> None:
    page.goto(f"{live_server.url}/inbox")
    assert "/login" in page.url
    shot(page, "login")
    login("xa_a1_specialist", "sai-mat-khau")
    assert "không đúng" in page.inner_text("[role=alert]")
    login("xa_a1_specialist")
    assert page.url.endswith("/inbox")
    assert "Hộp công việc" in page.inner_text("h1")
