"""Login, logout and the language switch. Passwords are checked by engine.org (argon2, throttled by address)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from engine import org
from web import ratelimit
from web.pages import LANGUAGES, LoginUser, db_session

bp = Blueprint("auth", __name__)


def home_url() -> str:
    """Where an official starts the day: the desk for clerks, the inbox for everyone else."""
    if current_user.is_authenticated and current_user.user.has_role("clerk"):
        return url_for("desk.reception")
    return url_for("inbox.inbox")


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None  # only paths on this site: no open redirect
    return target


@bp.get("/")
def index() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_url())


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_url())
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        s = db_session()
        user = org.authenticate(s, username, password, throttle=ratelimit.limits().login,
                                client=ratelimit.client()) if username and password else None
        s.commit()  # a rehashed password is kept
        if user is not None:
            login_user(LoginUser(user))
            session["lang"] = user.locale if user.locale in LANGUAGES else session.get("lang", "vi")
            return redirect(_safe_next(request.args.get("next")) or home_url())
        # One answer for unknown, wrong and throttled: it must not tell which usernames exist.
        error = _("Tên đăng nhập hoặc mật khẩu không đúng. Sau nhiều lần nhập sai, hãy đợi một lát rồi thử lại.")
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, username=username), status


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        logout_user()
        flash(_("Bạn đã đăng xuất."), "info")
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["GET", "POST"])
def language(code: str) -> Response:
    if code in LANGUAGES:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.user.locale = code
            db_session().commit()
    return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))

