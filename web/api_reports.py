"""JSON API of the reports: the standard table's figures (GET /api/v1/reports/summary), for heads, leaders
and administrators, over their unit's subtree."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from engine import inputs, reports
from web.api import api_blueprint, authenticated

bp = api_blueprint("api_reports", __name__)


def _filters(session: Any, user: Any) -> reports.Filters:
    args = request.args
    return reports.filters_for(session, user, args.get("from"), args.get("to"), unit=args.get("unit"),
                               field=args.get("field"), level=args.get("level"))


@bp.get("/reports/summary")
@authenticated
def summary(session: Any, user: Any) -> Response:
    """Keys: received_carried_over … refused, on_time_rate (null when nothing was resolved)."""
    return jsonify(reports.summary(session, _filters(session, user)))


@bp.get("/reports/table")
@authenticated
def table(session: Any, user: Any) -> Response:
    f = _filters(session, user)
    rows = reports.table(session, f, request.args.get("group", "unit"))
    return jsonify([{"key": r.key, "label": r.label, **r.figures} for r in rows])


@bp.get("/reports/cases")
@authenticated
def drill(session: Any, user: Any) -> Response:
    """The cases behind one figure (?figure=resolved_late&page=2)."""
    f = _filters(session, user)
    page_no = inputs.integer("page", request.args.get("page", 1), low=1, high=inputs.INT32_MAX) or 1
    page = reports.drill_down(session, f, request.args.get("figure", ""), page=page_no)
    return jsonify({"total": page.total, "page": page.page, "pages": page.pages,
                    "cases": [{"code": c.code, "procedure": c.procedure.code, "status_code": c.status_code,
                               "received_at": c.received_at.isoformat(), "due_at": c.due_at.isoformat()
                               if c.due_at else None, "timing": c.timing} for c in page.cases]})
