"""The citizen's side in Chromium: find a procedure in the public catalog, submit it online with a scan, track
it by code and secret; the commune desk accepts it; the lookup then shows it received, then at the district.
The secret is typed and POSTed: no URL the browser requests ever carries it (QR codes carry the code)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from engine import cases
from engine.models import Case, User
from tests.browser.conftest import LiveServer, do_login, do_logout

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _complete_next(server: LiveServer, code: str) -> None:
    """The officials' part happens in their inbox (tested elsewhere); here the engine moves one step."""
    with server.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        item = cases.open_items(s, case)[0]
        user = s.scalar(select(User).where(User.username == f"{item.unit.code.lower()}_{item.role_code}"))
        cases.complete_task(s, user, item.id, {"outcome": "approve"})


def test_online_submission_accepted_and_tracked(page: Any, live_server: LiveServer, tmp_path: Path,
                                                 shot: Any) -> None:
    url = live_server.url
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    scan = tmp_path / "to-khai.pdf"
    scan.write_bytes(PDF)

    page.goto(f"{url}/thu-tuc")
    assert page.locator("h1").inner_text() == "Danh mục thủ tục hành chính"
    shot(page, "citizen-catalog")
    page.locator('a[href$="/thu-tuc/ho_tro_mai_tang/nop-truc-tuyen"]').click()
    page.select_option("#unit", "XA_A1")
    page.fill("#ap-name", "Võ Thị Lan")
    page.fill("#ap-phone", "0933444555")
    page.fill("#ap-email", "lan@example.vn")
    page.fill("#request", "Đề nghị hỗ trợ chi phí mai táng")
    page.set_input_files("#doc-to_khai", str(scan))
    page.set_input_files("#doc-giay_chung_tu", str(scan))
    shot(page, "citizen-submit")
    page.get_by_role("button", name="Gửi hồ sơ").click()
    code = page.locator("#case-code").inner_text().strip()
    secret = page.locator("#case-secret").inner_text().strip()
    assert re.fullmatch(r"000\.31\.31\.H99-\d{6}-\d{4}", code) and len(secret) == 6
    shot(page, "citizen-submitted")

    # Tracking by typing the code and secret.
    page.goto(f"{url}/tra-cuu")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.get_by_role("button", name="Tra cứu").click()
    assert page.locator("#lookup-status").inner_text() == "Mới đăng ký"
    assert "Võ Thị Lan" not in page.content()

    # The commune desk accepts it.
    do_login(page, live_server, "xa_a1_clerk")
    page.goto(f"{url}/reception/online")
    card = page.locator(f"[id='online-{code}']")
    assert "Võ Thị Lan" in card.inner_text()
    shot(page, "desk-online-inbox")
    card.get_by_role("button", name="Tiếp nhận").click()
    page.wait_for_load_state()
    do_logout(page, url)

    # The receipt's QR code opens the lookup with the code filled in; the citizen types the secret printed
    # beside it: received, with an appointment.
    qr = f"{url}/tra-cuu?code={code}"

    def scan_and_type() -> None:
        page.goto(qr)
        assert page.locator("#code").input_value() == code
        page.fill("#secret", secret)
        page.get_by_role("button", name="Tra cứu").click()

    scan_and_type()
    assert page.locator("#lookup-status").inner_text() == "Được tiếp nhận"
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", page.locator("#lookup-due").inner_text())
    assert page.locator("#lookup-unit").inner_text() == "UBND xã An Phú (Cấp xã)"

    # Two steps later the dossier is at the district: the citizen sees where, not who.
    _complete_next(live_server, code)
    _complete_next(live_server, code)
    scan_and_type()
    assert page.locator("#lookup-status").inner_text() == "Đang xử lý"
    assert page.locator("#lookup-unit").inner_text() == "UBND huyện Hòa An (Cấp huyện)"
    shot(page, "citizen-lookup")
    assert requested and not [u for u in requested if secret in u]


def test_wrong_secret_in_the_browser(page: Any, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/tra-cuu")
    page.fill("#code", "000.31.31.H99-250101-0001")
    page.fill("#secret", "ZZZZZZ")
    page.get_by_role("button", name="Tra cứu").click()
    assert "Không tìm thấy hồ sơ" in page.locator("#lookup-error").inner_text()


def test_leader_sees_reports_with_charts(page: Any, live_server: LiveServer) -> None:
    from datetime import datetime, timedelta

    from engine.calendar import VN_TZ
    from tests.browser.conftest import shot as take

    start = datetime.now(VN_TZ).replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=20)
    for n in range(3):
        with live_server.db.transaction() as s:
            clerk = s.scalar(select(User).where(User.username == "xa_a1_clerk"))
            cases.receive(s, clerk, "ho_tro_mai_tang", {"name": f"Người nộp {n}"},
                          received_at=start + timedelta(days=n), now=start + timedelta(days=n))
    do_login(page, live_server, "tinh_leader")
    page.goto(f"{live_server.url}/reports?from={start:%Y-%m-%d}")
    total = page.locator("#report-total [data-figure=received_new]").inner_text()
    assert total.strip() == "3"
    page.wait_for_function("document.getElementById('chart-backlog').width > 0")
    take(page, "reports")
    page.locator("#report-total [data-figure=received_new] a").click()
    expect(page.locator("#drill-table tbody tr")).to_have_count(3)
