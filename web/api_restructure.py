"""JSON API of restructuring (POST /org/restructure) and of moving running cases to a new diagram version
(POST /processes/{procedure}/migrate). Thin: engine.restructure and engine.migrate_cases decide."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from engine import migrate_cases, restructure
from engine.errors import Forbidden
from engine.restructure_plan import parse
from web import schemas as S
from web.api import api_blueprint, authenticated
from web.contract import operation

bp = api_blueprint("api_restructure", __name__)


def _admin(user: Any) -> None:
    if not user.has_role("admin"):
        raise Forbidden("chỉ quản trị hệ thống được sắp xếp lại đơn vị")


@bp.post("/org/restructure")
@authenticated
@operation(tag="org", ok=(200, S.RestructureOut), errors=(403,), body=S.RestructurePlanIn, query=S.DryRunQuery)
def org_restructure(session: Any, user: Any, json: S.RestructurePlanIn, query: S.DryRunQuery) -> Response:
    """Preview (dry_run=true) or apply a restructuring plan; an apply refuses a plan with problems (422)."""
    _admin(user)
    plan = parse(request.get_json())
    if query.dry_run == "true":
        return jsonify({**restructure.preview(session, plan).as_dict(), "result": None})
    from web import db

    username = user.username
    session.commit()  # the apply runs its own batches of transactions; this request holds no lock meanwhile
    result = restructure.apply(db(), plan, by=username)
    with db().session() as s:
        out = restructure.preview(s, plan).as_dict()
    out["result"] = {"cases_moved": result.cases_moved, "items_moved": result.items_moved,
                     "batches": result.batches, "already_applied": result.already_applied}
    return jsonify(out)


@bp.post("/processes/<procedure>/migrate")
@authenticated
@operation(tag="designer", ok=(200, S.MigrationOut), errors=(403, 404, 409), body=S.MigrateIn)
def migrate(session: Any, user: Any, procedure: str, json: S.MigrateIn) -> Response:
    """Move running cases to version `to_version` (all, or `cases`), with `map` naming successors of steps the
    new version no longer has; dry_run lists the cases that cannot move and why."""
    if not user.can("designs"):
        raise Forbidden("chỉ người thiết kế quy trình được chuyển hồ sơ sang phiên bản khác")
    mapping = migrate_cases.parse_mapping(json.map or {})
    codes = list(json.cases) if json.cases else None
    if json.dry_run:
        out = migrate_cases.preview(session, procedure, json.to_version, codes, mapping)
    else:
        out = migrate_cases.migrate(session, user, procedure, json.to_version, codes, mapping)
    return jsonify({**out.as_dict(), "applied": not json.dry_run})
