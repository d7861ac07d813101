"""The citizen's pages, no login: /tra-cuu (lookup by code + secret), /thu-tuc (public catalog), online
submission, the rating (/danh-gia); and the desk's page for online dossiers (/reception/online).
Every rule lives in engine.public; the allowances in engine.throttle (web.ratelimit wires the shared store).
Secrets travel in POST bodies only: GET shows the empty form (a QR code or link may fill in the code)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from engine import cases, documents, notifications, pending_uploads, public, reports
from engine.errors import Conflict, Invalid, NotFound
from engine.throttle import Exhausted
from web import dossier_words, labels, ratelimit
from web.pages import db_session, vn_datetime
from web.pages.access import capability_required

bp = Blueprint("public", __name__)

APPLICANT_LABELS = {"name": _l("Họ và tên"), "id_number": _l("Số định danh cá nhân / CCCD"), "address": _l("Địa chỉ"),
                    "phone": _l("Số điện thoại"), "email": _l("Thư điện tử")}


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


def _uploads() -> list[pending_uploads.Upload]:
    out = []
    for key, storage in request.files.items(multi=True):
        if storage and storage.filename:
            code = key[4:] if key.startswith("doc_") else None
            out.append(pending_uploads.Upload(code, storage.filename, storage.stream))
    return out


def _typed() -> tuple[str, str]:
    """Code and secret from the POST body only: a secret in a URL ends up in access logs and histories."""
    return (request.form.get("code") or "").strip(), (request.form.get("secret") or "").strip()


def _checked(action: str, code: str, secret: str) -> dict:
    """The case's public view after one secret check against the shared allowance (Exhausted when it is
    used up); a right secret gives its try back, so only wrong guesses count."""
    attempt = ratelimit.secret_check(action)
    info = public.lookup(db_session(), code, secret)
    attempt.refund()
    return info


def _lookup_page(code: str = "", secret: str = "", result: dict | None = None, error: str | None = None,
                 status: int = 200, action: str = "public.lookup", results: dict | None = None) -> tuple[str, int]:
    return render_template("public/lookup.html", code=code, secret=secret, result=result, error=error,
                           statuses=cases.STATUS, action=action, results=results), status


def _too_many(e: Exhausted, code: str, secret: str, action: str = "public.lookup") -> tuple[str, int]:
    """429 naming what was stopped, with what the citizen typed still in the form."""
    return _lookup_page(code, secret, error=ratelimit.message(e), status=429, action=action)


# --- lookup ---------------------------------------------------------------------------------------


@bp.get("/tra-cuu")
def lookup_form() -> tuple[str, int]:
    """The empty form; a QR code or link carries the code only (never the secret), which is filled in."""
    return _lookup_page(code=(request.args.get("code") or "").strip()[:64])


@bp.post("/tra-cuu")
def lookup() -> tuple[str, int]:
    code, secret = _typed()
    if not code or not secret:
        return _lookup_page(code, secret, error=_("Hãy nhập cả mã hồ sơ và mã tra cứu."), status=422)
    try:
        result = _checked("lookup", code, secret)
    except Exhausted as e:
        return _too_many(e, code, secret)
    except NotFound:
        return _lookup_page(code, error=_("Không tìm thấy hồ sơ. Hãy kiểm tra lại mã hồ sơ và mã tra cứu "
                                          "in trên giấy tiếp nhận."), status=404)
    from web.api_casefile import results_json

    s = db_session()
    results = results_json(s, public.find_case(s, code, secret))
    return _lookup_page(code, secret, result, results=results if results["documents"] else None)


@bp.post("/tra-cuu/bo-sung")
def supplement() -> tuple[str, int]:
    code, secret = _typed()
    s = db_session()
    try:
        _checked("supplement", code, secret)
        public.supplement_online(s, code, secret, request.form.get("note", ""), _uploads(),
                                 _settings().documents_path, _settings().max_upload_mb * 1024 * 1024)
    except Exhausted as e:
        return _too_many(e, code, secret)
    except NotFound:
        return _lookup_page(code, error=_("Không tìm thấy hồ sơ."), status=404)
    except (Invalid, Conflict) as e:
        s.rollback()
        return _lookup_page(code, secret, public.lookup(s, code, secret), e.message, e.status)
    s.commit()
    # Rendered here rather than redirected: the way back to the status would need the secret in the URL.
    flash(_("Đã gửi giấy tờ bổ sung. Bộ phận Một cửa sẽ kiểm tra lại hồ sơ."), "success")
    return _lookup_page(code, secret, public.lookup(s, code, secret))


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


def _submit_page(entry: public.CatalogEntry, form: dict, held: pending_uploads.Held, errors: dict | None = None,
                 message: str | None = None, status: int = 200) -> tuple[str, int]:
    errors = errors or {}
    # Where each error's field is, for the list at the top (names of documents are data, shown escaped).
    targets = {**{f: (f"ap-{f}", APPLICANT_LABELS[f]) for f in cases.APPLICANT_FIELDS},
               "unit": ("unit", _("Bộ phận Một cửa của xã, phường")),
               "competent_unit": ("competent-unit", _("Xã, phường giải quyết hồ sơ")),
               "return_channel": ("return-channel", _("Nơi nhận kết quả")),
               "request": ("request", _("Nội dung yêu cầu")), "documents": ("documents", _("Giấy tờ")),
               **{f"documents.{d['code']}": (f"doc-{d['code']}", d["name"]) for d in entry.documents}}
    return render_template("public/submit.html", p=entry, units=public.desk_units(db_session()), form=form,
                           competent_units=public.competent_choices(db_session(), entry.code),
                           errors=errors, message=message, labels=APPLICANT_LABELS, fields=cases.APPLICANT_FIELDS,
                           held=pending_uploads.describe(held), targets=targets,
                           return_channels=labels.RETURN_CHANNELS), status


def _scope(code: str) -> str:
    """Files held for one procedure's online form are not offered to another form."""
    return f"online:{code}"


