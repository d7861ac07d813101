"""Bulk work: claim several steps at once, print the receipts (Mẫu 01) or control slips (Mẫu 05) of several
cases as one PDF (engine.slips per case, joined by engine.pdf.merge), export a list of cases to Excel.
Each item is checked as if handled alone: a step someone else holds is reported, not fatal to the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import cases, inputs, pdf, slips
from engine.calendar import VN_TZ
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Case, Unit, User, WorkItem
from engine.status import STATUS

MAX_ITEMS = 200
BULK_SLIPS = ("01", "05")


@dataclass
class ClaimResult:
    claimed: list[WorkItem] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (step id, why)


def _ids(values: Any) -> list[int]:
    check = inputs.Checker()
    if not isinstance(values, list) or not values or len(values) > MAX_ITEMS:
        check.add("ids", f"chọn từ 1 đến {MAX_ITEMS} bước")
        check.done()
    out = [check.integer("ids", v, WorkItem.id, low=1) for v in values]
    check.done()
    return list(dict.fromkeys(i for i in out if i is not None))


def claim_many(session: Session, user: User, ids: Any, now: datetime | None = None) -> ClaimResult:
    """Claim each step (engine.cases.claim); those that cannot be claimed are listed with the reason."""
    result = ClaimResult()
    for item_id in _ids(ids):
        try:
            result.claimed.append(cases.claim(session, user, item_id, now=now))
        except (Conflict, Forbidden, NotFound) as e:
            result.refused.append((item_id, e.message))
    return result


def _cases(session: Session, user: User, codes: Any) -> list[Case]:
    check = inputs.Checker()
    if not isinstance(codes, list) or not codes or len(codes) > MAX_ITEMS:
        check.add("codes", f"chọn từ 1 đến {MAX_ITEMS} hồ sơ")
    check.done()
    texts = list(dict.fromkeys(check.text("codes", c, Case.code) for c in codes))
    check.done()
    return [cases.get_case(session, user, code) for code in texts if code]  # NotFound for one not visible


def slips_pdf(session: Session, user: User, codes: Any, nn: Any,
              now: datetime | None = None) -> tuple[bytes, list[str]]:
    """One PDF with slip `nn` of each case that has it; returns it and the codes left out (no such slip)."""
    if nn not in BULK_SLIPS:
        raise Invalid.of("bulk_slip_choice", choices=" hoặc ".join(BULK_SLIPS), details={"slip": "không hỗ trợ"})
    chosen = _cases(session, user, codes)
    parts, skipped = [], []
    for case in chosen:
        if nn in slips.available_slips(session, case):
            parts.append(slips.render_slip(session, case, nn, now=now))
        else:
            skipped.append(case.code)
    if not parts:
        raise Invalid.of("bulk_no_case_has_slip", nn=nn, details={"codes": skipped})
    return pdf.merge(parts), skipped


EXPORT_HEADERS = ("Mã hồ sơ", "Người nộp", "Thủ tục", "Tiếp nhận", "Hẹn trả", "Trạng thái", "Đang ở")


def excel_cases(session: Session, user: User, codes: Any) -> bytes:
    """The chosen cases as an Excel sheet, one row each, in the order chosen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    chosen = _cases(session, user, codes)
    units = {c.current_unit_id for c in chosen if c.current_unit_id}
    names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(units))).all()) if units else {}
    book = Workbook()
    sheet = book.active
    sheet.title = "Hồ sơ"
    sheet.append(list(EXPORT_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)

    def local(value: datetime | None) -> str:
        return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if value else ""

    for c in chosen:
        sheet.append([c.code, c.applicant_name, c.procedure.name, local(c.received_at), local(c.due_at),
                      STATUS[c.status_code], names.get(c.current_unit_id, "")])
    for column, width in zip("ABCDEFG", (22, 28, 50, 18, 18, 24, 40), strict=True):
        sheet.column_dimensions[column].width = width
    out = BytesIO()
    book.save(out)
    return out.getvalue()
