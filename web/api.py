"""JSON API /api/v1: thin handlers over engine services, bearer-token auth, JSON errors only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from engine import case_brief, cases, deploy, org, procedure_codes, public, stop
from engine.calendar import VN_TZ
from engine.errors import Invalid, MotcuaError
from engine.models import Case, Event, Procedure, WorkItem
from engine.throttle import Exhausted
from web import ratelimit, transaction
from web import schemas as S
from web.contract import operation

T = TypeVar("T")


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /api/v1 whose errors are JSON {error, message, details?}; every API module uses it."""
    blueprint = Blueprint(name, import_name, url_prefix="/api/v1")
    blueprint.register_error_handler(MotcuaError, _domain_error)
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(Exception, _unexpected)
    return blueprint


def _error(status: int, code: str, message: str, details: Any = None, text: MotcuaError | None = None) -> Response:
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    if text is not None and text.text_code is not None:  # the stable code beside the translated message
        body.update(code=text.text_code, params=text.params)
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _domain_error(e: MotcuaError) -> Response:
    resp = _error(e.status, e.code, e.message, e.details, e)
    if isinstance(e, TooManyRequests):
        resp.headers["Retry-After"] = str(e.retry_after)
    return resp


class TooManyRequests(MotcuaError, status=429, code="too_many_requests"):
    """An allowance of web.ratelimit is used up; the answer says when to retry (Retry-After)."""

    def __init__(self, message: str, action: str, retry_after: int) -> None:
        super().__init__(message, {"action": action})
        self.retry_after = retry_after


def within_allowance(reserve: Callable[[], T], action: str,
                     message: Callable[[Exhausted], str] = ratelimit.api_message) -> T:
    """`reserve()` one try from a shared allowance (web.ratelimit); a 429 naming `action` when it is used up."""
    try:
        return reserve()
    except Exhausted as e:
        raise TooManyRequests(message(e), action, e.retry_after) from e


def _http_error(e: HTTPException) -> Response:
    from flask import current_app

    from web import not_found_if_no_method_matches

    e = not_found_if_no_method_matches(current_app, e)
    resp = _error(e.code or 500, (e.name or "error").lower().replace(" ", "_"), e.description or e.name)
    for name, value in e.get_headers():  # keep what the error tells the client, e.g. a 405's Allow
        if name.lower() != "content-type":
            resp.headers[name] = value
    return resp


def _unexpected(e: Exception) -> Response:
    from flask import current_app

    current_app.logger.exception("unexpected error in API")
    return _error(500, "internal_error", "an unexpected error occurred; it has been logged")


bp = api_blueprint("api", __name__)


