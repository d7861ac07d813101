"""JSON API for officials' everyday work: assignment (phân công) and unit load, deputies (ủy quyền), comments
(trao đổi). Thin: the rules are engine.assignment, engine.delegation and engine.comments."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from engine import assignment, bulk, cases, comments, delegation, followups, heatmap, saved_views, score766
from engine.models import CaseComment, Delegation, SavedView
from web import schemas as S
from web.api import _iso, api_blueprint, authenticated, item_json, mail_after_commit
from web.contract import operation

bp = api_blueprint("api_officials", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.post("/tasks/<int:id>/assign")
@authenticated
@operation(tag="tasks", ok=(200, S.AssignmentOut), errors=(403, 404, 409), body=S.AssignIn)
def assign(session: Any, user: Any, id: int, json: S.AssignIn) -> Response:
    """Assign (or reassign) an open step of one's unit to an official holding its role; heads only."""
    row = assignment.assign(session, user, id, json.username, json.note, json.target)
    item = cases.get_item(session, user, id)
    mail_after_commit(item.case_id)
    return jsonify({"task": item_json(item), "assignee": row.assignee.username,
                    "assignee_name": row.assignee.full_name, "assigned_by": user.username, "note": row.note,
                    "target": row.target.isoformat() if row.target else None, "at": _iso(row.at)})


@bp.get("/units/<code>/load")
@authenticated
@operation(tag="tasks", ok=(200, S.UnitLoadOut), errors=(403, 404))
def unit_load(session: Any, user: Any, code: str) -> Response:
    """Each official's open steps and overdue count in the unit, and the steps nobody holds; its heads only."""
    load = assignment.unit_load(session, user, code)
    return jsonify({"unit": load.unit.code, "unit_name": load.unit.name, "unassigned": load.unassigned,
                    "unassigned_overdue": load.unassigned_overdue,
                    "people": [{"username": p.username, "full_name": p.full_name, "roles": p.roles, "open": p.open,
                                "overdue": p.overdue} for p in load.people]})


def delegation_json(row: Delegation) -> dict:
    return {"id": row.id, "delegator": row.delegator.username, "delegator_name": row.delegator.full_name,
            "deputy": row.deputy.username, "deputy_name": row.deputy.full_name, "unit": row.delegator.unit.code,
            "starts": row.starts.isoformat(), "until": row.until.isoformat(), "procedures": list(row.procedures),
            "revoked_at": _iso(row.revoked_at)}


@bp.post("/delegations")
@authenticated
@operation(tag="delegations", ok=(201, S.DelegationOut), errors=(403, 409), body=S.DelegationIn)
def create_delegation(session: Any, user: Any, json: S.DelegationIn) -> tuple[Response, int]:
    """Name a deputy of the same unit for a date range, optionally for chosen procedures."""
    row = delegation.create(session, user, json.to, json.starts, json.until, json.procedures, json.for_)
    return jsonify(delegation_json(row)), 201


@bp.get("/delegations")
@authenticated
@operation(tag="delegations", ok=(200, S.Delegations))
def list_delegations(session: Any, user: Any) -> Response:
    """Delegations I gave or received (a head: all of the unit's), neither revoked nor past their last day."""
    return jsonify({"items": [delegation_json(r) for r in delegation.visible(session, user)]})


@bp.delete("/delegations/<int:id>")
@authenticated
@operation(tag="delegations", ok=(200, S.DelegationOut), errors=(404,))
def revoke_delegation(session: Any, user: Any, id: int) -> Response:
    """End a delegation now (its delegator, its deputy or a head of the unit)."""
    return jsonify(delegation_json(delegation.revoke(session, user, id)))


def comment_json(row: CaseComment) -> dict:
    return {"id": row.id, "author": row.author.username, "author_name": row.author.full_name, "text": row.text,
            "mentions": list(row.mentions), "at": _iso(row.at)}


@bp.post("/cases/<code>/comments")
@authenticated
@operation(tag="cases", ok=(201, S.CommentOut), errors=(404,), body=S.CommentIn)
def add_comment(session: Any, user: Any, code: str, json: S.CommentIn) -> tuple[Response, int]:
    """Comment on a case one can see, mentioning officials of the units on its path (they are notified)."""
    row = comments.add(session, user, cases.get_case(session, user, code), json.text, json.mentions)
    mail_after_commit(row.case_id)
    return jsonify(comment_json(row)), 201


@bp.get("/cases/<code>/comments")
@authenticated
@operation(tag="cases", ok=(200, S.Comments), errors=(404,))
def list_comments(session: Any, user: Any, code: str) -> Response:
    """The case's comments in time order."""
    case = cases.get_case(session, user, code)
    return jsonify({"items": [comment_json(r) for r in comments.for_case(session, case)]})



def view_json(row: SavedView) -> dict:
    return {"id": row.id, "kind": row.kind, "name": row.name, "filters": dict(row.filters), "shared": row.shared,
            "owner": row.owner.username}


@bp.post("/views")
@authenticated
@operation(tag="views", ok=(201, S.ViewOut), body=S.ViewIn)
def create_view(session: Any, user: Any, json: S.ViewIn) -> tuple[Response, int]:
    """Save a filter of the inbox or the case search, private or shared with my unit."""
    row = saved_views.create(session, user, json.kind, json.name, json.filters, json.shared)
    return jsonify(view_json(row)), 201


