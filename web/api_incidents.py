"""JSON API for incidents (admins): cases stuck on a routing error or a failing script, and their retry."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from engine import incidents
from engine.errors import Invalid
from web.api import _iso, api_blueprint, authenticated, case_json, item_json

bp = api_blueprint("api_incidents", __name__)


def incident_json(i: incidents.Incident) -> dict:
    return {"code": i.code, "procedure": i.procedure, "receiving_unit": i.receiving_unit, "status": i.status,
            "kind": i.kind, "error": i.error, "since": _iso(i.since), "open_steps": i.open_steps}


@bp.get("/incidents")
@authenticated
def list_incidents(session: Any, user: Any) -> Response:
    try:
        limit = int(request.args.get("limit", 500))
    except ValueError:
        raise Invalid("limit must be a number", details={"limit": request.args.get("limit")}) from None
    return jsonify({"items": [incident_json(i) for i in incidents.stuck_cases(session, user, limit=limit)]})


@bp.post("/cases/<code>/retry")
@authenticated
def retry_case(session: Any, user: Any, code: str) -> Response:
    done = incidents.retry(session, user, code)
    return jsonify({"case": case_json(session, done.case, full=False),
                    "new_tasks": [item_json(w) for w in done.new_steps]})
