"""The Flask application: JSON API, HTML pages and the in-process scheduler, all on the engine's services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from engine.config import Settings, load_settings
from engine.db import Database
from engine.deadlines import configure_hours


class DatabaseId(IntegerConverter):
    """`<int:…>` in every URL: ids beyond a 32-bit column are simply not found instead of overflowing the
    database driver (the tables with 64-bit ids would need centuries at a province's volume to get there)."""

    def __init__(self, url_map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.config["MOTCUA"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024 * 4
    app.url_map.converters["int"] = DatabaseId
    app.extensions["motcua_db"] = database or Database(settings.database_url)
    configure_hours(settings.working_hours)

    from web import ops

    ops.init_app(app)  # first, so every request gets its id, log line and timing: /healthz, /readyz, /metrics
    _register_api(app)
    _register_pages(app)
    return app


API_MODULES = ("web.api", "web.api_designer", "web.api_reports", "web.api_public", "web.api_time")


def _register_api(app: Flask) -> None:
    import importlib

    from web.api import _http_error

    for name in API_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        app.register_blueprint(module.bp)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _api_not_found(e):  # noqa: ANN001, ANN202 — unmatched /api/ URLs answer JSON, pages their own page
        from flask import request

        if request.path.startswith("/api/"):
            return _http_error(e)
        handler = app.config.get("MOTCUA_HTML_ERROR")
        return handler(e) if handler else e


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
