"""A supplement in Chromium: the commune's review asks for more; the applicant, on a phone-sized screen, looks the
dossier up by code and secret, reads what is missing, uploads it; the desk clerk sees it on the case page and
accepts it; the applicant's lookup then shows the dossier in progress with its new appointment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine import cases
from engine.calendar import VN_TZ
from engine.models import Case, User
from tests.browser.conftest import LiveServer, do_login, do_logout

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
APPLICANT = {"name": "Đinh Thị Thu", "phone": "0966123456", "email": "thu@example.vn"}


def _paused_case(server: LiveServer) -> tuple[str, str]:
    """Received at the commune desk; the specialist's review asks for the death certificate (engine calls: the
    officials' inbox is tested elsewhere)."""
    with server.db.transaction() as s:
        clerk = s.scalar(select(User).where(User.username == "xa_a1_clerk"))
        case = cases.receive(s, clerk, "ho_tro_mai_tang", APPLICANT, {})
        code, secret = case.code, case.lookup_secret
    with server.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        item = cases.open_items(s, case)[0]
        specialist = s.scalar(select(User).where(User.username == "xa_a1_specialist"))
        cases.complete_task(s, specialist, item.id, {"outcome": "supplement",
                                                     "giay_to_can_bo_sung": "Giấy chứng tử (bản sao)"})
    return code, secret


def _look_up(page: Any, url: str, code: str, secret: str) -> None:
    page.goto(f"{url}/tra-cuu")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.get_by_role("button", name="Tra cứu").click()


def test_applicant_uploads_the_supplement_and_the_desk_accepts_it(page: Any, live_server: LiveServer,
                                                                   tmp_path: Path, shot: Any) -> None:
    url = live_server.url
    code, secret = _paused_case(live_server)
    scan = tmp_path / "chung-tu.pdf"
    scan.write_bytes(PDF)

    page.set_viewport_size({"width": 390, "height": 844})
    _look_up(page, url, code, secret)
    assert page.locator("#lookup-status").inner_text() == "Yêu cầu bổ sung giấy tờ"
    assert page.locator("#lookup-supplement li").all_inner_texts() == ["Giấy chứng tử (bản sao)"]
    assert page.locator("#lookup-due").count() == 0 and page.locator("#lookup-paused").is_visible()
    page.set_input_files("#sup-files", str(scan))
    shot(page, "supplement-lookup-phone")
    page.get_by_role("button", name="Gửi bổ sung").click()
    assert "Đã gửi giấy tờ bổ sung" in page.locator("body").inner_text()
    assert "chung-tu.pdf" in page.locator("#lookup-sent").inner_text()

    page.set_viewport_size({"width": 1366, "height": 768})
    do_login(page, live_server, "xa_a1_clerk")
    page.goto(f"{url}/cases/{code}")
    assert page.locator("#supplement-sent li a").inner_text() == "chung-tu.pdf"
    page.fill("#supplement-note", "Đã đủ giấy tờ")
    page.get_by_role("button", name="Tiếp nhận hồ sơ bổ sung, tính lại thời hạn").click()
    assert page.locator("#case-status").inner_text() == "Đang xử lý"
    shot(page, "supplement-accepted")
    do_logout(page, url)

    with live_server.db.transaction() as s:
        due = s.scalar(select(Case.due_at).where(Case.code == code)).astimezone(VN_TZ)
    page.set_viewport_size({"width": 390, "height": 844})
    _look_up(page, url, code, secret)
    assert page.locator("#lookup-status").inner_text() == "Đang xử lý"
    assert page.locator("#lookup-due").inner_text() == due.strftime("%d/%m/%Y %H:%M")
    assert page.locator("#lookup-supplement").count() == 0
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", page.locator("#lookup-due").inner_text())
