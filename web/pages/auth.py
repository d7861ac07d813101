"""Login, logout and the language switch. Passwords are checked by engine.org (argon2, throttled by address)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from engine import org, sessions
from engine.errors import Invalid
from web import ratelimit
from web.pages import LANGUAGES, LoginUser, db_session
from web.security import safe_next

bp = Blueprint("auth", __name__)


def home_url() -> str:
    """Where an official starts the day: the desk for clerks, the inbox for everyone else."""
    if current_user.is_authenticated and current_user.user.can("receives_dossiers"):
        return url_for("desk.reception")
    return url_for("inbox.inbox")


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
        try:
            user = org.authenticate(s, username, password, throttle=ratelimit.limits().login,
                                    client=ratelimit.client()) if username and password else None
        except Invalid as e:  # a NUL or a megabyte in the form: said, not queried
            error = _("Tên đăng nhập hoặc mật khẩu chứa ký tự không hợp lệ hoặc quá dài: %(fields)s",
                      fields=", ".join(e.details or {}))
            return render_template("auth/login.html", error=error, username=""), 422
        key = sessions.start(s, user) if user is not None else ""
        s.commit()  # a rehashed password and the session row are kept
        if user is not None:
            login_user(LoginUser(user, key))
            session["lang"] = user.locale if user.locale in LANGUAGES else session.get("lang", "vi")
            return redirect(safe_next(request.args.get("next")) or home_url())
        # One answer for unknown, wrong and throttled: it must not tell which usernames exist.
        error = _("Tên đăng nhập hoặc mật khẩu không đúng. Sau nhiều lần nhập sai, hãy đợi một lát rồi thử lại.")
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, username=username), status


@bp.post("/logout")
def logout() -> Response:
    """POST with the CSRF token only: a link or an image on another site cannot sign an official out."""
    if current_user.is_authenticated:
        s = db_session()
        sessions.end(s, current_user.session_key)
        s.commit()
        logout_user()
        flash(_("Bạn đã đăng xuất."), "info")
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def language(code: str) -> Response:
    if code in LANGUAGES:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.user.locale = code
            db_session().commit()
    return redirect(safe_next(request.form.get("next") or request.args.get("next")) or url_for("auth.index"))

