"""The process designer pages (/designer): the list of procedures and their versions, the bpmn-js editor
and the JSON calls it makes (same session and CSRF token as the page). Every rule is in engine.designer."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from engine import designer, procedure_codes
from engine.errors import Invalid, MotcuaError, NotFound
from web.pages import db_session

bp = Blueprint("designer", __name__)


def designer_only(view: Callable) -> Callable:
    """Logged in, with the designer or admin role; everyone else gets the 403 page (or 403 JSON)."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        designer.require_designer(current_user.user)
        return view(*args, **kwargs)

    return wrapper


def _json_error(e: MotcuaError) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": e.code, "message": e.message}
    if isinstance(e.details, dict) and "problems" in e.details:
        body.update(valid=False, problems=e.details["problems"], warnings=e.details.get("warnings", []))
    elif e.details is not None:
        body["details"] = e.details
    return jsonify(body), e.status


def json_call(view: Callable) -> Callable:
    """The editor's fetch() calls: domain errors come back as JSON, not as the error page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except MotcuaError as e:
            db_session().rollback()
            return _json_error(e)

    return wrapper


def _payload() -> tuple[bytes, dict | None]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("bpmn"), str):
        raise Invalid(_("Dữ liệu gửi lên phải là JSON {bpmn, forms}"))
    forms = data.get("forms")
    return data["bpmn"].encode("utf-8"), forms if isinstance(forms, dict) else None


@bp.get("/designer")
@designer_only
def index() -> str:
    s = db_session()
    return render_template("designer/index.html", procedures=designer.list_procedures(s),
                           levels=designer.org_choices(s)["levels"], code_pattern=procedure_codes.HTML_PATTERN)


@bp.post("/designer/new")
@designer_only
def new() -> Any:
    s = db_session()
    code = (request.form.get("code") or "").strip()
    name = (request.form.get("name") or "").strip()
    levels = request.form.getlist("levels")
    try:
        if not name:
            raise Invalid(_("Hãy nhập tên thủ tục"))
        designer.check_code(code)
        if designer.latest(s, code) is not None or designer.get_draft(s, code) is not None:
            raise Invalid(_("Mã thủ tục %(code)s đã có; hãy chọn mã khác", code=code))
        deadline = request.form.get("deadline_days") or "10"
        xml = designer.template(s, code, name, levels, deadline_days=Decimal(deadline))
        designer.save_draft(s, current_user.user, code, xml, {})
    except (Invalid, ArithmeticError, ValueError) as e:
        message = e.message if isinstance(e, Invalid) else _("Thời hạn phải là một số")
        return render_template("designer/index.html", procedures=designer.list_procedures(s),
                               levels=designer.org_choices(s)["levels"], error=message,
                               form=request.form, code_pattern=procedure_codes.HTML_PATTERN), 422
    s.commit()
    return redirect(url_for("designer.edit", procedure=code))


def _messages() -> dict[str, str]:
    """Words the editor's script shows, translated here so the script needs no catalog of its own."""
    words = {
        "group": _("Một cửa (motcua)"), "level": _("Cấp xử lý"), "role": _("Vai trò"), "choose": _("— chọn —"),
        "step_deadline": _("Thời hạn bước (ngày làm việc)"), "step_deadline_hint": _("Ví dụ 2 hoặc 0.5"),
        "form": _("Biểu mẫu"), "no_form": _("— không có —"), "level_override": _("Cấp (ghi đè làn)"),
        "role_override": _("Vai trò (ghi đè làn)"), "from_lane": _("— theo làn —"), "result": _("Kết quả hồ sơ"),
        "approved": _("Giải quyết"), "refused": _("Từ chối"), "none": _("— không —"),
        "legal_deadline": _("Thời hạn giải quyết theo luật (ngày làm việc)"), "unknown": _("không tồn tại"),
        "deadline_required": _("Bắt buộc: số ngày làm việc"),
        "deadline_number": _("Nhập số ngày làm việc, ví dụ 2 hoặc 0.5"),
        "saved": _("Đã lưu bản nháp"), "valid": _("Hợp lệ: có thể triển khai"),
        "invalid": _("Chưa hợp lệ: %(n)s lỗi", n="{n}"), "deployed": _("Đã triển khai phiên bản %(v)s", v="{v}"),
        "confirm_deploy": _("Triển khai bản đang sửa thành phiên bản mới? Hồ sơ đang chạy vẫn theo phiên bản cũ."),
        "import_error": _("Không mở được sơ đồ"), "no_di": _("Tệp không có hình vẽ (DI): đã tự dàn trang"),
        "warnings": _("Cảnh báo"), "added": _("Thêm mới"), "removed": _("Đã bỏ"), "changed": _("Thay đổi"),
        "compare_title": _("So sánh phiên bản %(a)s → %(b)s", a="{a}", b="{b}"),
        "back_to_edit": _("Quay lại bản đang sửa"), "error": _("Lỗi"), "line": _("dòng"),
        "form_saved": _("Đã lưu biểu mẫu vào bản nháp"), "form_name_invalid":
            _("Tên biểu mẫu: chữ thường không dấu, chữ số và dấu _"), "uploaded": _("Đã mở tệp %(f)s", f="{f}"),
        "draft": _("bản nháp"), "version": _("phiên bản"), "nothing_changed": _("Không có khác biệt"),
    }
    return {k: str(v) for k, v in words.items()}


