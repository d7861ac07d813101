"""HTML pages: session login, CSRF, Vietnamese-first translations, and one blueprint per area.

Each area is its own module with a `bp` blueprint; the list below is the whole site map."""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask, g, session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from engine.calendar import VN_TZ

AREAS = [
    "auth",           # /login, /logout, language switch
    "desk",           # /reception — the one-stop desk
    "inbox",          # /inbox, /tasks/<id>
    "case_view",      # /cases/<code>, documents, slips as PDF
    "errors",         # 403/404/500 pages in Vietnamese
    "time_admin",     # /admin/calendar, notifications (deadlines issue)
    "designer",       # /designer (process designer issue)
    "reports",        # /reports (reports issue)
    "public",         # /tra-cuu, /thu-tuc, online submission, rating (citizen issue)
]
LANGUAGES = ("vi", "en")

csrf = CSRFProtect()
login_manager = LoginManager()


def _locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    user = getattr(g, "user", None)
    if user is not None and getattr(user, "locale", None) in LANGUAGES:
        return user.locale
    return "vi"  # Vietnamese first, whatever the browser says


def init_app(app: Flask) -> None:
    settings = app.config["MOTCUA"]
    app.config.setdefault("SECRET_KEY", _secret_key(settings.instance_path))
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", WTF_CSRF_TIME_LIMIT=None)
    translations = Path(__file__).resolve().parent.parent / "translations"
    dirs = [str(p) for p in sorted(translations.iterdir()) if p.is_dir()] if translations.exists() else []
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs) or str(translations)
    app.config["BABEL_DEFAULT_LOCALE"] = "vi"
    app.config["BABEL_DEFAULT_TIMEZONE"] = str(VN_TZ)
    Babel(app, locale_selector=_locale)
    csrf.init_app(app)
    csrf.exempt(_api_blueprint())  # the API uses bearer tokens, not cookies
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    for name in AREAS:
        try:
            module = importlib.import_module(f"web.pages.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"web.pages.{name}":
                raise
            continue
        if hasattr(module, "init_app"):
            module.init_app(app)
        else:
            app.register_blueprint(module.bp)
    app.teardown_appcontext(_close_session)


def _api_blueprint():  # noqa: ANN202
    from web import api

    return api.bp


def db_session() -> Session:
    """The request's session, opened on first use. Views that write call `.commit()` themselves;
    anything not committed is rolled back when the request ends."""
    if "db_session" not in g:
        from web import db

        g.db_session = db().session()
    return g.db_session


def _close_session(_exc: BaseException | None = None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.rollback()
        s.close()


@login_manager.user_loader
def _load_user(user_id: str) -> LoginUser | None:
    from engine.models import User

    user = db_session().get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active:
        return None
    g.user = user
    return LoginUser(user)


class LoginUser:
    """Flask-Login's view of an engine User; `.user` is the engine object services take."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: object) -> None:
        self.user = user

    def get_id(self) -> str:
        return str(self.user.id)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.user, name)


def _secret_key(instance: Path) -> str:
    """A per-instance secret kept next to the database, created on first start."""
    import os
    import secrets

    env = os.environ.get("MOTCUA_SECRET_KEY")
    if env:
        return env
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
