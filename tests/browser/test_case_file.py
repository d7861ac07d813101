"""The case file in a real browser: the province leader sees the district's proposed amount and the commune's
document number, decides with the amount prefilled, attaches the decision as the result; after the return the
citizen's lookup offers it signed by the province, and /xac-thuc tells an altered copy from the real one."""

from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import expect
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from engine import cases, signing
from engine.demo import demo_agencies
from engine.models import Case, User, WorkItem
from engine.pdf import render_pdf
from tests.browser.conftest import LiveServer, shot

EARLIER = {"commune_review": {"outcome": "approve", "y_kien_ra_soat": "Đủ hồ sơ"},
           "commune_confirm": {"so_van_ban": "15/DS-UBND", "ngay_ky": "2026-11-30"},
           "district_appraise": {"outcome": "approve", "muc_de_xuat": "1.800.000"},
           "province_review": {"so_van_ban": "212/TTr-SLĐTBXH"}}


def _complete_as_assignee(server: LiveServer, code: str) -> str:
    """The open step done by the demo user of its unit and role (what test_officials_day does in the browser)."""
    with server.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        item = s.scalar(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open"))
        user = s.scalar(select(User).where(User.username == f"{item.unit.code.lower()}_{item.role_code}"))
        step = item.task_bpmn_id
        if step in EARLIER:
            cases.complete_task(s, user, item.id, EARLIER[step])
        return step


def _received(server: LiveServer) -> tuple[str, str]:
    with server.db.transaction() as s:
        clerk = s.scalar(select(User).where(User.username == "xa_a1_clerk"))
        case = cases.receive(s, clerk, "ncc_mai_tang", {"name": "Nguyễn Thị Hoa", "id_number": "036185001122"})
        return case.code, case.lookup_secret


def test_province_leader_decides_from_the_case_file_and_the_citizen_downloads_the_signed_decision(
        page, live_server: LiveServer, login) -> None:
    keys = live_server.instance_path / "signing"
    signing.make_demo_keys(demo_agencies(), keys)
    signing.configure(keys)
    code, secret = _received(live_server)
    while _complete_as_assignee(live_server, code) != "province_decide":
        pass

    login("tinh_leader")
    page.goto(f"{live_server.url}/inbox")
    page.locator(f"tr[data-case='{code}'] a.task-link").click()
    page.wait_for_selector("#form-js[data-ready=true]")
    district = page.locator("#case-file [data-step=district_appraise]")
    assert "1.800.000 đ" in district.inner_text()
    assert "Mức trợ cấp, hỗ trợ đề xuất (đồng)" in district.inner_text()
    commune = page.locator("#case-file [data-step=commune_confirm]")
    assert "15/DS-UBND" in commune.inner_text()
    assert "30/11/2026" in commune.inner_text()
    # The amount starts from the district's proposal (declared in the form); the signing date is left empty.
    amount = page.get_by_label(re.compile("Số tiền được hưởng"))
    assert amount.input_value().replace(".", "").replace(",", "") == "1800000"
    assert page.get_by_label(re.compile("Ngày ký quyết định")).input_value() == ""
    shot(page, "case_file_province_decide")

    page.get_by_label(re.compile("^Đồng ý")).check()
    page.get_by_label("Số quyết định").fill("1234/QĐ-SLĐTBXH")
    decision = render_pdf("<h1>Quyết định số 1234/QĐ-SLĐTBXH</h1><p>Trợ cấp mai táng: 1.800.000 đồng</p>")
    page.set_input_files("#step-files", files=[{"name": "quyet-dinh-1234.pdf", "mimeType": "application/pdf",
                                                "buffer": decision}])
    page.check("#step-result")
    page.click("#complete-btn")
    page.wait_for_selector("#moved")
    assert "UBND xã An Phú" in page.inner_text("#moved")

    # The desk returns the result (its own step, as in the officials' day).
    login("xa_a1_clerk")
    page.goto(f"{live_server.url}/inbox")
    page.locator(f"tr[data-case='{code}'] a.task-link").click()
    page.wait_for_selector("#form-js[data-ready=true]")
    assert "quyet-dinh-1234.pdf" in page.inner_text("#case-file")
    page.click("#complete-btn")
    page.wait_for_selector("#moved")

    page.goto(f"{live_server.url}/tra-cuu")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.click("form.lookup-form button[type=submit]")
    link = page.locator("#result-docs a", has_text="quyet-dinh-1234.pdf")
    expect(link).to_have_count(1)  # the lookup is a POST: wait for its answer
    shot(page, "lookup_result_documents")
    signed = page.request.get(link.get_attribute("href")).body()

    def validate() -> object:
        trust = ValidationContext(trust_roots=signing.trust_roots(), allow_fetching=False)
        return validate_pdf_signature(PdfFileReader(io.BytesIO(signed)).embedded_signatures[-1], trust)

    # pyHanko runs its own event loop; playwright's sync API holds this thread's.
    with ThreadPoolExecutor(1) as pool:
        status = pool.submit(validate).result()
    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.subject.native["common_name"] == "000.00.30.H99"  # the province's certificate

    altered = bytearray(signed)
    altered[signed.index(b"1234/Q") if b"1234/Q" in signed else 200] ^= 0x01
    for body, verdict in ((signed, "nguyên vẹn"), (bytes(altered), "đã bị thay đổi")):
        page.goto(f"{live_server.url}/xac-thuc")
        page.set_input_files("#verify-file", files=[{"name": "quyet-dinh.pdf", "mimeType": "application/pdf",
                                                     "buffer": body}])
        page.click("#verify-btn")
        assert verdict in page.inner_text("#verdict-text")
    shot(page, "verify_altered")
