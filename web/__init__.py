"""The Flask application: JSON API, HTML pages and the in-process scheduler, all on the engine's services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from engine import budget, inputs, signing
from engine.config import Settings, load_settings
from engine.db import Database
from engine.deadlines import configure_hours


class DatabaseId(IntegerConverter):
    """`<int:…>` in every URL: ids beyond a 32-bit column are simply not found instead of overflowing the
    database driver (the tables with 64-bit ids would need centuries at a province's volume to get there)."""

    def __init__(self, url_map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


class StrictJSON(DefaultJSONProvider):
    """`request.get_json()` through engine.inputs.parse_json: NaN/Infinity and runaway nesting are a 422
    (Python's json accepts NaN; PostgreSQL and every browser refuse it)."""

    def loads(self, s: str | bytes, **_kw: object) -> object:
        return inputs.parse_json(s)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _check_params() -> None:
    """Every query parameter and form field, before any view or query sees it: no NUL, control
    characters or lone surrogates (PostgreSQL refuses them; SQLite would store them). Each engine
    function still checks its own fields against its columns."""
    inputs.params(request.args)
    if request.mimetype in FORM_TYPES:
        inputs.params(request.form)


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.config["MOTCUA"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024 * 4
    app.url_map.converters["int"] = DatabaseId
    app.json = StrictJSON(app)
    app.before_request(_check_params)
    app.extensions["motcua_db"] = database or Database(settings.database_url)
    app.extensions["motcua_db"].keep_documents_in(settings.documents_path)
    configure_hours(settings.working_hours)
    budget.configure(settings.script_cpu_ms, settings.script_memory_mb)
    signing.configure(settings.signing_path)

    from web import ops

    ops.init_app(app)  # first, so every request gets its id, log line and timing: /healthz, /readyz, /metrics
    from web import security

    security.init_app(app)
    from web import ratelimit

    ratelimit.init_app(app)  # before the blueprints: pages and API share one rate-limit store
    _register_api(app)
    _register_pages(app)
    from web import error_texts

    error_texts.init_app()  # coded engine errors speak the request's language
    return app


def _register_api(app: Flask) -> None:
    from web import (
        api,
        api_casefile,
        api_designer,
        api_incidents,
        api_lienthong,
        api_officials,
        api_reports,
        api_restructure,
        api_supplements,
        api_time,
    )
    from web.api import _http_error

    modules = (api, api_designer, api_reports, api_time, api_incidents, api_lienthong, api_restructure, api_officials,
               api_casefile, api_supplements)
    for module in modules:
        app.register_blueprint(module.bp)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _api_not_found(e):  # noqa: ANN001, ANN202 — unmatched /api/ URLs answer JSON, pages their own page
        from flask import request

        if request.path.startswith("/api/"):
            return _http_error(e)
        handler = app.config.get("MOTCUA_HTML_ERROR")
        return handler(e) if handler else e


def not_found_if_no_method_matches(app: Flask, e: Exception) -> Exception:
    """werkzeug answers 405 for a URL whose id is out of range when another method shares the rule's path
    (`DELETE /tasks/2147483648/follow-up` → "use PUT"), although no method would find anything there: that is
    a 404."""
    from flask import request
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    if not isinstance(e, MethodNotAllowed):
        return e
    adapter = app.url_map.bind_to_environ(request.environ)
    for method in e.valid_methods or ():
        if method in ("OPTIONS", "HEAD"):
            continue
        try:
            adapter.match(request.path, method=method)
            return e  # a real route for another method: 405 with its Allow header
        except NotFound:
            continue
        except Exception:  # noqa: BLE001 — a redirect or another method mismatch: keep the 405
            return e
    return NotFound()


def _register_pages(app: Flask) -> None:
    """HTML pages live in web/pages; the JSON API works without them."""
    from web import pages

    pages.init_app(app)


def db() -> Database:
    from flask import current_app

    return current_app.extensions["motcua_db"]


@contextmanager
def transaction() -> Iterator[Session]:
    with db().transaction() as session:
        g.db_session = session
        try:
            yield session
        finally:
            g.pop("db_session", None)
