"""JSON API for time: the apology and new appointment (Mẫu 04), notifications, calendar overrides."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify, request

from engine import apology, cases, deadlines, inputs, notifications
from engine.errors import Forbidden, Invalid
from engine.models import Notification
from web.api import _body, _iso, _parse_time, api_blueprint, authenticated, case_json, mail_after_commit

bp = api_blueprint("api_time", __name__)


@bp.post("/cases/<code>/apology")
@authenticated
def issue_apology(session: Any, user: Any, code: str) -> tuple[Response, int]:
    """{reason, new_due_at (ISO 8601; Vietnam time when no offset)} → 201 with the case and the event."""
    body = _body()
    new_due_at = _parse_time(body.get("new_due_at"), "new_due_at")
    if new_due_at is None:
        raise Invalid("new_due_at is required", details={"new_due_at": "required"})
    case = cases.get_case(session, user, code)
    event = apology.issue_apology(session, user, case, str(body.get("reason") or ""), new_due_at)
    mail_after_commit(case.id)  # the applicant is mailed now; the outbox job retries if SMTP is down
    return jsonify({"case": case_json(session, case, full=False),
                    "apology": {"at": _iso(event.at), **event.data}}), 201


@bp.get("/notifications")
@authenticated
def list_notifications(session: Any, user: Any) -> Response:
    check = inputs.Checker()
    limit = check.integer("limit", request.args.get("limit", 20), low=1, high=inputs.INT32_MAX)
    before = check.integer("before", request.args.get("before"), Notification.id)
    check.done()
    rows = notifications.latest(session, user, limit=limit, unread_only=request.args.get("unread") == "1",
                                before_id=before)
    return jsonify({"unread": notifications.unread_count(session, user),
                    "items": [{"id": n.id, "kind": n.kind, "message": n.message, "created_at": _iso(n.created_at),
                               "read": n.read_at is not None} for n in rows]})


@bp.post("/notifications/<int:notification_id>/read")
@authenticated
def read_notification(session: Any, user: Any, notification_id: int) -> Response:
    notifications.mark_read(session, user, notification_id)
    return jsonify({"unread": notifications.unread_count(session, user)})


def _admin(user: Any) -> None:
    if not user.has_role("admin"):
        raise Forbidden("only an administrator may change the working-day calendar")


@bp.get("/calendar/overrides")
@authenticated
def list_overrides(session: Any, user: Any) -> Response:
    rows = deadlines.list_overrides(session)
    return jsonify([{"day": r.day.isoformat(), "working": r.working, "note": r.note} for r in rows])


@bp.put("/calendar/overrides/<day>")
@authenticated
def put_override(session: Any, user: Any, day: str) -> Response:
    _admin(user)
    body = _body()
    if not isinstance(body.get("working"), bool):
        raise Invalid("working must be true or false", details={"working": body.get("working")})
    row = deadlines.set_override(session, _day(day), body["working"], body.get("note"))
    return jsonify({"day": row.day.isoformat(), "working": row.working, "note": row.note})


@bp.delete("/calendar/overrides/<day>")
@authenticated
def delete_override(session: Any, user: Any, day: str) -> tuple[str, int]:
    _admin(user)
    deadlines.remove_override(session, _day(day))
    return "", 204


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("the day must be YYYY-MM-DD", details={"day": text}) from None
