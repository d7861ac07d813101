"""JSON API for incidents (admins): cases stuck on a routing error or a failing script, and their retry."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from engine import incidents
from web import schemas as S
from web.api import _iso, api_blueprint, authenticated, case_json, item_json
from web.contract import operation

bp = api_blueprint("api_incidents", __name__)


def incident_json(i: incidents.Incident) -> dict:
    return {"code": i.code, "procedure": i.procedure, "receiving_unit": i.receiving_unit, "status": i.status,
            "kind": i.kind, "error": i.error, "since": _iso(i.since), "open_steps": i.open_steps}


@bp.get("/incidents")
@authenticated
@operation(tag="incidents", ok=(200, S.Incidents), errors=(403,), query=S.IncidentsQuery)
def list_incidents(session: Any, user: Any, query: S.IncidentsQuery) -> Response:
    """Cases stuck on a routing error or a failing script (administrators)."""
    items = incidents.stuck_cases(session, user, limit=query.limit)
    return jsonify({"items": [incident_json(i) for i in items]})


@bp.post("/cases/<code>/retry")
@authenticated
@operation(tag="incidents", ok=(200, S.Retried), errors=(403, 404, 409))
def retry_case(session: Any, user: Any, code: str) -> Response:
    """Retry a stuck case after the fix: unrouted steps are routed again, a failed timer fires now."""
    done = incidents.retry(session, user, code)
    return jsonify({"case": case_json(session, done.case, full=False),
                    "new_tasks": [item_json(w) for w in done.new_steps]})
