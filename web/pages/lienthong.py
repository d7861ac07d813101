"""/admin/lienthong: this system's identity, its partner systems (add one) and the messages still waiting to
be delivered, with a retry button for those given up on. The rules are engine.partners and
engine.lienthong_outbox; this page lists and forwards."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import lienthong_outbox, partners
from engine.errors import Conflict, Invalid, NotFound
from engine.models import Case, OutboxMessage
from web.pages import db_session, page_write

bp = Blueprint("lienthong", __name__)


def _require_admin() -> None:
    if not current_user.user.has_role("admin"):
        abort(403)


@bp.get("/admin/lienthong")
@login_required
def index() -> str:
    _require_admin()
    s = db_session()
    identity = partners.load_identity(current_app.config["MOTCUA"].instance_path)
    waiting = s.execute(select(OutboxMessage, Case.code).outerjoin(Case, Case.id == OutboxMessage.case_id)
                        .where(OutboxMessage.state != "delivered").order_by(OutboxMessage.id).limit(200)).all()
    return render_template("lienthong/index.html", identity=identity, partners=partners.list_partners(s),
                           waiting=waiting, errors={}, form={})


@bp.post("/admin/lienthong/partners")
@login_required
def add() -> Response | tuple[str, int]:
    _require_admin()
    s = db_session()
    form = {k: request.form.get(k, "") for k in ("code", "name", "url", "kind", "key", "unit_code")}
    try:
        partners.add_partner(s, form["code"], form["name"], form["url"], form["kind"] or "system", form["key"],
                             form["unit_code"] or None, current_user.user)
        s.commit()
    except (Invalid, Conflict) as e:
        s.rollback()
        errors = e.details if isinstance(e.details, dict) else {}
        identity = partners.load_identity(current_app.config["MOTCUA"].instance_path)
        page = render_template("lienthong/index.html", identity=identity, partners=partners.list_partners(s),
                               waiting=[], errors=errors, form=form, problem=e.message)
        return page, 422 if isinstance(e, Invalid) else 409
    flash(_("Đã thêm hệ thống liên thông %(code)s", code=form["code"]), "success")
    return redirect(url_for("lienthong.index"))


@bp.post("/admin/lienthong/outbox/<int:outbox_id>/retry")
@login_required
def retry(outbox_id: int) -> Response:
    _require_admin()
    with page_write(Conflict, NotFound) as write:
        lienthong_outbox.retry(db_session(), current_user.user, outbox_id)
        write.say(_("Thư liên thông %(id)s sẽ được gửi lại", id=outbox_id))
    return redirect(url_for("lienthong.index"))
