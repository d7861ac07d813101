"""/admin/incidents: the cases stuck on a routing error or a failing script, with a retry button per case
(the rules are engine.incidents; this page only lists and forwards)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import incidents
from engine.errors import Conflict, NotFound
from web.pages import db_session, page_write
from web.pages.access import require_admin as _require_admin

bp = Blueprint("incidents", __name__)



@bp.get("/admin/incidents")
@login_required
def index() -> str:
    _require_admin()
    rows = incidents.stuck_cases(db_session(), current_user.user)
    return render_template("incidents/index.html", rows=rows)


@bp.post("/admin/incidents/<code>/retry")
@login_required
def retry(code: str) -> Response:
    _require_admin()
    with page_write(Conflict, NotFound) as write:
        done = incidents.retry(db_session(), current_user.user, code)
        steps = ", ".join(f"{w.name} ({w.unit.name})" for w in done.new_steps)
        write.say(_("Hồ sơ %(code)s đã được xử lý lại: %(steps)s", code=code, steps=steps or "—"))
    return redirect(url_for("incidents.index"))
