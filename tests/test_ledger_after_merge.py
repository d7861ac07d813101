"""After the 2025 merge a commune's Sổ theo dõi hồ sơ is closed, not renumbered: its cases — closed ones too —
stay in the successor's ledger (page exports, PDF, `motcua ledger`) with the numbers their receipts carry,
under a heading naming the old desk, its successor and the date; the successor numbers its own book on; the
book lists as many cases as the report counts. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from engine import cases, demo_restructure, ledger, reports, restructure, slips
from engine.models import Case, User
from tests.conftest import World, at
from web.cli import main

BEFORE = at("2025-06-16 09:00")
AFTER = at("2025-07-02 09:00")
CLOSED_BOOK = "Sổ theo dõi hồ sơ năm 2025 — UBND xã An Phú (đã sáp nhập vào UBND xã An Hòa từ 01/07/2025; " \
              "số thứ tự giữ nguyên như đã cấp)"


def _finish(world: World, code: str) -> None:
    """Every step done by whoever holds it, up to the return to the applicant."""
    for _ in range(12):
        with world.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.code == code))
            if case.status_code >= 9 and not cases.open_items(s, case):
                return
        world.complete_next(code, now=BEFORE)
    raise AssertionError(f"{code} did not finish")


def _numbers(world: World, codes: list[str]) -> dict[str, int]:
    with world.db.transaction() as s:
        return dict(s.execute(select(Case.code, Case.ledger_number).where(Case.code.in_(codes))).all())


def _filters(s, unit: str):  # noqa: ANN001, ANN202
    admin = s.scalar(select(User).where(User.username == "admin"))
    return reports.filters_for(s, admin, "2025-01-01", "2025-12-31", unit=unit, now=at("2025-12-31 12:00"))


def test_a_merged_communes_book_stays_in_its_successors_ledger_with_its_numbers(world: World,
                                                                                 tmp_path: Path) -> None:
    closed = world.receive("xa_a1_clerk", procedure="ho_tro_mai_tang", received_at=BEFORE)
    _finish(world, closed)
    still_open = world.receive("xa_a1_clerk", procedure="ho_tro_mai_tang", received_at=BEFORE)
    neighbour = world.receive("xa_a2_clerk", procedure="ho_tro_mai_tang", received_at=BEFORE)
    before = _numbers(world, [closed, still_open, neighbour])
    assert before == {closed: 1, still_open: 2, neighbour: 1}

    restructure.apply(world.db, demo_restructure.plan(), by="admin", now=at("2025-06-30 20:00"))
    # After the reform the desk's clerk works at xã An Hòa; its first dossier opens that book at number 1.
    new = world.receive("xa_a1_clerk", procedure="ho_tro_mai_tang", received_at=AFTER)

    with world.db.transaction() as s:
        f = _filters(s, "XA_AN_HOA")
        rows = ledger.rows(s, f)
        assert reports.summary(s, f)["received_new"] == len(rows) == 4  # the book lists what the report counts
        listed = {r.case.code: r for r in rows}
        assert {code: listed[code].number for code in before} == before  # the receipts' numbers, unchanged
        assert listed[new].number == 1 and listed[new].desk == "UBND xã An Hòa" and not listed[new].closed
        assert listed[closed].returned_at is not None  # a closed case is found as well as an open one
        headings = [r.heading for r in rows if r.heading]
        assert CLOSED_BOOK in headings
        assert any(h.startswith("Sổ theo dõi hồ sơ năm 2025 — UBND xã An Lạc (đã sáp nhập vào UBND xã An Hòa")
                   for h in headings)
        assert "Sổ theo dõi hồ sơ năm 2025 — UBND xã An Hòa" in headings
        # Every row sits under its own book's heading: the two "số 1" of two books are never confused.
        current = ""
        for r in rows:
            current = r.heading or current
            assert r.desk in current
        pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(slips.render_ledger(
            rows, f.period.label, unit=f.root))).pages)
        squashed = re.sub(r"\s+", "", pdf)  # the heading wraps inside its cell
        assert re.sub(r"\s+", "", CLOSED_BOOK) in squashed and closed in pdf and new in pdf
        sheet = load_workbook(io.BytesIO(ledger.excel(s, f, "UBND xã An Hòa"))).active
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
        header = next(r for r in table if r and r[0] == "STT")
        by_code = {r[1]: r for r in table if r and r[1] in listed}
        assert by_code[closed][header.index("STT")] == 1
        assert by_code[closed][header.index("Sổ theo dõi")] == CLOSED_BOOK

        # The old unit's own ledger still answers, numbered alike, and the province's totals did not change.
        assert [r.number for r in ledger.rows(s, _filters(s, "XA_A1"))] == [1, 2]

    env = {"MOTCUA_DATABASE_URL": world.db.url, "MOTCUA_INSTANCE_PATH": str(tmp_path / "instance")}
    out = CliRunner().invoke(main, ["ledger", "--unit", "XA_AN_HOA", "--from", "2025-01-01", "--to", "2025-12-31",
                                    "--text"], env=env)
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    at_heading = lines.index(f"# {CLOSED_BOOK}")
    assert lines[at_heading + 1].split("\t")[:2] == ["1", closed]


def test_a_unit_untouched_by_the_reform_shows_one_book_without_a_heading(world: World) -> None:
    world.receive("xa_b1_clerk", procedure="ho_tro_mai_tang", received_at=BEFORE)
    with world.db.transaction() as s:
        rows = ledger.rows(s, _filters(s, "XA_B1"))
        assert [r.number for r in rows] == [1] and not rows[0].heading and not rows[0].closed
