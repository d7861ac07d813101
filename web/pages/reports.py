"""Reports — báo cáo: the standard table for a period (per unit, field, level or procedure), the cases behind
any figure, the per-step table, charts, and exports (Excel table, Excel and PDF ledger Mẫu 06, PDF table).
For heads, leaders (their unit's subtree) and administrators; every figure comes from engine.reports."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from engine import ledger, report_exports, reports
from engine.models import utcnow
from web import labels
from web.pages import db_session
from web.pages.access import capability_required

bp = Blueprint("reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GROUP_LABELS = labels.GROUPS
FILTER_KEYS = ("from", "to", "unit", "field", "level")


reporter_required = capability_required("reads_reports",
                                        "reports are for heads of division, leaders and administrators")


def _args() -> dict[str, str]:
    return {k: request.args.get(k, "").strip() for k in FILTER_KEYS}


def _filters() -> reports.Filters:
    a = _args()
    return reports.filters_for(db_session(), current_user.user, a["from"] or None, a["to"] or None,
                               unit=a["unit"] or None, field=a["field"] or None, level=a["level"] or None)


def _query(f: reports.Filters, **extra: str) -> str:
    """The filters of this page as a query string, with `extra` overriding (drill-down links, exports)."""
    base = {"from": f.period.first.isoformat(), "to": f.period.last.isoformat(),
            "unit": f.root.code if f.root is not None and request.args.get("unit") else "",
            "field": f.field or "", "level": f.level or ""}
    base.update(extra)
    return urlencode({k: v for k, v in base.items() if v})


def _group() -> str:
    """The grouping asked for; anything unknown shows the table by unit."""
    group = request.args.get("group", "unit")
    return group if group in reports.GROUPS else "unit"


def _download(data: bytes, mimetype: str, name: str) -> Response:
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/reports")
@reporter_required
def index() -> str:
    s = db_session()
    f = _filters()
    group = _group()
    rows = reports.table(s, f, group)
    total = reports.total(rows)  # the sum of the table: the cases are not scanned twice
    step_rows = reports.steps(s, f)
    charts = {
        "monthly": reports.monthly_rate(s, f),
        "backlog": reports.backlog(s, f),
        "steps": [{"label": f"{r.step} — {r.unit_name}", "late_share": r.late_share} for r in step_rows[:15]],
        "labels": {"rate": _("Tỷ lệ đúng hạn") + " (%)", "in_time": _("Trong hạn"), "overdue": _("Quá hạn"),
                   "late_share": _("Tỷ lệ trễ hạn") + " (%)"},
    }
    drill_key = {"unit": "unit", "field": "field", "level": "level"}.get(group)
    return render_template(
        "reports/index.html", f=f, args=_args(), group=group, groups=GROUP_LABELS, rows=rows, total=total,
        columns=reports.TABLE_COLUMNS, labels=labels.FIGURES, steps=step_rows, charts=charts,
        ratings=reports.ratings_summary(s, f), units=reports.units_in_scope(s, current_user.user),
        fields=reports.fields(s), levels=reports.levels(s), query=lambda **kw: _query(f, **kw), drill_key=drill_key)


@bp.get("/reports/cases")
@reporter_required
def cases() -> str:
    s = db_session()
    f = _filters()
    figure = request.args.get("figure", "")
    try:
        page_no = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_no = 1
    page = reports.drill_down(s, f, figure, page=page_no)
    return render_template("reports/cases.html", f=f, figure=figure, label=labels.FIGURES.get(figure, figure),
                           page=page, query=lambda **kw: _query(f, **kw), now=utcnow())


@bp.get("/reports/export.xlsx")
@reporter_required
def export_excel() -> Response:
    f = _filters()
    data = reports.excel_table(db_session(), f, _group(), translate=labels.fixed_word)
    return _download(data, XLSX, f"bao-cao-{f.period.first:%Y%m%d}-{f.period.last:%Y%m%d}.xlsx")


@bp.get("/reports/ledger.xlsx")
@reporter_required
def ledger_excel() -> Response:
    f = _filters()
    data = ledger.excel(db_session(), f, reports.scope_label(f), translate=labels.fixed_word)
    return _download(data, XLSX, f"so-theo-doi-ho-so-{f.period.first:%Y%m%d}-{f.period.last:%Y%m%d}.xlsx")


@bp.get("/reports/ledger.pdf")
@reporter_required
def ledger_pdf() -> Response:
    from engine import slips

    s = db_session()
    f = _filters()
    data = slips.render_ledger(ledger.rows(s, f), f.period.label, unit=f.root)
    return _download(data, "application/pdf", f"so-theo-doi-ho-so-{f.period.first:%Y%m%d}.pdf")


@bp.get("/reports/export.pdf")
@reporter_required
def export_pdf() -> Response:
    from engine.pdf import render_pdf

    s = db_session()
    f = _filters()
    group = _group()
    now = utcnow()
    html = render_template("reports/pdf.html", f=f, group=group, groups=GROUP_LABELS, rows=reports.table(s, f, group),
                           total=reports.summary(s, f), columns=reports.TABLE_COLUMNS, labels=labels.FIGURES,
                           steps=reports.steps(s, f)[:30], scope=reports.scope_label(f), now=now,
                           head=report_exports.letterhead(f, now), figure=report_exports.figure_text)
    data = render_pdf(html)
    return _download(data, "application/pdf", f"bao-cao-{f.period.first:%Y%m%d}-{f.period.last:%Y%m%d}.pdf")
