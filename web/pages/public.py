"""The citizen's pages, no login: /tra-cuu (lookup by code + secret, rate-limited), /thu-tuc (public catalog),
online submission, the rating (/danh-gia); and the desk's page for online dossiers (/reception/online).
Every rule lives in engine.public."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from engine import cases, documents, notifications, public, reports
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from web.pages import db_session, vn_datetime

bp = Blueprint("public", __name__)

# Memory storage: per process, enough to slow down guessing codes; a proxy in front may add its own limits.
limiter = Limiter(get_remote_address, storage_uri="memory://", default_limits=[])
LOOKUP_LIMIT = "10/minute"
SUBMIT_LIMIT = "5/minute"

APPLICANT_LABELS = {"name": _l("Họ và tên"), "id_number": _l("Số định danh cá nhân / CCCD"), "address": _l("Địa chỉ"),
                    "phone": _l("Số điện thoại"), "email": _l("Thư điện tử")}


def _lookup_limit() -> str:
    return str(current_app.config.get("MOTCUA_LOOKUP_LIMIT", LOOKUP_LIMIT))


def _submit_limit() -> str:
    return str(current_app.config.get("MOTCUA_SUBMIT_LIMIT", SUBMIT_LIMIT))


def _no_lookup_params() -> bool:
    """Opening the empty form costs nothing; every attempt with a code counts."""
    return not (request.values.get("code") or request.values.get("secret"))


def _too_many(_e: Exception) -> tuple[str, int]:
    return render_template("public/rate_limited.html"), 429


bp.register_error_handler(429, _too_many)


def _settings() -> Any:
    return current_app.config["MOTCUA"]


def _deliver(ids: list[int]) -> None:
    """E-mails after the commit, outside the transaction (engine.notifications.deliver)."""
    from web import db

    if ids:
        try:
            notifications.deliver(db(), _settings(), ids)
        except Exception:  # noqa: BLE001 — a mail server outage must not fail the citizen's submission
            current_app.logger.exception("could not send the applicant's e-mail")


def _pending_notices(case_id: int) -> list[int]:
    from sqlalchemy import select

    from engine.models import Notification

    return list(db_session().scalars(select(Notification.id).where(Notification.case_id == case_id,
                                                                   Notification.emailed_at.is_(None),
                                                                   Notification.email.is_not(None))))


def _uploads() -> list[public.Upload]:
    out = []
    for key, storage in request.files.items(multi=True):
        if storage and storage.filename:
            code = key[4:] if key.startswith("doc_") else None
            out.append(public.Upload(code, storage.filename, storage.stream))
    return out


# --- lookup ---------------------------------------------------------------------------------------


@bp.route("/tra-cuu", methods=["GET", "POST"])
@limiter.limit(_lookup_limit, exempt_when=_no_lookup_params)
def lookup() -> tuple[str, int]:
    code = (request.values.get("code") or "").strip()
    secret = (request.values.get("secret") or "").strip()
    if not code and not secret:
        return render_template("public/lookup.html", code="", secret="", result=None, error=None), 200
    try:
        result = public.lookup(db_session(), code, secret)
    except NotFound:
        return render_template("public/lookup.html", code=code, secret="", result=None,
                               error=_("Không tìm thấy hồ sơ. Hãy kiểm tra lại mã hồ sơ và mã tra cứu "
                                       "in trên giấy tiếp nhận.")), 404
    return render_template("public/lookup.html", code=code, secret=secret, result=result, error=None,
                           statuses=cases.STATUS), 200


@bp.post("/tra-cuu/bo-sung")
@limiter.limit(_lookup_limit)
def supplement() -> Response | tuple[str, int]:
    code, secret = request.form.get("code", ""), request.form.get("secret", "")
    s = db_session()
    try:
        public.supplement_online(s, code, secret, request.form.get("note", ""), _uploads(),
                                 _settings().documents_path, _settings().max_upload_mb * 1024 * 1024)
    except NotFound:
        return render_template("public/lookup.html", code=code, secret="", result=None,
                               error=_("Không tìm thấy hồ sơ.")), 404
    except (Invalid, Conflict) as e:
        s.rollback()
        result = public.lookup(s, code, secret)
        return render_template("public/lookup.html", code=code, secret=secret, result=result,
                               error=e.message, statuses=cases.STATUS), e.status
    s.commit()
    flash(_("Đã gửi giấy tờ bổ sung. Bộ phận Một cửa sẽ kiểm tra lại hồ sơ."), "success")
    return redirect(url_for("public.lookup", code=code, secret=secret))


# --- catalog --------------------------------------------------------------------------------------


@bp.get("/thu-tuc")
def catalog() -> str:
    s = db_session()
    field, level, q = (request.args.get(k, "").strip() for k in ("field", "level", "q"))
    entries = public.catalog(s, field or None, level or None, q or None)
    groups: dict[str, list[public.CatalogEntry]] = {}
    for e in entries:
        groups.setdefault(e.field or _("Khác"), []).append(e)
    return render_template("public/catalog.html", groups=groups, fields=reports.fields(s),
                           levels=reports.levels(s), field=field, level=level, q=q)


@bp.get("/thu-tuc/<code>")
def procedure(code: str) -> str:
    return render_template("public/procedure.html", p=public.catalog_entry(db_session(), code))


# --- online submission ----------------------------------------------------------------------------


def _submit_page(entry: public.CatalogEntry, form: dict, errors: dict | None = None, message: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    return render_template("public/submit.html", p=entry, units=public.desk_units(db_session()), form=form,
                           errors=errors or {}, message=message, labels=APPLICANT_LABELS,
                           fields=cases.APPLICANT_FIELDS), status


@bp.get("/thu-tuc/<code>/nop-truc-tuyen")
def submit_form(code: str) -> tuple[str, int]:
    entry = public.catalog_entry(db_session(), code)
    if not entry.online:
        raise NotFound(f"procedure {code} is not online")
    return _submit_page(entry, {})


@bp.post("/thu-tuc/<code>/nop-truc-tuyen")
@limiter.limit(_submit_limit)
def submit(code: str) -> tuple[str, int]:
    s = db_session()
    entry = public.catalog_entry(s, code)
    form = {k: request.form.get(k, "").strip() for k in (*cases.APPLICANT_FIELDS, "unit", "request")}
    try:
        case = public.submit_online(s, code, form["unit"], form, {"noi_dung_yeu_cau": form["request"]}
                                    if form["request"] else {}, _uploads(), _settings().documents_path,
                                    _settings().max_upload_mb * 1024 * 1024)
    except Invalid as e:
        s.rollback()
        errors = e.details if isinstance(e.details, dict) else {}
        return _submit_page(entry, form, errors, e.message, 422)
    s.commit()
    _deliver(_pending_notices(case.id))
    link = url_for("public.lookup", code=case.code, secret=case.lookup_secret, _external=True)
    return render_template("public/submitted.html", case=case, p=entry, unit=case.receiving_unit, link=link), 201


# --- rating ---------------------------------------------------------------------------------------


@bp.route("/danh-gia", methods=["GET", "POST"])
@limiter.limit(_lookup_limit, exempt_when=_no_lookup_params)
def rate() -> tuple[str, int] | Response:
    s = db_session()
    code = (request.values.get("code") or "").strip()
    secret = (request.values.get("secret") or "").strip()
    try:
        info = public.lookup(s, code, secret)
    except NotFound:
        return render_template("public/lookup.html", code=code, secret="", result=None,
                               error=_("Không tìm thấy hồ sơ. Hãy kiểm tra lại mã hồ sơ và mã tra cứu.")), 404
    if request.method == "GET":
        return render_template("public/rate.html", info=info, code=code, secret=secret, criteria=reports.CRITERIA,
                               scores={}, errors={}, message=None), 200
    scores = {k: request.form.get(k) for k, _label in reports.CRITERIA}
    try:
        public.rate(s, code, secret, scores, request.form.get("comment", ""))
    except (Invalid, Conflict) as e:
        s.rollback()
        return render_template("public/rate.html", info=info, code=code, secret=secret, criteria=reports.CRITERIA,
                               scores=scores, errors=e.details if isinstance(e.details, dict) else {},
                               message=e.message), e.status
    s.commit()
    flash(_("Cảm ơn ông/bà đã đánh giá việc giải quyết hồ sơ."), "success")
    return redirect(url_for("public.lookup", code=code, secret=secret))


# --- the desk's side of online dossiers -----------------------------------------------------------


def clerk_required(view: Any) -> Any:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.user.can("receives_dossiers"):
            raise Forbidden("online dossiers are answered by the one-stop desk")
        return view(*args, **kwargs)

    return wrapper


@bp.get("/reception/online")
@clerk_required
def online_inbox() -> str:
    s = db_session()
    pending = public.pending_online(s, current_user.user)
    docs = documents.for_cases(s, [c.id for c in pending])
    return render_template("public/online_inbox.html", pending=pending, docs=docs, statuses=cases.STATUS)


@bp.post("/reception/online/<code>")
@clerk_required
def online_answer(code: str) -> Response:
    s = db_session()
    user, action = current_user.user, request.form.get("action", "")
    try:
        if action == "accept":
            case = public.accept_online(s, user, code)
            message = _("Đã tiếp nhận hồ sơ %(code)s; hẹn trả kết quả %(due)s.", code=code,
                        due=vn_datetime(case.due_at))
        elif action == "supplement":
            missing = [m for m in request.form.get("missing", "").splitlines() if m.strip()]
            case = public.request_supplement_online(s, user, code, missing, request.form.get("note", ""))
            message = _("Đã yêu cầu bổ sung hồ sơ %(code)s.", code=code)
        elif action == "refuse":
            case = public.refuse_online(s, user, code, request.form.get("reason", ""))
            message = _("Đã từ chối tiếp nhận hồ sơ %(code)s.", code=code)
        else:
            raise Invalid("unknown action")
    except (Invalid, Conflict) as e:
        s.rollback()
        flash(e.message, "error")
        return redirect(url_for("public.online_inbox"))
    s.commit()
    _deliver(_pending_notices(case.id))
    flash(message, "success")
    if action == "accept":
        return redirect(f"/cases/{code}")
    return redirect(url_for("public.online_inbox"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    limiter.init_app(app)