@bp.get("/designer/<procedure>")
@designer_only
def edit(procedure: str) -> str:
    s = db_session()
    designer.check_code(procedure)
    draft = designer.get_draft(s, procedure)
    latest = designer.latest(s, procedure)
    if draft is None and latest is None:
        raise NotFound(_("Không có thủ tục này"))
    info = designer.procedure_versions(s, procedure)
    draft_forms = dict(draft.forms or {}) if draft is not None else {}
    forms = designer.available_forms(s, procedure, draft_forms)
    org = designer.org_choices(s)
    data = {
        "procedure": procedure, "name": info.name,
        "initial": url_for("designer.bpmn", procedure=procedure, version="draft" if draft else latest.version),
        "source": "draft" if draft else latest.version,
        "versions": [{"version": v.version, "deployed_at": v.deployed_at.isoformat(), "cases": v.cases,
                      "deployed_by": v.deployed_by} for v in info.versions],
        "has_draft": draft is not None, "levels": org["levels"], "roles": org["roles"],
        "forms": sorted(forms), "form_schemas": forms, "draft_forms": draft_forms,
        "urls": {"draft": url_for("designer.save", procedure=procedure),
                 "validate": url_for("designer.check", procedure=procedure),
                 "deploy": url_for("designer.deploy", procedure=procedure),
                 "diff": url_for("designer.diff", procedure=procedure),
                 "bpmn": url_for("designer.bpmn", procedure=procedure, version="__V__")},
        "messages": _messages(),
    }
    return render_template("designer/editor.html", info=info, draft=draft, data=data)


@bp.get("/designer/<procedure>/bpmn/<version>")
@designer_only
def bpmn(procedure: str, version: str) -> Response:
    s = db_session()
    if version == "draft":
        draft = designer.get_draft(s, procedure)
        if draft is None:
            raise NotFound(_("Không có bản nháp"))
        xml, name = draft.bpmn_xml, f"{procedure}_nhap.bpmn"
    elif version.isdigit():
        xml, name = designer.get_version(s, procedure, int(version)).bpmn_xml, f"{procedure}_v{version}.bpmn"
    else:
        raise NotFound(_("Không có phiên bản này"))
    headers = {"Content-Disposition": f'attachment; filename="{name}"'} if request.args.get("download") else {}
    return Response(xml, mimetype="application/xml", headers=headers)


def editor_post(rule: str) -> Callable[[Callable], Callable]:
    """A POST the editor makes with what is on screen ({bpmn, forms}): designers only, errors as JSON; the
    view gets the request's session, the procedure and the payload."""

    def register(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(procedure: str) -> Any:
            xml, forms = _payload()
            return view(db_session(), procedure, xml, forms)

        return bp.post(rule)(designer_only(json_call(wrapper)))

    return register


@editor_post("/designer/<procedure>/draft")
def save(s: Session, procedure: str, xml: bytes, forms: dict | None) -> Response:
    draft = designer.save_draft(s, current_user.user, procedure, xml, forms)
    s.commit()
    return jsonify({"saved": True, "updated_at": draft.updated_at.isoformat()})


@editor_post("/designer/<procedure>/validate")
def check(s: Session, procedure: str, xml: bytes, forms: dict | None) -> Response:
    draft = designer.get_draft(s, procedure)
    extra = {**((draft.forms or {}) if draft else {}), **(forms or {})}
    v = designer.validate(s, xml, f"{procedure}.bpmn", code=procedure, forms=extra)
    return jsonify(v.as_json())


@editor_post("/designer/<procedure>/deploy")
def deploy(s: Session, procedure: str, xml: bytes, forms: dict | None) -> Response:
    """Save what is on screen as the draft, then deploy the draft as the next version."""
    designer.save_draft(s, current_user.user, procedure, xml, forms)
    pv = designer.deploy_draft(s, current_user.user, procedure)
    s.commit()
    info = designer.procedure_versions(s, procedure)
    return jsonify({"procedure": procedure, "version": pv.version, "warnings": pv.warnings,
                    "versions": [{"version": v.version, "deployed_at": v.deployed_at.isoformat(), "cases": v.cases,
                                  "deployed_by": v.deployed_by} for v in info.versions]})


@bp.get("/designer/<procedure>/diff")
@designer_only
@json_call
def diff(procedure: str) -> Response:
    s = db_session()
    try:
        old = int(request.args.get("from", ""))
        new_arg = request.args.get("to", "")
        new: int | str = new_arg if new_arg == "draft" else int(new_arg)
    except ValueError:
        raise Invalid(_("Chọn hai phiên bản để so sánh")) from None
    return jsonify(designer.diff_versions(s, procedure, old, new).as_json())

