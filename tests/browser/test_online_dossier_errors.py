"""In Chromium: a citizen sends an online dossier with a wrong CCCD number, phone and e-mail and one required
document missing; every problem appears beside its field at once, with what was typed still there and the
attached scan kept. Fixing one field leaves the others flagged; fixing the rest and attaching only the missing
document (the first scan is not attached again) sends the dossier, with both documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from engine import dossier_checks
from engine.models import Case, Document
from tests.browser.conftest import LiveServer

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_a_bad_online_dossier_is_corrected_without_attaching_again(page: Any, live_server: LiveServer,
                                                                    tmp_path: Path, shot: Any) -> None:
    to_khai, chung_tu = tmp_path / "to-khai.pdf", tmp_path / "giay-chung-tu.pdf"
    to_khai.write_bytes(PDF)
    chung_tu.write_bytes(PDF + b"% chung tu\n")
    page.goto(f"{live_server.url}/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen")
    page.select_option("#unit", "XA_A1")
    page.fill("#ap-name", "Đỗ Minh Đức")
    page.fill("#ap-id_number", "12ab")
    page.fill("#ap-phone", "không có")
    page.fill("#ap-email", "duc@")
    page.fill("#request", "Đề nghị hỗ trợ chi phí mai táng cho bố")
    page.set_input_files("#doc-to_khai", str(to_khai))
    page.get_by_role("button", name="Gửi hồ sơ").click()

    # Every problem at once, beside its field, in Vietnamese.
    assert page.locator("#err-id_number").inner_text() == dossier_checks.ID_NUMBER
    assert page.locator("#err-phone").inner_text() == dossier_checks.PHONE
    assert page.locator("#err-email").inner_text() == dossier_checks.EMAIL
    assert page.locator("#err-doc-giay_chung_tu").inner_text() == dossier_checks.DOCUMENT_MISSING
    assert page.locator("#form-errors li").count() == 4
    assert page.locator("#ap-phone").get_attribute("aria-invalid") == "true"
    # Nothing typed or attached is lost.
    assert page.locator("#ap-name").input_value() == "Đỗ Minh Đức"
    assert page.locator("#ap-id_number").input_value() == "12ab"
    assert page.locator("#ap-email").input_value() == "duc@"
    assert page.locator("#unit").input_value() == "XA_A1"
    assert page.locator("#request").input_value() == "Đề nghị hỗ trợ chi phí mai táng cho bố"
    assert "to-khai.pdf" in page.locator("#held-to_khai").inner_text()
    assert page.get_by_text("hết thời gian lưu tạm").count() == 0
    shot(page, "online-dossier-errors")

    # One field fixed: its error goes, the others stay, the scan is still held.
    page.fill("#ap-phone", "+84 912 345 678")
    page.get_by_role("button", name="Gửi hồ sơ").click()
    expect(page.locator("#err-phone")).to_have_count(0)  # wait for the answer to the second POST
    assert page.locator("#err-id_number").inner_text() == dossier_checks.ID_NUMBER
    expect(page.locator("#form-errors li")).to_have_count(3)
    assert "to-khai.pdf" in page.locator("#held-to_khai").inner_text()

    # The rest fixed, only the missing document attached.
    page.fill("#ap-id_number", "036090001234")
    page.fill("#ap-email", "duc@example.vn")
    page.set_input_files("#doc-giay_chung_tu", str(chung_tu))
    page.get_by_role("button", name="Gửi hồ sơ").click()
    code = page.locator("#case-code").inner_text().strip()
    shot(page, "online-dossier-corrected")
    with live_server.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert (case.applicant_phone, case.applicant_id_number) == ("0912345678", "036090001234")
        names = {d.doc_code: d.filename for d in s.scalars(select(Document).where(Document.case_id == case.id))}
        assert names == {"to_khai": "to-khai.pdf", "giay_chung_tu": "giay-chung-tu.pdf"}
