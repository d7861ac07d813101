"""NĐ 118/2025 in a real browser: a clerk at xã Hòa An's desk receives a dossier of an applicant living in xã
Bình Sơn, names Bình Sơn competent on the reception page and the post as the return channel; Bình Sơn's
specialist finds it in the inbox, phường Sông Hồng's does not."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from engine.demo import create_demo
from engine.models import Case
from tests.browser.conftest import LiveServer, shot

PDF_SCAN = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_the_desk_chooses_the_competent_commune_and_the_return_channel(page, live_server: LiveServer,
                                                                        login) -> None:  # noqa: ANN001
    with live_server.db.transaction() as s:
        create_demo(s, levels=2)
    login("xa_hoa_an_clerk")
    page.goto(f"{live_server.url}/reception?procedure=ncc_mai_tang_2025")
    choice = page.locator("#competent-unit")
    assert choice.input_value() == ""  # by default: the commune the applicant's address names
    assert "UBND xã Bình Sơn" in choice.inner_text() and "UBND phường Sông Hồng" in choice.inner_text()
    page.fill("#ap-name", "Hoàng Văn Thái")
    page.fill("#ap-id_number", "036182004455")
    page.fill("#ap-address", "Thôn Nam, xã Bình Sơn")
    page.fill("#ap-phone", "0915333444")
    page.check("#doc-ban_khai")
    page.check("#doc-giay_bao_tu")
    page.set_input_files("#file-ban_khai", files=[{"name": "ban-khai.pdf", "mimeType": "application/pdf",
                                                   "buffer": PDF_SCAN}])
    choice.select_option(label="UBND xã Bình Sơn")
    page.check("input[name=return_channel][value=post]")
    shot(page, "reception_competent_unit", full_page=False)
    page.click("button[name=action][value=accept]")
    page.wait_for_selector("#case-code")
    code = page.inner_text("#case-code").strip()
    with live_server.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.receiving_unit.code == "XA_HOA_AN" and case.competent_unit.code == "XA_BINH_SON"
        assert case.return_channel == "post"
    login("xa_binh_son_specialist")
    page.goto(f"{live_server.url}/inbox")
    assert code in page.inner_text("main")
    login("xa_song_hong_specialist")
    page.goto(f"{live_server.url}/inbox")
    assert code not in page.inner_text("main")
    page.goto(f"{live_server.url}/cases/{code}")
    assert code not in page.inner_text("main")


def test_the_receiving_desk_stops_a_dossier_decided_elsewhere_from_the_case_page(page, live_server: LiveServer, login,
                                                                                 monkeypatch) -> None:  # noqa: ANN001
    import io

    from pypdf import PdfReader

    from engine import cases
    from engine.models import User

    monkeypatch.setenv("MOTCUA_SLIP_SET", "tt03-2025")
    with live_server.db.transaction() as s:
        create_demo(s, levels=2)
        clerk = s.scalar(select(User).where(User.username == "xa_hoa_an_clerk"))
        code = cases.receive(s, clerk, "ncc_mai_tang_2025", {"name": "Lý Thị Nga", "id_number": "036190006543"},
                             {}, competent_unit="XA_BINH_SON").code
    login("xa_hoa_an_clerk")
    page.goto(f"{live_server.url}/cases/{code}")
    page.click("details.stop-request summary")
    page.fill("#stop-reason", "Gia đình xin rút hồ sơ để bổ sung giấy tờ khác")
    page.click("#stop-form button[type=submit]")
    expect(page.locator("#case-status")).to_contain_text("Dừng xử lý")  # the old page has a status too
    expect(page.locator("#stop-form")).to_have_count(0)  # nothing left to stop
    link = page.locator("a[data-slip='05']")
    assert "Thông báo dừng giải quyết hồ sơ" in link.inner_text()
    pdf = page.request.get(f"{live_server.url}{link.get_attribute('href')}")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "036190006543" in text and "Gia đình xin rút hồ sơ" in " ".join(text.split())
    login("xa_binh_son_specialist")
    page.goto(f"{live_server.url}/inbox")
    assert code not in page.inner_text("main")
