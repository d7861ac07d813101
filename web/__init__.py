"""The Flask application: JSON API, HTML pages and the in-process scheduler, all on the engine's services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g
from sqlalchemy.orm import Session

from engine.config import Settings, load_settings
from engine.db import Database
from engine.deadlines import configure_hours


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.config["MOTCUA"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024 * 4
    app.extensions["motcua_db"] = database or Database(settings.database_url)
    configure_hours(settings.working_hours)

    from web import api

    app.register_blueprint(api.bp)
    _register_pages(app)
    return app


def _register_pages(app: Flask) -> None:
    """HTML pages live in web/pages; the JSON API works without them."""
    try:
        from web import pages
    except ImportError:
        return
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
