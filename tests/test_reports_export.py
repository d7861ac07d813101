"""What a leader takes away from /reports: the page's table with drill-down links, the Excel table (the same
figures as the API), the Excel ledger (Sổ theo dõi hồ sơ, Mẫu 06) and the PDF of the table."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader

from engine import reports
from tests.conftest import World
from tests.helpers import login
from tests.test_reports_figures import EXPECTED_ALL, PERIOD, build_scenario


def _login(api: Any, username: str) -> None:
    resp = login(api.client, username)
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:500]


def test_page_shows_the_figures_with_drill_down(world: World, api: Any, tmp_path: Path) -> None:
    codes = build_scenario(world, tmp_path)
    _login(api, "tinh_leader")
    html = api.client.get(f"/reports?{PERIOD}").get_data(as_text=True)
    total = re.search(r'<tr id="report-total">(.*?)</tr>', html, re.S).group(1)
    for figure in ("received_new", "resolved_late", "refused"):
        cell = re.search(rf'data-figure="{figure}">(.*?)</td>', total, re.S).group(1)
        assert re.sub(r"<[^>]+>", "", cell).strip() == str(EXPECTED_ALL[figure]), figure
    assert "75" in re.search(r'data-figure="on_time_rate">(.*?)</td>', total, re.S).group(1)
    link = re.search(r'href="(/reports/cases\?[^"]*figure=resolved_late[^"]*)"', total).group(1)
    drill = api.client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert codes["late"] in drill and codes["carried_early"] not in drill
    assert 'id="steps-table"' in html and "Quyết định hỗ trợ chi phí mai táng" in html
    assert 'id="chart-data"' in html and "dist/charts.js" in html


def test_reports_page_is_for_reporting_roles_only(world: World, api: Any) -> None:
    _login(api, "xa_a1_clerk")
    assert api.client.get("/reports").status_code == 403
    _login(api, "xa_a1_head")
    assert api.client.get("/reports?unit=XA_B1").status_code == 403
    assert api.client.get("/reports?from=2025-02-31").status_code == 422


def test_excel_table_has_the_same_figures(world: World, api: Any, tmp_path: Path) -> None:
    build_scenario(world, tmp_path)
    _login(api, "admin")
    resp = api.client.get(f"/reports/export.xlsx?{PERIOD}&group=unit")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "BÁO CÁO TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
    header = rows[3]
    total = next(r for r in rows if r[0] == "Tổng cộng")
    for key in reports.TABLE_COLUMNS:
        assert total[header.index(reports.LABELS[key])] == EXPECTED_ALL[key], key
    by_unit = {r[0]: r for r in rows[4:] if r[0] not in ("Tổng cộng", None)}
    assert by_unit["UBND xã Bình Minh"][header.index("Tiếp nhận mới trong kỳ")] == 1


def test_excel_ledger_lists_every_case_received_in_the_period(world: World, api: Any, tmp_path: Path) -> None:
    codes = build_scenario(world, tmp_path)
    _login(api, "huyen_a_head")
    resp = api.client.get(f"/reports/ledger.xlsx?{PERIOD}")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "SỔ THEO DÕI HỒ SƠ"
    header = rows[3]
    body = [r for r in rows[4:] if r[0] is not None]
    listed = [r[header.index("Mã hồ sơ")] for r in body]
    # HUYEN_A's subtree: the six cases XA_A1 received in March, in order of receipt; not XA_B1's.
    assert len(listed) == 6 and codes["other_district"] not in listed and codes["old"] not in listed
    late = body[listed.index(codes["late"])]
    assert late[header.index("Nhận hồ sơ")] == "04/03/2025 09:00"
    assert re.fullmatch(r"\d{2}/\d{2}/2025 \d{2}:\d{2}", late[header.index("Chuyển hồ sơ đến cơ quan giải quyết")])
    assert late[header.index("Ghi chú")] == "Quá hạn" and late[header.index("Kết quả")] == "Giải quyết"
    assert "UBND huyện Hòa An" in late[header.index("Cơ quan chủ trì giải quyết")]


def test_pdf_of_the_table_and_ledger(world: World, api: Any, tmp_path: Path) -> None:
    build_scenario(world, tmp_path)
    _login(api, "admin")
    resp = api.client.get(f"/reports/export.pdf?{PERIOD}")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" in text.upper()
    assert "01/03/2025 – 31/03/2025" in text
    ledger = api.client.get(f"/reports/ledger.pdf?{PERIOD}")
    assert ledger.status_code == 200 and ledger.data.startswith(b"%PDF")