def authenticated(view: Callable) -> Callable:
    """Bearer token from `motcua user token`; the user is loaded in the request's transaction."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return _error(401, "unauthorized", "send Authorization: Bearer <token> (motcua user token USERNAME)")
        with transaction() as session:
            days = current_app.config["MOTCUA"].token_days
            user = org.user_for_token(session, header[7:].strip(), days=days)
            if user is None:
                return _error(401, "unauthorized", "unknown, expired or revoked token (motcua user token USERNAME)")
            g.user = user
            result = view(session, user, *args, **kwargs)
        mail_now(g.pop("mail_cases", ()))
        return result

    return wrapper


def mail_after_commit(case_id: int) -> None:
    """Ask for the case's waiting e-mails to be sent as soon as this request's transaction commits."""
    g.mail_cases = (*g.get("mail_cases", ()), case_id)


def mail_now(case_ids: Any) -> None:
    from flask import current_app

    from engine import notifications

    if case_ids:
        notifications.deliver_for_cases(current_app.extensions["motcua_db"], current_app.config["MOTCUA"], case_ids)


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid.of("body_json_object")
    return data


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(VN_TZ).isoformat() if value else None


def task_json(brief: Any) -> dict:
    """An open step from engine.case_brief (a row or a dict under the Task's names) as the API's Task: the
    schema reads it field by field, and its times are shown in Vietnam's time zone like every answer's."""
    task = S.Task.model_validate(brief, from_attributes=True).model_dump()
    return {**task, "due_at": _iso(task["due_at"]), "created_at": _iso(task["created_at"])}


def item_json(item: WorkItem, procedure: str | None = None) -> dict:
    return task_json(case_brief.task_brief(item, procedure))


def event_json(ev: Event) -> dict:
    return {"kind": ev.kind, "at": _iso(ev.at), "actor": ev.actor.username if ev.actor else None,
            "from_unit": ev.from_unit.code if ev.from_unit else None,
            "to_unit": ev.to_unit.code if ev.to_unit else None, "step": ev.step,
            "step_due_at": _iso(ev.step_due_at), "timing": ev.timing, "data": ev.data}


def case_json(session: Any, case: Case, full: bool = True, brief: case_brief.CaseBrief | None = None) -> dict:
    """A case as answers show it; its relations and open tasks come from one query (engine.case_brief)."""
    brief = brief or case_brief.case_brief(session, case)
    body = {"code": case.code, "procedure": brief.procedure, "status_code": case.status_code,
            "status": cases.STATUS[case.status_code], "channel": case.channel,
            "receiving_unit": brief.receiving_unit, "competent_unit": brief.competent_unit,
            "return_channel": case.return_channel, "current_unit": brief.current_unit,
            "received_at": _iso(case.received_at), "due_at": _iso(case.due_at),
            "original_due_at": _iso(case.original_due_at), "resolved_at": _iso(case.resolved_at),
            "returned_at": _iso(case.returned_at), "timing": case.timing, "result": case.result,
            "supplement_count": case.supplement_count, "error": case.error,
            "process_version": brief.process_version, "tasks": [task_json(t) for t in brief.tasks]}
    if full:
        body.update(applicant={"name": case.applicant_name, "id_number": case.applicant_id_number,
                               "address": case.applicant_address, "phone": case.applicant_phone,
                               "email": case.applicant_email},
                    data=case.data, events=[event_json(e) for e in cases.events(session, case)])
        from web.api_casefile import steps_json

        body["steps"] = steps_json(session, case)
    return body


@bp.get("/procedures")
@authenticated
@operation(tag="catalog", ok=(200, S.Procedures))
def procedures(session: Any, user: Any) -> Response:
    """The procedure catalog with each procedure's newest deployed version."""
    rows = session.scalars(select(Procedure).where(Procedure.active.is_(True)).order_by(Procedure.code))
    versions = deploy.latest_version_numbers(session)
    return jsonify([{"code": p.code, "national_code": procedure_codes.national_code(p), "name": p.name,
                     "field": p.field, "level": p.level_code,
                     "deadline_days": float(p.deadline_days), "documents": p.documents,
                     "version": versions.get(p.id)} for p in rows])


def _parse_time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise Invalid.of("datetime_iso", name=name, details={name: value}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


@bp.post("/cases")
@authenticated
@operation(tag="cases", ok=(201, S.CaseBrief), errors=(403, 404, 409), body=S.NewCase)
def create_case(session: Any, user: Any, json: S.NewCase) -> tuple[Response, int]:
    """Receive a dossier (tiếp nhận): the caller's unit is the receiving unit."""
    from flask import current_app

    # Every field is checked by the engine at once, so one answer names all that is wrong.
    case = cases.receive(session, user, json.procedure, json.applicant.model_dump(), json.data or {},
                         channel=json.channel or "desk", received_at=json.received_at or None,
                         max_backdate_days=current_app.config["MOTCUA"].backdate_max_days,
                         competent_unit=json.competent_unit, return_channel=json.return_channel,
                         documents=json.documents)
    return jsonify(case_json(session, case, full=False)), 201


@bp.get("/cases/<code>")
@authenticated
@operation(tag="cases", ok=(200, S.CaseFull), errors=(404,))
def get_case(session: Any, user: Any, code: str) -> Response:
    """A case with its applicant, open tasks and events (Phiếu kiểm soát)."""
    return jsonify(case_json(session, cases.get_case(session, user, code)))


@bp.get("/tasks")
@authenticated
@operation(tag="tasks", ok=(200, S.TaskPage), query=S.InboxQuery)
def inbox(session: Any, user: Any, query: S.InboxQuery) -> Response:
    """My inbox (my unit and roles), by due date, keyset-paginated."""
    page = cases.inbox(session, user, after=query.after, limit=query.limit, procedure=query.procedure,
                       claimed=query.claimed, time_state=query.state, find=query.q)
    return jsonify({"items": [item_json(i) for i in page.items], "next": page.next})


@bp.post("/cases/<code>/stop")
@authenticated
@operation(tag="cases", ok=(200, S.CaseBrief), errors=(403, 404, 409), body=S.StopIn)
def stop_case(session: Any, user: Any, code: str, json: S.StopIn) -> Response:
    """The applicant's stop request (NĐ 118/2025 Điều 21): status 7 → 8, open steps closed, stop notice issued;
    refused (409) once a result exists."""
    case = cases.get_case(session, user, code)
    stop.request_stop(session, user, case, json.reason)
    return jsonify(case_json(session, case, full=False))


# URL variables are named as the document names them ({id}); the view argument follows.
@bp.get("/tasks/<int:id>")
@authenticated
@operation(tag="tasks", ok=(200, S.Task), errors=(403, 404))
def get_task(session: Any, user: Any, id: int) -> Response:
    """One task of my unit and roles."""
    return jsonify(item_json(cases.get_item(session, user, id)))


@bp.post("/tasks/<int:id>/complete")
@authenticated
@operation(tag="tasks", ok=(200, S.Completed), errors=(403, 404, 409), body=S.CompleteIn)
def complete(session: Any, user: Any, id: int, json: S.CompleteIn) -> Response:
    """Complete a task with its form data; answers where the case went next."""
    result = cases.complete_task(session, user, id, json.data or {}, documents=json.documents)
    brief = case_brief.after_step(session, result.case, result.open_items)
    open_now = {t.id: t for t in brief.tasks}
    return jsonify({"task": item_json(result.item, brief.procedure),
                    "case": case_json(session, result.case, full=False, brief=brief),
                    "next": [task_json(open_now[i.id]) if i.id in open_now else item_json(i, brief.procedure)
                             for i in result.next_items]})


@bp.post("/tasks/<int:id>/claim")
@authenticated
@operation(tag="tasks", ok=(200, S.Task), errors=(403, 404, 409))
def claim(session: Any, user: Any, id: int) -> Response:
    """Claim a task (nobody else of the unit works on it until released)."""
    return jsonify(item_json(cases.claim(session, user, id)))


@bp.post("/tasks/<int:id>/unclaim")
@authenticated
@operation(tag="tasks", ok=(200, S.Task), errors=(403, 404, 409))
def unclaim(session: Any, user: Any, id: int) -> Response:
    """Release a claimed task."""
    return jsonify(item_json(cases.unclaim(session, user, id)))


@bp.post("/public/cases/<code>")
@operation(tag="public", ok=(200, S.PublicCase), errors=(404, 429), body=S.PublicLookupIn, public=True)
def public_case(code: str) -> Response:
    """Status and appointment for the code AND its secret (in the body, never the URL), from the allowance of
    wrong secrets every public page shares (web.ratelimit)."""
    secret = _body().get("secret")
    if not isinstance(secret, str) or not secret.strip():
        raise Invalid("send the case's lookup secret", {"secret": "required"})
    attempt = within_allowance(lambda: ratelimit.secret_check("api_lookup"), "public_lookup")
    with transaction() as session:
        public.find_case(session, code, secret)  # NotFound (404) for a wrong secret and an unknown code alike
        attempt.refund()
        status = cases.public_status(session, code)
    return jsonify({"code": status["code"], "status_code": status["status_code"], "status": status["status"],
                    "due_at": status["due_at"]})


@bp.get("/openapi.json")
@operation(tag="meta", ok=(200, S.OpenApiDocument), public=True)
def openapi() -> Response:
    """This document, generated from the request and response models (web/schemas.py)."""
    from web.contract import document

    return jsonify(document())
