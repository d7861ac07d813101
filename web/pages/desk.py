"""The one-stop desk — Bộ phận Một cửa: check a dossier against the procedure's list and accept it (Mẫu 01),
ask for what is missing (Mẫu 02) or refuse it (Mẫu 03). Every rule is in engine.cases / engine.documents."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import or_, select

from engine import cases, competence, desk_counts, documents, dossier_checks, pending_uploads, supplements
from engine.deploy import latest_version
from engine.errors import Conflict, Invalid, NotFound
from engine.models import Procedure
from web import dossier_words, labels
from web.pages import db_session
from web.pages.access import capability_required

bp = Blueprint("desk", __name__)

CHANNEL_LABELS = {"desk": _l("Trực tiếp tại Bộ phận Một cửa"), "post": _l("Qua dịch vụ bưu chính công ích"),
                  "online": _l("Trực tuyến (dịch vụ công)")}
RETURN_LABELS = labels.RETURN_CHANNELS
PROXY_LABELS = {"name": _l("Họ và tên người được ủy quyền"), "id_number": _l("Số định danh cá nhân"),
                "address": _l("Địa chỉ"), "authorisation": _l("Giấy tờ ủy quyền")}
APPLICANT_LABELS = {"name": _l("Họ và tên người nộp"), "id_number": _l("Số định danh cá nhân / CCCD"),
                    "address": _l("Địa chỉ"), "phone": _l("Số điện thoại"), "email": _l("Thư điện tử")}


clerk_required = capability_required("receives_dossiers", "the desk is for one-stop clerks")

# What the desk counts (engine.desk_counts): label and the page that lists it. A counter without an entry here
# is shown with a generic label, so a counter added in the engine never breaks the page.
DESK_COUNT_LABELS = {
    "online_waiting": (_l("Hồ sơ trực tuyến chờ tiếp nhận"), "public.online_inbox"),
    "results_to_return": (_l("Kết quả chờ trả cho người nộp"), "inbox.inbox"),
    "supplements_received": (_l("Hồ sơ bổ sung đã nhận"), "public.online_inbox"),
}
# Navigation entries that carry a count: endpoint → the counters summed on its badge.
NAV_COUNTS = {"desk.reception": ("results_to_return", "supplements_received"),
              "public.online_inbox": ("online_waiting",)}


def counts_for_user() -> dict[str, int]:
    """The desk's counts, computed once per request (the navigation and the page both show them)."""
    if "desk_counts" not in g:
        g.desk_counts = desk_counts.desk_counts(db_session(), current_user.user) \
            if current_user.is_authenticated else {}
    return g.desk_counts


@bp.app_context_processor
def _desk_badges() -> dict:
    def nav_count(endpoint: str) -> int:
        keys = NAV_COUNTS.get(endpoint)
        return sum(counts_for_user().get(k, 0) for k in keys) if keys else 0

    def desk_count_rows() -> list[tuple[str, str, str, int]]:
        """(key, label, url, count) of every desk counter, for the reception page."""
        rows = []
        for key, n in counts_for_user().items():
            label, endpoint = DESK_COUNT_LABELS.get(key, (_l("Việc khác chờ Bộ phận Một cửa"), "inbox.inbox"))
            url = url_for(endpoint) if endpoint in current_app.view_functions else url_for("inbox.inbox")
            rows.append((key, str(label), url, n))
        return rows

    return {"nav_count": nav_count, "desk_count_rows": desk_count_rows}


def _procedures(q: str) -> list[Procedure]:
    stmt = select(Procedure).where(Procedure.active.is_(True)).order_by(Procedure.field, Procedure.name)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Procedure.name.ilike(like), Procedure.code.ilike(like), Procedure.field.ilike(like)))
    return list(db_session().scalars(stmt))


def _procedure(code: str | None) -> Procedure | None:
    if not code:
        return None
    proc = db_session().scalar(select(Procedure).where(Procedure.code == code, Procedure.active.is_(True)))
    if proc is None:
        raise NotFound(f"procedure {code} not found")
    return proc


