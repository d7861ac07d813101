"""The layout every official .xlsx export shares (the report table, the ledger): a bold title, the unit and
period line, a blank line, then a bold wrapped header row. Callers translate the words; this lays them out."""

from __future__ import annotations

from io import BytesIO
from typing import Any


def workbook(sheet: str, title: str, scope_line: list[str], headers: list[Any]) -> tuple[Any, Any]:
    """A new workbook whose first sheet (named `sheet`) carries the export's heading; (workbook, sheet)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([title])
    ws.append(scope_line)
    ws.append([])
    ws.append(headers)
    ws["A1"].font = Font(bold=True, size=13)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return wb, ws


def bold_row(ws: Any, row: int) -> None:
    from openpyxl.styles import Font

    for cell in ws[row]:
        cell.font = Font(bold=True)


def to_bytes(wb: Any) -> bytes:
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
