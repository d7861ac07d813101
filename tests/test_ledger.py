"""The Sổ theo dõi hồ sơ (Mẫu 06) is one set of rows that the Excel export, the PDF and `motcua ledger` all
show alike, numbered as the receipts (Mẫu 01) say; the Phiếu kiểm soát (Mẫu 05) shows the same rows on the
case page and in its PDF — on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from engine import ledger, reports, slips
from engine.control_slip import control_rows
from engine.models import Case
from tests.conftest import World, at
from tests.helpers import all_succeeded, at_once, login
from tests.test_reports_figures import build_scenario
from web.cli import main

PERIOD = "from=2025-03-01&to=2025-03-31"


def _pdf_text(data: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _login(client: Any, username: str) -> None:
    assert login(client, username).status_code == 302


def _hhmm(moment: Any) -> str:
    return ledger._text(moment)


def test_excel_pdf_and_cli_show_the_same_rows(world: World, api: Any, tmp_path: Path) -> None:
    build_scenario(world, tmp_path)
    with world.db.transaction() as s:
        f = reports.filters_for(s, world.user(s, "admin"), "2025-03-01", "2025-03-31", unit="XA_A1")
        expected = [(r.number, r.case.code, _hhmm(r.sent_at), _hhmm(r.back_at)) for r in ledger.rows(s, f)]
        assert len(expected) == reports.summary(s, f)["received_new"] == 6  # the report counts what the book lists
    assert all(n is not None for n, *_rest in expected) and len({n for n, *_r in expected}) == len(expected)
    assert any(sent for _n, _c, sent, _b in expected)

    client = api.client
    _login(client, "admin")
    sheet = load_workbook(io.BytesIO(client.get(f"/reports/ledger.xlsx?{PERIOD}&unit=XA_A1").data)).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    header, body = table[3], [r for r in table[4:] if r[0] is not None]
    cols = [header.index(h) for h in ("STT", "Mã hồ sơ", "Chuyển hồ sơ đến cơ quan giải quyết",
                                      "Nhận kết quả từ cơ quan giải quyết")]
    assert [tuple(r[c] or "" for c in cols) for r in body] == expected

    pdf = client.get(f"/reports/ledger.pdf?{PERIOD}&unit=XA_A1")
    text = _pdf_text(pdf.data)
    positions = [text.index(code) for _n, code, _s, _b in expected]
    assert positions == sorted(positions)  # same rows, same order
    pdf_moments = _squash(text)
    for _n, _code, sent, back in expected:  # the PDF prints hh:mm dd/mm/yyyy
        for moment in (sent, back):
            if moment:
                day, time = moment.split(" ")
                assert _squash(f"{time} {day}") in pdf_moments

    env = {"MOTCUA_DATABASE_URL": world.db.url, "MOTCUA_INSTANCE_PATH": str(tmp_path / "instance")}
    out = CliRunner().invoke(main, ["ledger", "--unit", "XA_A1", "--from", "2025-03-01", "--to", "2025-03-31",
                                    "--text"], env=env)
    assert out.exit_code == 0, out.output
    lines = [line.split("\t") for line in out.output.splitlines() if line.strip()]
    assert [(int(c[0]), c[1], c[3], c[4]) for c in lines] == expected
    cli_pdf = tmp_path / "so.pdf"
    out = CliRunner().invoke(main, ["ledger", "--unit", "XA_A1", "--from", "2025-03-01", "--to", "2025-03-31",
                                    "--out", str(cli_pdf)], env=env)
    assert out.exit_code == 0, out.output
    cli_text = _pdf_text(cli_pdf.read_bytes())
    assert [cli_text.index(code) for _n, code, _s, _b in expected] == sorted(cli_text.index(c) for _n, c, _s, _b
                                                                             in expected)


def test_the_receipt_number_is_the_ledger_row_and_never_changes(world: World) -> None:
    first = world.receive(received_at=at("2026-03-10 09:00"), now=at("2026-03-10 09:00"))
    # A paper dossier received earlier is entered afterwards: it takes the next number; the first keeps its own.
    late_entry = world.receive(received_at=at("2026-03-09 15:00"), now=at("2026-03-10 10:00"))
    with world.db.transaction() as s:
        rows = {r.case.code: r for r in ledger.rows_for_cases(
            s, list(s.scalars(select(Case).where(Case.code.in_((first, late_entry))))))}
        assert (rows[first].number, rows[late_entry].number) == (1, 2)
        for code, row in rows.items():
            receipt = _pdf_text(slips.render_slip(s, row.case, "01"))
            assert f"Quyển số: 2026, Số thứ tự: {row.number}" in receipt, code


def test_the_case_page_and_the_pdf_show_the_same_control_rows(world: World, api: Any) -> None:
    code = world.receive(received_at=at("2026-03-10 09:00"), now=at("2026-03-10 09:00"))
    t = at("2026-03-10 10:00")
    for _ in range(3):  # commune, then up to the district
        world.complete_next(code, {"outcome": "approve", "comment": "Đủ điều kiện"}, now=t)
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        rows = control_rows(s, case)
        pdf = _squash(_pdf_text(slips.render_slip(s, case, "05")))
    assert len(rows) >= 4 and rows[1].done_at is not None and rows[-1].done_at is None
    _login(api.client, "xa_a1_clerk")
    html = api.client.get(f"/cases/{code}").get_data(as_text=True)
    items = [unescape(i) for i in re.findall(r'<li class="tl-item[^"]*">(.*?)</li>', html, flags=re.S)]
    assert len(items) == len(rows)
    for item, row in zip(items, rows, strict=True):
        assert row.receiver in item and row.step in item
        assert _squash(row.receiver) in pdf
        assert (row.timing is not None) == ("pill-timing" in item)


def test_clerks_receiving_at_once_get_distinct_ledger_numbers(world: World) -> None:
    def clerk() -> list[str]:
        return [world.receive("xa_b1_clerk") for _ in range(3)]

    codes = [c for batch in all_succeeded(at_once(*[clerk] * 4)) for c in batch]
    with world.db.transaction() as s:
        numbers = sorted(s.scalars(select(Case.ledger_number).where(Case.code.in_(codes))))
    assert numbers == list(range(1, 13))