@bp.get("/thu-tuc/<code>/nop-truc-tuyen")
def submit_form(code: str) -> tuple[str, int]:
    entry = public.catalog_entry(db_session(), code)
    if not entry.online:
        raise NotFound(f"procedure {code} is not online")
    return _submit_page(entry, {}, pending_uploads.load(_settings().documents_path, None, _scope(code)))


@bp.post("/thu-tuc/<code>/nop-truc-tuyen")
def submit(code: str) -> tuple[str, int]:
    s = db_session()
    entry = public.catalog_entry(s, code)
    if not entry.online:  # before anything is held for it
        raise NotFound(f"procedure {code} is not online")
    form = {k: request.form.get(k, "").strip() for k in (*cases.APPLICANT_FIELDS, "unit", "request",
                                                         "competent_unit", "return_channel")}
    root, limit = _settings().documents_path, _settings().max_upload_mb * 1024 * 1024
    token = request.form.get("pending", "")
    if request.content_length is None:
        return _submit_page(entry, form, pending_uploads.load(root, token, _scope(code)), None,
                            _("Trình duyệt cần gửi kèm độ dài hồ sơ (Content-Length)."), 411)
    try:
        taken = ratelimit.online_submission(request.content_length)
    except Exhausted as e:
        # Nothing new is held for a client over its allowance; what was held before is still offered.
        return _submit_page(entry, form, pending_uploads.load(root, token, _scope(code)), None,
                            ratelimit.message(e), 429)
    held = pending_uploads.hold(root, token, _scope(code), _uploads(), limit)
    try:
        case = public.submit_online(s, code, form["unit"], form, {"noi_dung_yeu_cau": form["request"]}
                                    if form["request"] else {}, [], root, limit,
                                    competent_unit=form["competent_unit"] or None,
                                    return_channel=form["return_channel"] or None, held=held)
        s.commit()
    except BaseException as e:
        # Only accepted dossiers use up the count: a form sent back for correction gives it back. The bytes of
        # files now held on the server stay counted (they are not sent again), so holding cannot fill the disk.
        for reservation in taken[:1] if held.added_bytes else taken:
            reservation.refund()
        if not isinstance(e, Invalid):
            raise
        s.rollback()
        errors = dossier_words.field_errors(e.details, {"data.noi_dung_yeu_cau": "request"})
        message = ngettext("Hồ sơ chưa gửi được: có %(num)d mục cần sửa, ghi ngay dưới từng mục.",
                           "Hồ sơ chưa gửi được: có %(num)d mục cần sửa, ghi ngay dưới từng mục.",
                           len(errors)) if errors else e.message
        return _submit_page(entry, form, held, errors, message, 422)
    _deliver(_pending_notices(case.id))
    link = url_for("public.lookup_form", code=case.code, _external=True)
    return render_template("public/submitted.html", case=case, p=entry, unit=case.receiving_unit, link=link), 201


# --- rating ---------------------------------------------------------------------------------------


@bp.get("/danh-gia")
def rate_form() -> tuple[str, int]:
    return _lookup_page(code=(request.args.get("code") or "").strip()[:64], action="public.rate")


@bp.post("/danh-gia")
def rate() -> tuple[str, int]:
    """Code and secret open the rating form; the form (marked `rating`) sends the scores with them."""
    s = db_session()
    code, secret = _typed()
    sending = request.form.get("rating") == "1"
    scores = {k: request.form.get(k) for k, _label in reports.CRITERIA} if sending else {}
    comment = request.form.get("comment", "")
    try:
        info = _checked("rate", code, secret)
    except Exhausted as e:
        if not sending:
            return _too_many(e, code, secret, action="public.rate")
        placeholder = {"code": code, "procedure": "", "can_rate": True}  # keep the scores typed
        return _rate_page(placeholder, code, secret, scores, comment, {}, ratelimit.message(e), 429)
    except NotFound:
        return _lookup_page(code, error=_("Không tìm thấy hồ sơ. Hãy kiểm tra lại mã hồ sơ và mã tra cứu."),
                            status=404, action="public.rate")
    if not sending:
        return _rate_page(info, code, secret, {}, "", {}, None, 200)
    try:
        public.rate(s, code, secret, scores, comment)
    except (Invalid, Conflict) as e:
        s.rollback()
        return _rate_page(info, code, secret, scores, comment, e.details if isinstance(e.details, dict) else {},
                          e.message, e.status)
    s.commit()
    flash(_("Cảm ơn ông/bà đã đánh giá việc giải quyết hồ sơ."), "success")
    return _lookup_page(code, secret, public.lookup(s, code, secret))


def _rate_page(info: dict, code: str, secret: str, scores: dict, comment: str, errors: dict, message: str | None,
               status: int) -> tuple[str, int]:
    return render_template("public/rate.html", info=info, code=code, secret=secret, criteria=reports.CRITERIA,
                           scores=scores, comment=comment, errors=errors, message=message), status


# --- the desk's side of online dossiers -----------------------------------------------------------


clerk_required = capability_required("receives_dossiers", "online dossiers are answered by the one-stop desk")


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