def _render(proc: Procedure | None, form: dict, errors: dict[str, Any] | None = None,
            message: str | None = None, status: int = 200, supplement: dict | None = None,
            held: pending_uploads.Held | None = None) -> tuple[str, int]:
    q = request.args.get("q", "").strip()
    s, unit = db_session(), current_user.user.unit
    version = latest_version(s, proc.id) if proc is not None else None
    # NĐ 118/2025: the desk names the unit competent to decide. Left empty, a commune-level procedure goes to
    # the commune the applicant's address names, else the receiving unit (engine.competence.choose).
    competent = competence.choices(s, version, unit) if version is not None else []
    by_address = version is not None and competence.decided_by_residence(s, version)
    form.setdefault("competent_unit", unit.code if not by_address and any(u.id == unit.id for u in competent) else "")
    held = held or pending_uploads.load(_settings().documents_path, None, _scope())
    targets = {**{f: (f"ap-{f}", APPLICANT_LABELS[f]) for f in cases.APPLICANT_FIELDS},
               "competent_unit": ("competent-unit", _("Đơn vị có thẩm quyền giải quyết")),
               "note": ("note", _("Ghi chú, lý do")), "missing_extra": ("missing_extra", _("Giấy tờ cần bổ sung")),
               "documents": ("file-other", _("Tệp khác")),
               **{f"documents.{d['code']}": (f"doc-{d['code']}", d["name"]) for d in (proc.documents if proc else [])}}
    return render_template("desk/reception.html", procedures=_procedures(q), q=q, proc=proc, form=form,
                           errors=errors or {}, message=message, channels=CHANNEL_LABELS,
                           applicant_labels=APPLICANT_LABELS, applicant_fields=cases.APPLICANT_FIELDS,
                           competent_units=competent, competent_by_address=by_address,
                           return_channels=RETURN_LABELS,
                           proxy_labels=PROXY_LABELS, supplement=supplement, held=pending_uploads.describe(held),
                           targets=targets), status


def _supplement(code: str | None) -> dict | None:
    """The incomplete dossier (Mẫu 02) this reception completes — tiếp nhận bổ sung — if any."""
    return supplements.prefill(db_session(), current_user.user, code) if code else None


def _settings() -> Any:
    return current_app.config["MOTCUA"]


def _scope() -> str:
    """Scans held for a refused desk form are the clerk's own: another account's form does not see them."""
    return f"desk:{current_user.user.id}"


@bp.get("/reception")
@clerk_required
def reception() -> tuple[str, int]:
    first = _supplement(request.args.get("supplement_of"))
    if first is not None:  # the form as the desk left it, for the clerk to add what was missing
        return _render(_procedure(first["procedure"]), dict(first["form"]), supplement=first)
    proc = _procedure(request.args.get("procedure"))
    return _render(proc, {"channel": "desk", "docs": []})


