"""The API contract: every /api/v1 view declares its request and response models (web/schemas.py) with
`@operation(...)`; spectree validates requests against them and generates /api/v1/openapi.json from them,
so the document cannot drift from the code.

Adding an endpoint to the document (a test fails for any /api/v1 route without it):

    @bp.post("/cases/<code>/retry")
    @authenticated
    @operation(tag="cases", ok=(200, schemas.CaseBrief), errors=(403, 404, 409), body=schemas.RetryIn)
    def retry(session, user, code, json: schemas.RetryIn):
        "One line: the operation's summary in the document."

`body`/`query` models are validated before the view runs (a mismatch is 422 `invalid_request` naming the
fields) and passed to the view as the `json`/`query` argument when it declares one. Schemas describe shapes;
business rules stay in engine/ (422 `invalid`, 404, 409 …). Responses are checked against `ok` when the app
sets MOTCUA_CHECK_RESPONSES (the test client does), so a view that drifts from its model fails its tests.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import current_app, request
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.plugins.werkzeug_utils import werkzeug_parse_rule

from engine.errors import Invalid, MotcuaError
from web.schemas import Error

ERROR_TEXT = {400: "malformed request", 401: "missing or unknown token", 403: "not allowed for your roles",
              404: "not found or outside your unit", 409: "conflicts with the current state (who won, when known)",
              413: "request body too large", 415: "the body is not application/json",
              422: "invalid data, naming the fields"}


class InvalidRequest(Invalid, code="invalid_request"):
    """The request does not have the documented shape (as opposed to `invalid`: it breaks a business rule)."""


class UnsupportedMediaType(MotcuaError, status=415, code="unsupported_media_type"):
    """A body in a content type the operation does not take."""


class ContractBroken(AssertionError):
    """A view answered something its declared response model does not describe (checked in tests)."""


class _Plugin(FlaskPlugin):
    """Responses are validated only when the app asks for it: in production a drifted field must not turn a
    correct answer into a 500, in tests it must fail loudly."""

    def validate_response(self, resp: Any, resp_model: Any, skip_validation: bool,
                          force_resp_serialize: bool) -> Any:
        check = bool(current_app.config.get("MOTCUA_CHECK_RESPONSES"))
        return super().validate_response(resp, resp_model, skip_validation or not check, force_resp_serialize)


def _field(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc) or "body"


def _reject(req: Any, resp: Any, error: Exception | None, instance: Any, adapter: Any) -> None:
    """Spectree's own 422 body is a bare list; ours is {error, message, details} like every other error."""
    if error is not None:
        details = {_field(e.get("loc", ())): e.get("msg", "invalid") for e in adapter.validation_errors(error)}
        raise InvalidRequest("; ".join(f"{k}: {v}" for k, v in details.items()), details=details)
    context = getattr(req, "context", None)
    if context is not None and context.json is not None and not isinstance(req.get_json(silent=True), dict):
        # spectree validates a missing or non-JSON body as {}; an operation with a body wants a JSON object
        raise InvalidRequest.of("body_json_object", details={"body": "a JSON object"})


def _check(req: Any, resp: Any, error: Exception | None, instance: Any, adapter: Any) -> None:
    if error is not None:
        raise ContractBroken(f"{req.method} {req.path}: response does not match its model: "
                             f"{adapter.validation_errors(error)}")


spec = SpecTree(
    backend=_Plugin, mode="strict", naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child, annotations=True, before=_reject, after=_check,
    validation_error_model=Error, title="motcua API", version="1",
    description="Administrative procedures (thủ tục hành chính) through the one-stop desk (Bộ phận Một cửa). "
                "Errors are JSON {error, message, details?}.",
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))],
)
BEARER = {"bearer": []}


def operation(*, tag: str, ok: tuple[int, Any], errors: Iterable[int] = (), body: Any = None,
              query: Any = None, public: bool = False, body_content: dict | None = None,
              ok_content: dict | None = None, body_required: bool = True,
              error_models: dict[int, Any] | None = None) -> Callable:
    """Declare a view's contract. `ok` is (status, model or None); `errors` the statuses it may answer besides
    401 (bearer views) and 422, all with the Error model unless `error_models` names another. Non-JSON bodies
    and answers (BPMN XML, uploads) are described in OpenAPI terms with `body_content` / `ok_content`."""
    status, model = ok
    codes = {code: (Error, ERROR_TEXT.get(code, "error")) for code in
             {*errors, 422, *(() if public else (401,)), *((415,) if body is not None else ())}}
    for code, err_model in (error_models or {}).items():
        codes[code] = (err_model, ERROR_TEXT.get(code, "error"))
    answers = Response(**{f"HTTP_{status}": (model, "success")},
                       **{f"HTTP_{code}": spec_model for code, spec_model in sorted(codes.items())})
    validate = spec.validate(json=body, query=query, resp=answers, tags=(tag,),
                             security=None if public else BEARER)

    def decorate(view: Callable) -> Callable:
        validated = validate(view)

        @wraps(validated)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            # spectree skips JSON validation for form content types, so the view would get no body at all
            if body is not None and not request.is_json:
                raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
            return validated(*args, **kwargs)

        extra: dict[str, Any] = {}
        if body_content:
            extra["requestBody"] = {"required": body_required, "content": body_content}
        if ok_content:
            extra["responses"] = {str(status): {"content": ok_content}}
        wrapped.openapi_extra = extra  # copied onto outer wrappers by functools.wraps
        return wrapped

    return decorate


def _merge(target: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def document() -> dict:
    """The OpenAPI 3.1 document of the current app's /api/v1, built once per app."""
    cached = current_app.extensions.get("motcua_openapi")
    if cached is None:
        cached = copy.deepcopy(spec.spec)
        for rule in current_app.url_map.iter_rules():
            view = current_app.view_functions[rule.endpoint]
            extra = getattr(view, "openapi_extra", None)
            if not extra:
                continue
            path = "".join(f"{{{part}}}" if conv else part for conv, part in _parts(rule))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                _merge(cached["paths"][path][method.lower()], copy.deepcopy(extra))
        current_app.extensions["motcua_openapi"] = cached
    return cached


def _parts(rule: Any) -> Iterable[tuple[bool, str]]:
    """(is a variable, text) pieces of a Werkzeug rule, the way spectree writes paths."""
    for converter, _args, variable in werkzeug_parse_rule(rule.rule):
        yield converter is not None, variable
