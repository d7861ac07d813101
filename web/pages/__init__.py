"""HTML pages: session login, CSRF, Vietnamese-first translations, and one blueprint per area.

Each area is its own module with a `bp` blueprint; the list below is the whole site map."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, flash, g, has_app_context, request, session, url_for
from flask_babel import Babel, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from engine.calendar import VN_TZ
from engine.errors import MotcuaError
from engine.resources import package_path

AREAS = [
    "auth",           # /login, /logout, language switch
    "desk",           # /reception — the one-stop desk
    "inbox",          # /inbox, /tasks/<id>
    "case_view",      # /cases/<code>, documents, slips as PDF
    "casefile",       # /tra-cuu/<code>/ket-qua/<id> (results for the applicant), /xac-thuc (signature check)
    "errors",         # 403/404/500 pages in Vietnamese
    "time_admin",     # /admin/calendar, notifications (deadlines issue)
    "designer",       # /designer (process designer issue)
    "reports",        # /reports (reports issue)
    "public",         # /tra-cuu, /thu-tuc, online submission, rating (citizen issue)
    "incidents",      # /admin/incidents: cases stuck on a routing error or a failing script
    "restructure",    # /admin/restructure (a plan: preview, apply); /designer/<code>/migrate/<version>
    "lienthong",      # /admin/lienthong: partner systems and undelivered messages
    "officials",      # assignment and unit load, deputies (/delegations), comments on cases
    "supplements",    # /cases/<code>/bo-sung/chap-nhan: the desk accepts what the applicant sent
]
LANGUAGES = ("vi", "en")
PATH_SAFE = "!$&'()*+,/:;=@"  # what werkzeug leaves unquoted in a path segment (BaseConverter.to_url)

csrf = CSRFProtect()
login_manager = LoginManager()


def _locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    user = getattr(g, "user", None)
    # Only the value already loaded: translating an error after a failed transaction must not query the user.
    locale = sa_inspect(user).dict.get("locale") if user is not None else None
    if locale in LANGUAGES:
        return locale
    if request.path.startswith("/api/"):  # a program asks in its header; Vietnamese when it does not say
        return request.accept_languages.best_match(LANGUAGES, default="vi") or "vi"
    return "vi"  # Vietnamese first, whatever the browser says


def init_app(app: Flask) -> None:
    settings = app.config["MOTCUA"]
    if not app.config.get("SECRET_KEY"):  # Flask predefines the key as None, so setdefault would keep None
        app.config["SECRET_KEY"] = _secret_key(settings.instance_path)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", WTF_CSRF_TIME_LIMIT=None)
    translations = package_path("web", "translations")  # compiled .mo files ship in the wheel
    dirs = [str(p) for p in sorted(translations.iterdir()) if p.is_dir()] if translations.exists() else []
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs) or str(translations)
    app.config["BABEL_DEFAULT_LOCALE"] = "vi"
    app.config["BABEL_DEFAULT_TIMEZONE"] = str(VN_TZ)
    Babel(app, locale_selector=_locale)
    # Templates' `_()` and `gettext()`: flask-babel's, with the catalog looked up once per request.
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)
    csrf.init_app(app)
    for blueprint in list(app.blueprints.values()):
        if blueprint.url_prefix == "/api/v1":
            csrf.exempt(blueprint)  # the API authenticates with bearer tokens, not cookies
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    for name in AREAS:
        module = importlib.import_module(f"web.pages.{name}")
        if hasattr(module, "init_app"):
            module.init_app(app)
        else:
            app.register_blueprint(module.bp)
    app.teardown_appcontext(_close_session)
    app.add_template_filter(vn_datetime, "vn_datetime")
    app.add_template_filter(vn_date, "vn_date")
    app.add_template_filter(num, "num")
    app.context_processor(_template_globals)
    from web import labels

    app.context_processor(labels.template_globals)


def _translations() -> Any:
    """flask_babel.get_translations(), kept on `g` for the rest of the request: finding it (context, domain,
    locale, cache key) costs ~20 µs, and a page's templates ask for fifty words and more."""
    if not has_app_context():
        return get_translations()
    found = g.get("motcua_translations")
    if found is None:
        found = g.motcua_translations = get_translations()
    return found


@pass_context
def _template_gettext(context: Any, string: str, **variables: Any) -> str:
    """What Jinja's newstyle gettext does (escaped, `%(name)s` filled in, `%%` read as `%`), without its two
    context calls and the `% {}` of every word that has no variable: a page asks for fifty words, each cost
    ~20 µs through Jinja and flask-babel."""
    text = _translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if variables or "%" in text else text


def vn_datetime(value: object) -> str:
    """dd/mm/yyyy hh:mm in Asia/Ho_Chi_Minh, the one way pages show a moment."""
    from datetime import datetime

    if not isinstance(value, datetime):
        return "—" if value in (None, "") else str(value)
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def vn_date(value: object) -> str:
    """dd/mm/yyyy; also for an ISO 8601 text (what the engine's previews and API answers carry)."""
    from datetime import date, datetime

    if isinstance(value, str) and value[:4].isdigit():
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.astimezone(VN_TZ).strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "—" if value in (None, "") else str(value)


def num(value: object) -> str:
    """A number of (working) days without a useless ".0": 24, 0,5 in Vietnamese style."""
    from decimal import Decimal

    if value is None:
        return "—"
    d = Decimal(str(value)).normalize()
    text = f"{d:f}"
    from flask_babel import get_locale

    return text if str(get_locale() or "vi") == "en" else text.replace(".", ",")


