"""The report as a file: the standard table and the per-step table as .xlsx (openpyxl), and what the PDF
report prints around them (the national header, place and date, signatures; numbers written 1.234,5). The
figures come from engine.report_figures; this module only lays them out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import vn_numbers, xlsx
from engine.report_figures import LABELS, summary, table
from engine.report_scope import Filters
from engine.report_steps import steps

TABLE_COLUMNS = ("received_carried_over", "received_new", "received_online", "received_desk", "received_post",
                 "resolved_early", "resolved_on_time", "resolved_late", "in_progress_in_time",
                 "in_progress_overdue", "paused", "withdrawn", "refused", "intake_incomplete", "on_time_rate")


def scope_label(f: Filters) -> str:
    return f.root.name if f.root is not None else "Toàn tỉnh"


def figure_text(value: Any) -> str:
    """A figure as a Vietnamese report writes it: 1.234 and 98,73 (an em dash when there is none)."""
    return "—" if value is None else vn_numbers.fmt(value)


def letterhead(f: Filters, now: datetime) -> dict[str, str]:
    """The PDF report's frame, from the agency settings of the slips (slips/agency.toml) for the report's
    unit: governing body and agency on the left, the national name and motto on the right, the place-and-date
    line, and the two signature blocks (who drew it up; the head of the agency, with the seal)."""
    from engine.slip_render import agency_settings, place_date

    agency = agency_settings(f.root)
    governing = agency.get("governing_body", "")
    return {
        "governing_body": governing if f.root is not None else "",
        "agency": (agency.get("agency", "") if f.root is not None else "") or governing,
        "country": agency.get("country", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        "motto": agency.get("motto", "Độc lập - Tự do - Hạnh phúc"),
        "place_date": place_date(agency.get("place", ""), now),
        "sign_maker": agency.get("sign_report_maker", "NGƯỜI LẬP BIỂU"),
        "sign_head": agency.get("sign_head", "THỦ TRƯỞNG CƠ QUAN"),
        "sign_hint": agency.get("sign_hint", "(Ký và ghi rõ họ tên)"),
        "seal_hint": agency.get("seal_hint", "(Ký tên, đóng dấu)"),
        "head_name": agency.get("head_name", ""),
    }


def excel_table(session: Session, f: Filters, group: str = "unit", translate: Any = None) -> bytes:
    """The standard table (one row per group and the total) and the per-step table, as an .xlsx file."""
    t = translate or (lambda s: s)
    wb, ws = xlsx.workbook(
        "Bao cao", t("BÁO CÁO TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"),
        [f"{t('Đơn vị')}: {scope_label(f)}", "", "", f"{t('Kỳ báo cáo')}: {f.period.label}"],
        [t({"unit": "Đơn vị", "field": "Lĩnh vực", "level": "Cấp", "procedure": "Thủ tục"}[group])]
        + [t(LABELS[k]) for k in TABLE_COLUMNS])
    for r in table(session, f, group):
        ws.append([r.label] + [r.figures[k] for k in TABLE_COLUMNS])
    total = summary(session, f)
    ws.append([t("Tổng cộng")] + [total[k] for k in TABLE_COLUMNS])
    xlsx.bold_row(ws, ws.max_row)
    ws.column_dimensions["A"].width = 40
    steps_ws = wb.create_sheet("Theo buoc")
    steps_ws.append([t("Đơn vị"), t("Bước xử lý"), t("Số lượt"), t("Trễ hạn"), t("Tỷ lệ trễ (%)"),
                     t("Trung vị (giờ)"), t("P90 (giờ)")])
    for s in steps(session, f):
        steps_ws.append([s.unit_name, s.step, s.count, s.late, s.late_share, s.median_hours, s.p90_hours])
    xlsx.bold_row(steps_ws, 1)
    steps_ws.column_dimensions["A"].width = 36
    steps_ws.column_dimensions["B"].width = 48
    return xlsx.to_bytes(wb)
