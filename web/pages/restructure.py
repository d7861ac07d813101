"""/admin/restructure (upload a plan, see the preview, apply it) and /designer/<procedure>/migrate/<version>
("chuyển hồ sơ đang chạy sang phiên bản N", with the preview). Thin: engine.restructure and
engine.migrate_cases decide; these pages show what they answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import migrate_cases, restructure
from engine.errors import MotcuaError
from engine.restructure_plan import parse_toml
from web.pages import db_session

bp = Blueprint("restructure", __name__)
MAX_PLAN_BYTES = 2 * 1024 * 1024


def _require(capability: str | None) -> None:
    user = current_user.user
    if not (user.has_role("admin") if capability is None else user.can(capability)):
        abort(403)


def _plan_text() -> str:
    upload = request.files.get("plan_file")
    if upload is not None and upload.filename:
        data = upload.read(MAX_PLAN_BYTES + 1)
        if len(data) > MAX_PLAN_BYTES:
            raise MotcuaError("tệp kế hoạch quá lớn")
        return data.decode("utf-8", errors="replace")
    return request.form.get("plan", "")[:MAX_PLAN_BYTES]


@bp.route("/admin/restructure", methods=["GET", "POST"])
@login_required
def plan_page() -> Any:
    _require(None)
    text, preview, error = "", None, None
    if request.method == "POST":
        text = _plan_text()
        s = db_session()
        try:
            plan = parse_toml(text)
            if request.form.get("action") == "apply":
                from web import db

                s.close()
                result = restructure.apply(db(), plan, by=current_user.user.username)
                if result.already_applied:
                    flash(_("Kế hoạch này đã được áp dụng trước đó; không thay đổi gì."), "info")
                else:
                    flash(_("Đã áp dụng kế hoạch: %(cases)s hồ sơ, %(items)s bước được chuyển.",
                            cases=result.cases_moved, items=result.items_moved), "success")
                return redirect(url_for("restructure.plan_page"))
            preview = restructure.preview(s, plan).as_dict()
        except MotcuaError as e:
            error = e.message
    return render_template("restructure/plan.html", text=text, preview=preview, error=error)


@bp.route("/designer/<procedure>/migrate/<int:version>", methods=["GET", "POST"])
@login_required
def migrate_page(procedure: str, version: int) -> Any:
    _require("designs")
    s = db_session()
    pairs = [p for p in request.values.get("map", "").split() if p]
    preview, error = None, None
    try:
        mapping = migrate_cases.parse_mapping(pairs)
        if request.method == "POST" and request.form.get("action") == "apply":
            done = migrate_cases.migrate(s, current_user.user, procedure, version, None, mapping)
            s.commit()
            flash(_("Đã chuyển %(n)s hồ sơ sang phiên bản %(v)s.", n=done.as_dict()["movable"], v=version),
                  "success")
            return redirect(url_for("restructure.migrate_page", procedure=procedure, version=version,
                                    map=" ".join(pairs)))
        preview = migrate_cases.preview(s, procedure, version, None, mapping).as_dict()
    except MotcuaError as e:
        s.rollback()
        error = e.message
    return render_template("restructure/migrate.html", procedure=procedure, version=version, preview=preview,
                           error=error, map_text=" ".join(pairs))