NAV = [
    # (endpoint, label, capability of a role (engine.org.CAPABILITIES) or "admin"; None = every official)
    ("desk.reception", _l("Tiếp nhận"), "receives_dossiers"),
    ("public.online_inbox", _l("Hồ sơ trực tuyến"), "receives_dossiers"),
    ("inbox.inbox", _l("Hộp công việc"), None),
    ("case_view.search", _l("Tra cứu hồ sơ"), None),
    ("officials.my_load", _l("Phân công"), "escalation_target"),
    ("officials.delegations", _l("Ủy quyền"), None),
    ("designer.index", _l("Thiết kế quy trình"), "designs"),
    ("reports.index", _l("Báo cáo"), "reads_reports"),
    ("time_admin.calendar", _l("Lịch làm việc"), "admin"),
    ("incidents.index", _l("Sự cố"), "admin"),
    ("restructure.plan_page", _l("Sắp xếp đơn vị"), "admin"),
    ("lienthong.index", _l("Liên thông"), "admin"),
]
NAV_FALLBACK_URLS = {"designer.index": "/designer", "reports.index": "/reports",
                     "time_admin.calendar": "/admin/calendar"}


def nav_links() -> list[tuple[str, str, str]]:
    """(url, label, endpoint) of the pages the logged-in user's roles open; areas not installed are left out."""
    from flask import current_app, url_for
    from flask_login import current_user

    if not current_user.is_authenticated:
        return []
    user = current_user.user
    out = []
    for endpoint, label, allowed in NAV:
        if allowed == "admin" and not user.has_role("admin"):
            continue
        if allowed not in (None, "admin") and not user.can(allowed):
            continue
        if endpoint in current_app.view_functions:
            out.append((url_for(endpoint), label, endpoint))
        elif endpoint in NAV_FALLBACK_URLS and _has_rule(current_app, NAV_FALLBACK_URLS[endpoint]):
            out.append((NAV_FALLBACK_URLS[endpoint], label, endpoint))
    return out


def _has_rule(app: Flask, path: str) -> bool:
    return any(rule.rule == path for rule in app.url_map.iter_rules())


def _template_globals() -> dict:
    from flask_babel import get_locale

    from engine.status import Status

    return {"nav_links": nav_links, "current_locale": str(get_locale() or "vi"), "LANGUAGES": LANGUAGES,
            "Status": Status}


def db_session() -> Session:
    """The request's session, opened on first use. Views that write call `.commit()` themselves;
    anything not committed is rolled back when the request ends."""
    if "db_session" not in g:
        from web import db

        g.db_session = db().session()
    return g.db_session


class PageWrite:
    """What `page_write` yields: `say` queues a message shown once the write is committed; `ok` tells the view
    whether it was."""

    def __init__(self) -> None:
        self.ok = False
        self._said: list[tuple[str, str]] = []

    def say(self, message: str, category: str = "success") -> None:
        self._said.append((message, category))


@contextmanager
def page_write(*refusals: type[MotcuaError]) -> Iterator[PageWrite]:
    """A form's write: the block calls the engine, then the request's session commits. When the engine refuses
    with one of `refusals`, nothing is written and its reason is flashed; the view redirects either way."""
    write, s = PageWrite(), db_session()
    try:
        yield write
        s.commit()
    except refusals as e:
        s.rollback()
        flash(e.message, "error")
        return
    write.ok = True
    for message, category in write._said:
        flash(message, category)


_MARKER = 987_654_321_987  # stands for the row's value in a URL built once (url_pattern)


def url_pattern(endpoint: str, key: str, **values: Any) -> Callable[[Any], str]:
    """`url_for(endpoint, **{key: v})` for every row of a list at the cost of one url_for: the URL is built once
    with a marker for `key`, then each row's value is put in its place, quoted as werkzeug quotes a path
    segment."""
    head, found, tail = url_for(endpoint, **values, **{key: _MARKER}).partition(str(_MARKER))
    if not found:
        raise ValueError(f"{endpoint}: {key} is not part of the URL's path")
    return lambda value: f"{head}{quote(str(value), safe=PATH_SAFE)}{tail}"


def _close_session(_exc: BaseException | None = None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.rollback()
        s.close()


@login_manager.user_loader
def _load_user(session_id: str) -> LoginUser | None:
    """The cookie names `<user id>:<session key>`; the session must still exist on the server (logout and
    `motcua user revoke-token` delete it), so a copied cookie stops working when its owner signs out."""
    from engine import sessions

    user_id, _sep, key = session_id.partition(":")
    user = sessions.user_for(db_session(), int(user_id), key) if user_id.isdigit() and key else None
    if user is None:
        return None
    g.user = user
    return LoginUser(user, key)


class LoginUser:
    """Flask-Login's view of an engine User; `.user` is the engine object services take."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user: object, session_key: str) -> None:
        self.user = user
        self.session_key = session_key

    def get_id(self) -> str:
        return f"{self.user.id}:{self.session_key}"  # type: ignore[attr-defined]

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
        # gunicorn starts its workers together: write aside, then link into place, which fails when another
        # worker won — so all of them sign sessions with the same key (else a user is logged out at random).
        draft = instance / f".secret_key.{os.getpid()}"
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
