"""JSON API of the reports: the standard table's figures (GET /api/v1/reports/summary), for heads, leaders
and administrators, over their unit's subtree."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from engine import reports
from web import schemas as S
from web.api import api_blueprint, authenticated
from web.contract import operation

bp = api_blueprint("api_reports", __name__)


def _filters(session: Any, user: Any, query: S.ReportQuery) -> reports.Filters:
    return reports.filters_for(session, user, query.from_, query.to, unit=query.unit, field=query.field,
                               level=query.level)


@bp.get("/reports/summary")
@authenticated
@operation(tag="reports", ok=(200, S.Figures), errors=(403, 404), query=S.ReportQuery)
def summary(session: Any, user: Any, query: S.ReportQuery) -> Response:
    """The standard report's figures over the caller's subtree (on_time_rate null when nothing resolved)."""
    return jsonify(reports.summary(session, _filters(session, user, query)))


@bp.get("/reports/table")
@authenticated
@operation(tag="reports", ok=(200, S.Table), errors=(403, 404), query=S.TableQuery)
def table(session: Any, user: Any, query: S.TableQuery) -> Response:
    """The figures per unit, field, level or procedure."""
    rows = reports.table(session, _filters(session, user, query), query.group)
    return jsonify([{"key": r.key, "label": r.label, **r.figures} for r in rows])


@bp.get("/reports/cases")
@authenticated
@operation(tag="reports", ok=(200, S.DrillPage), errors=(403, 404), query=S.DrillQuery)
def drill(session: Any, user: Any, query: S.DrillQuery) -> Response:
    """The cases behind one figure (?figure=resolved_late&page=2)."""
    page = reports.drill_down(session, _filters(session, user, query), query.figure, page=query.page)
    return jsonify({"total": page.total, "page": page.page, "pages": page.pages,
                    "cases": [{"code": c.code, "procedure": c.procedure.code, "status_code": c.status_code,
                               "received_at": c.received_at.isoformat(), "due_at": c.due_at.isoformat()
                               if c.due_at else None, "timing": c.timing} for c in page.cases]})
