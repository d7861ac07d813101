"""The PDF report reads like an administrative document: the national header (agency left; CỘNG HÒA XÃ HỘI
CHỦ NGHĨA VIỆT NAM / Độc lập - Tự do - Hạnh phúc right), place and date, the figures written the Vietnamese
way (1.234,5) and the signature blocks. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from engine import reports
from engine.calendar import VN_TZ
from engine.models import User
from engine.report_exports import figure_text
from engine.slip_render import agency_settings
from tests.conftest import World
from tests.test_reports_export import _login
from tests.test_reports_figures import PERIOD, build_scenario


def _pdf_text(api: Any, query: str) -> str:
    resp = api.client.get(f"/reports/export.pdf?{query}")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF"), resp.status_code
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)


def test_figures_are_written_with_vietnamese_separators() -> None:
    assert figure_text(Decimal("1234.5")) == "1.234,5"
    assert figure_text(1800000) == "1.800.000"
    assert figure_text(98.73) == "98,73"
    assert figure_text(75.0) == "75"
    assert figure_text(None) == "—"


def test_report_pdf_has_header_place_date_figures_and_signatures(world: World, api: Any, tmp_path: Path) -> None:
    build_scenario(world, tmp_path)
    _login(api, "tinh_leader")
    text = _pdf_text(api, PERIOD)
    lines = [line.strip() for line in text.splitlines()]

    # The national header and the agency of the report's unit (slips/agency.toml, as on the slips).
    with world.db.transaction() as s:
        leader = s.scalar(select(User).where(User.username == "tinh_leader"))
        agency = agency_settings(leader.unit)
        f = reports.filters_for(s, leader, "2025-03-01", "2025-03-31")
        steps = reports.steps(s, f)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in lines
    assert "Độc lập - Tự do - Hạnh phúc" in lines
    assert agency["agency"] in lines and agency["governing_body"] in lines
    assert lines.index(agency["agency"]) < lines.index("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")  # agency on the left

    # Place and date of the day it was drawn up, in words, under the motto.
    today = datetime.now(VN_TZ)
    assert f"{agency['place']}, ngày {today:%d} tháng {today:%m} năm {today:%Y}" in text

    # Figures with a decimal comma: the per-step hours, never with an English decimal point.
    fractional = [st.median_hours for st in steps[:30] if st.median_hours and st.median_hours != int(st.median_hours)]
    assert fractional, "the scenario has steps that took a fraction of an hour"
    for hours in fractional:
        vietnamese = f"{hours:.2f}".rstrip("0").replace(".", ",")
        assert vietnamese in text, (vietnamese, text[-800:])
        assert f"{hours:.2f}".rstrip("0") not in text

    # The signature blocks: who drew it up, and the head of the agency with the seal.
    for words in ("NGƯỜI LẬP BIỂU", "(Ký và ghi rõ họ tên)", "THỦ TRƯỞNG CƠ QUAN", "(Ký tên, đóng dấu)"):
        assert words in text, words  # side by side: pypdf may read both blocks onto one line
    assert text.index("THỦ TRƯỞNG CƠ QUAN") > text.index("Thời gian xử lý theo bước")  # below the tables