@bp.get("/views")
@authenticated
@operation(tag="views", ok=(200, S.Views), query=S.ViewsQuery)
def list_views(session: Any, user: Any, query: S.ViewsQuery) -> Response:
    """My saved filters and those shared with my unit."""
    return jsonify({"items": [view_json(r) for r in saved_views.visible(session, user, query.kind)]})


@bp.delete("/views/<int:id>")
@authenticated
@operation(tag="views", ok=(204, None), errors=(404,))
def delete_view(session: Any, user: Any, id: int) -> tuple[str, int]:
    """Delete one of my saved filters."""
    saved_views.delete(session, user, id)
    return "", 204


@bp.put("/tasks/<int:id>/follow-up")
@authenticated
@operation(tag="tasks", ok=(200, S.FollowUpOut), errors=(403, 404), body=S.FollowUpIn)
def set_follow_up(session: Any, user: Any, id: int, json: S.FollowUpIn) -> Response:
    """Be reminded of a step at a moment of my choice (nhắc lại), in my bell."""
    row = followups.set_follow_up(session, user, cases.get_item(session, user, id), json.at)
    return jsonify({"task": row.work_item_id, "at": _iso(row.at)})


@bp.delete("/tasks/<int:id>/follow-up")
@authenticated
@operation(tag="tasks", ok=(204, None), errors=(403, 404))
def clear_follow_up(session: Any, user: Any, id: int) -> tuple[str, int]:
    """Remove my reminder on a step."""
    followups.clear(session, user, cases.get_item(session, user, id))
    return "", 204


@bp.post("/tasks/claim")
@authenticated
@operation(tag="tasks", ok=(200, S.BulkClaimed), body=S.BulkClaimIn)
def claim_many(session: Any, user: Any, json: S.BulkClaimIn) -> Response:
    """Claim several steps; those that cannot be claimed are listed with the reason."""
    result = bulk.claim_many(session, user, json.ids)
    return jsonify({"claimed": [item_json(i) for i in result.claimed],
                    "refused": [{"id": i, "message": m} for i, m in result.refused]})


@bp.post("/bulk/slips")
@authenticated
@operation(tag="cases", ok=(200, None), errors=(404,), body=S.BulkSlipsIn, ok_content=S.PDF_CONTENT)
def slips_pdf(session: Any, user: Any, json: S.BulkSlipsIn) -> Response:
    """The receipts (01) or control slips (05) of several cases as one PDF; X-Skipped lists cases without it."""
    data, skipped = bulk.slips_pdf(session, user, json.codes, json.slip)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="mau-{json.slip}-{len(json.codes)}-ho-so.pdf"',
        "X-Skipped": ",".join(skipped)})


@bp.post("/bulk/export")
@authenticated
@operation(tag="cases", ok=(200, None), errors=(404,), body=S.BulkCasesIn, ok_content=S.XLSX_CONTENT)
def export_cases(session: Any, user: Any, json: S.BulkCasesIn) -> Response:
    """The chosen cases as an Excel sheet."""
    return Response(bulk.excel_cases(session, user, json.codes), mimetype=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="ho-so.xlsx"'})


def heat_json(h: heatmap.StepHeat) -> dict:
    return {"element": h.element, "name": h.name, "waiting": h.waiting, "overdue": h.overdue,
            "overdue_share": h.overdue_share, "completed": h.completed, "median_hours": h.median_hours,
            "p90_hours": h.p90_hours}


@bp.get("/reports/steps")
@authenticated
@operation(tag="reports", ok=(200, S.StepsOut), errors=(403, 404), query=S.StepsQuery)
def report_steps(session: Any, user: Any, query: S.StepsQuery) -> Response:
    """Per BPMN element of a procedure: dossiers waiting now, share overdue, median and p90 working hours."""
    heat = heatmap.step_heat(session, user, query.procedure, query.from_ or None, query.to or None, query.unit)
    return jsonify({"procedure": heat.procedure.code, "from": heat.period.first.isoformat(),
                    "to": heat.period.last.isoformat(),
                    "steps": [heat_json(h) for h in sorted(heat.steps.values(), key=lambda h: h.element)]})


@bp.get("/reports/766")
@authenticated
@operation(tag="reports", ok=(200, S.Score766Out), errors=(403, 404), query=S.Score766Query)
def score_766(session: Any, user: Any, query: S.Score766Query) -> Response:
    """The QĐ 766 indices motcua holds the data for, with each formula and the cases that cost points."""
    score = score766.compute(session, user, query.from_ or None, query.to or None, query.unit)
    f = score.filters
    return jsonify({"from": f.period.first.isoformat(), "to": f.period.last.isoformat(),
                    "unit": f.root.code if f.root else None,
                    "indices": [{"code": i.code, "name": i.name, "formula": i.formula, "numerator": i.numerator,
                                 "denominator": i.denominator, "value": i.value, "unit": i.unit, "full_at": i.full_at,
                                 "meets": i.meets, "costs_count": len(i.costs), "costs": i.costs[:200]}
                                for i in score.indices],
                    "by_procedure": [{"procedure": c, "name": n, "average_days": a, "resolved": k, "legal_days": d}
                                     for c, n, a, k, d in score.by_procedure]})