@bp.post("/reception")
@clerk_required
def submit() -> Response | tuple[str, int]:
    proc = _procedure(request.form.get("procedure"))
    if proc is None:
        return _render(None, {}, message=_("Hãy chọn thủ tục hành chính trước."), status=422)
    form = {k: request.form.get(k, "").strip() for k in (*cases.APPLICANT_FIELDS, "channel", "note", "missing_extra",
                                                         "competent_unit", "return_channel",
                                                         *(f"proxy_{f}" for f in PROXY_LABELS))}
    form["docs"] = request.form.getlist("docs")
    proxy = {f: form[f"proxy_{f}"] for f in PROXY_LABELS if form[f"proxy_{f}"]}
    applicant = {k: form[k] for k in cases.APPLICANT_FIELDS}
    action = request.form.get("action", "")
    user = current_user.user
    s = db_session()
    first = _supplement(request.form.get("supplement_of") or None)
    kept = {"documents_received": form["docs"], "proxy": proxy, "competent_unit": form["competent_unit"],
            "return_channel": form["return_channel"]}
    root, limit = _settings().documents_path, _settings().max_upload_mb * 1024 * 1024
    # Scans are held first: a form sent back for a wrong phone number keeps them (engine.pending_uploads).
    held = pending_uploads.hold(root, request.form.get("pending"), _scope(), _uploads(), limit)
    try:
        if action == "accept":
            data: dict[str, Any] = {"proxy": proxy} if proxy else {}  # printed on the TT 03/2025 forms
            # Every problem at once (engine.dossier_checks): applicant fields, each missing document, each file.
            # Tiếp nhận bổ sung receives the same way, linked to the first attempt (engine.supplements).
            receive = (partial(supplements.receive_at_desk, s, user, first["case"].code) if first is not None
                       else partial(cases.receive, s, user, proc.code))
            case = receive(applicant, data, channel=form["channel"] or "desk",
                           competent_unit=form["competent_unit"] or None,
                           return_channel=form["return_channel"] or None, documents=form["docs"], held=held)
            pending_uploads.attach(s, root, case, user, held, limit)
            slip, text = "01", _("Đã tiếp nhận hồ sơ %(code)s. In Giấy tiếp nhận và hẹn trả kết quả (Mẫu 01).",
                                 code=case.code)
        elif action == "incomplete":
            extra = [line.strip() for line in form["missing_extra"].splitlines() if line.strip()]
            missing = documents.missing_required(proc, form["docs"] + [c for c in held.codes if c]) + extra
            if not missing:
                return _render(proc, form, errors={"missing_extra": _("Ghi rõ giấy tờ cần bổ sung, hoàn thiện.")},
                               message=_("Hồ sơ đã đủ giấy tờ bắt buộc; ghi rõ giấy tờ cần bổ sung, hoàn thiện."),
                               status=422, held=held)
            case = cases.record_intake_outcome(s, user, proc.code, applicant, "incomplete", form["note"],
                                               missing=missing, channel=form["channel"] or "desk", kept=kept)
            # The scans stay with the incomplete dossier for the day the applicant comes back (tiếp nhận bổ sung).
            pending_uploads.attach(s, root, case, user, held, limit)
            slip, text = "02", _("Đã lập Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ %(code)s (Mẫu 02).", code=case.code)
        elif action == "refuse":
            if not form["note"]:
                return _render(proc, form, errors={"note": _("Ghi rõ lý do từ chối tiếp nhận.")},
                               message=_("Ghi rõ lý do từ chối tiếp nhận."), status=422, held=held)
            case = cases.record_intake_outcome(s, user, proc.code, applicant, "refused", form["note"],
                                               channel=form["channel"] or "desk")
            pending_uploads.release_on_commit(s, root, held)
            slip, text = "03", _("Đã lập Phiếu từ chối tiếp nhận hồ sơ %(code)s (Mẫu 03).", code=case.code)
        else:
            return _render(proc, form, message=_("Chọn một trong ba kết quả tiếp nhận."), status=422, held=held)
        s.commit()
    except Invalid as e:
        s.rollback()
        errors = dossier_words.field_errors(e.details, prefix="applicant.")
        if errors.get("name") == dossier_words.word(dossier_checks.REQUIRED):
            errors["name"] = _("Nhập họ và tên người nộp hồ sơ.")
        missing = [d["name"] for d in proc.documents if f"documents.{d['code']}" in errors]
        if missing:  # the way forward when papers are missing: Mẫu 02 lists them for the applicant
            message = _("Hồ sơ còn thiếu giấy tờ bắt buộc: %(docs)s. Chọn “Yêu cầu bổ sung” để in phiếu hướng dẫn "
                        "(Mẫu 02).", docs="; ".join(missing))
        elif any(k in errors for k in (*cases.APPLICANT_FIELDS, "documents")) or \
                any(k.startswith("documents.") for k in errors):
            message = ngettext("Chưa lưu: có %(num)d mục cần sửa, ghi bên cạnh từng mục.",
                               "Chưa lưu: có %(num)d mục cần sửa, ghi bên cạnh từng mục.", len(errors))
        else:
            message = _("Chưa lưu: %(msg)s", msg=_translate(e.message))
        return _render(proc, form, errors=errors, message=message, status=422, held=held, supplement=first)
    except Conflict as e:  # another clerk received this supplement first
        s.rollback()
        return _render(proc, form, message=e.message, status=409, held=held)
    flash(text, "success")
    return redirect(url_for("case_view.case", code=case.code, slip=slip))


def _translate(message: str) -> str:
    return _("Nhập họ và tên người nộp hồ sơ.") if message == cases.NAME_REQUIRED else message


def _uploads() -> list[pending_uploads.Upload]:
    """The scans of the form: one per document row (file_<code>) and any others (file_other)."""
    out = []
    for field, files in request.files.lists():
        doc_code = field[5:] if field.startswith("file_") and field != "file_other" else None
        out += [pending_uploads.Upload(doc_code, f.filename, f.stream) for f in files if f and f.filename]
    return out
