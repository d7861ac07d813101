"""JSON API for time: the apology and new appointment (Mẫu 04), notifications, calendar overrides."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify

from engine import apology, cases, deadlines, notifications
from engine.errors import Forbidden, Invalid
from web import schemas as S
from web.api import _iso, _parse_time, api_blueprint, authenticated, case_json, mail_after_commit
from web.contract import operation

bp = api_blueprint("api_time", __name__)


@bp.post("/cases/<code>/apology")
@authenticated
@operation(tag="cases", ok=(201, S.ApologyOut), errors=(403, 404, 409), body=S.ApologyIn)
def issue_apology(session: Any, user: Any, code: str, json: S.ApologyIn) -> tuple[Response, int]:
    """Apology and new appointment — Mẫu 04 (once per case, from one working day before due)."""
    new_due_at = _parse_time(json.new_due_at, "new_due_at")
    if new_due_at is None:
        raise Invalid.of("apology_date_required", details={"new_due_at": "required"})
    case = cases.get_case(session, user, code)
    event = apology.issue_apology(session, user, case, json.reason, new_due_at)
    mail_after_commit(case.id)  # the applicant is mailed now; the outbox job retries if SMTP is down
    return jsonify({"case": case_json(session, case, full=False),
                    "apology": {"at": _iso(event.at), **event.data}}), 201


@bp.get("/notifications")
@authenticated
@operation(tag="notifications", ok=(200, S.Notifications), query=S.NotificationsQuery)
def list_notifications(session: Any, user: Any, query: S.NotificationsQuery) -> Response:
    """My notifications, newest first, with the unread count."""
    rows = notifications.latest(session, user, limit=query.limit, unread_only=query.unread == "1",
                                before_id=query.before)
    return jsonify({"unread": notifications.unread_count(session, user),
                    "items": [{"id": n.id, "kind": n.kind, "message": n.message, "created_at": _iso(n.created_at),
                               "read": n.read_at is not None} for n in rows]})


@bp.post("/notifications/<int:id>/read")
@authenticated
@operation(tag="notifications", ok=(200, S.UnreadCount), errors=(404,))
def read_notification(session: Any, user: Any, id: int) -> Response:
    """Mark one of my notifications read; answers how many stay unread."""
    notifications.mark_read(session, user, id)
    return jsonify({"unread": notifications.unread_count(session, user)})


def _admin(user: Any) -> None:
    if not user.has_role("admin"):
        raise Forbidden("only an administrator may change the working-day calendar")


@bp.get("/calendar/overrides")
@authenticated
@operation(tag="calendar", ok=(200, S.Overrides))
def list_overrides(session: Any, user: Any) -> Response:
    """Dates whose working status differs from the law's calendar (days off, make-up working days)."""
    rows = deadlines.list_overrides(session)
    return jsonify([{"day": r.day.isoformat(), "working": r.working, "note": r.note} for r in rows])


@bp.put("/calendar/overrides/<day>")
@authenticated
@operation(tag="calendar", ok=(200, S.OverrideOut), errors=(403,), body=S.OverrideIn)
def put_override(session: Any, user: Any, day: str, json: S.OverrideIn) -> Response:
    """Make a date (YYYY-MM-DD) a day off or a working day (administrators)."""
    _admin(user)
    row = deadlines.set_override(session, _day(day), json.working, json.note)
    return jsonify({"day": row.day.isoformat(), "working": row.working, "note": row.note})


@bp.delete("/calendar/overrides/<day>")
@authenticated
@operation(tag="calendar", ok=(204, None), errors=(403, 404))
def delete_override(session: Any, user: Any, day: str) -> tuple[str, int]:
    """Remove a date's override (administrators)."""
    _admin(user)
    deadlines.remove_override(session, _day(day))
    return "", 204


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid.of("day_must_be_date", details={"day": text}) from None
