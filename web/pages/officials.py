"""Officials' everyday work as pages: a head assigns a step (phân công) and sees the unit's load, officials
name deputies (ủy quyền), everyone who sees a case comments on it (trao đổi). The rules are the engine's
(engine.assignment, engine.delegation, engine.comments); this module shows and forwards."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import (
    assignment,
    bulk,
    cases,
    comments,
    delegation,
    followups,
    heatmap,
    saved_views,
    score766,
)
from engine.calendar import VN_TZ
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Case, Procedure, User, WorkItem
from web.pages import db_session, page_write
from web.security import safe_next

bp = Blueprint("officials", __name__)


def task_extras(s: Any, user: User, item: WorkItem) -> dict:
    """What the task page adds: the official a deputy acts for, the assignment in force, and for a head of
    the step's unit the officials it may be given to."""
    is_open = item.state == "open"
    heads = is_open and assignment.is_head_of(user, item.unit_id)
    # The head chooses knowing each candidate's open and overdue steps (the unit's load, one query).
    load = {p.username: p for p in assignment.unit_load(s, user, item.unit.code).people} if heads else {}
    return {"acting_for": delegation.acting_for(s, user, item) if is_open else None,
            "assignment": assignment.current(s, [item.id]).get(item.id),
            "assign_to": assignment.candidates(s, item) if heads else [],
            "assign_load": load,
            "due_day": item.due_at.astimezone(VN_TZ).date().isoformat() if item.due_at else None,
            "follow_up": followups.mine(s, user, [item.id]).get(item.id) if is_open else None}


def case_extras(s: Any, user: User, case: Case) -> dict:
    """The case page's comments and who may be mentioned (officials of the units on the case's path)."""
    units = comments.path_unit_ids(s, case)
    people = list(s.scalars(select(User).where(User.unit_id.in_(units), User.active.is_(True), User.id != user.id)
                            .order_by(User.unit_id, User.full_name)))
    return {"case_comments": comments.for_case(s, case), "mentionable": people}


@bp.post("/tasks/<int:item_id>/assign")
@login_required
def assign(item_id: int) -> Response:
    with page_write(Invalid, Conflict, Forbidden, NotFound) as write:
        row = assignment.assign(db_session(), current_user.user, item_id, request.form.get("username"),
                                request.form.get("note"), request.form.get("target") or None)
        write.say(_("Đã giao việc cho %(name)s.", name=row.assignee.full_name))
    return redirect(url_for("inbox.task", item_id=item_id))


@bp.get("/units/load")
@login_required
def my_load() -> Response:
    return redirect(url_for("officials.load", code=current_user.user.unit.code))


@bp.get("/units/<code>/load")
@login_required
def load(code: str) -> str:
    data = assignment.unit_load(db_session(), current_user.user, code)
    return render_template("officials/load.html", load=data)


@bp.get("/delegations")
@login_required
def delegations() -> str:
    s, user = db_session(), current_user.user
    colleagues = list(s.scalars(select(User).where(User.unit_id == user.unit_id, User.active.is_(True),
                                                   User.id != user.id).order_by(User.full_name)))
    head = assignment.is_head_of(user, user.unit_id)
    procedures = list(s.scalars(select(Procedure).where(Procedure.active.is_(True)).order_by(Procedure.name)))
    return render_template("officials/delegations.html", rows=delegation.visible(s, user), colleagues=colleagues,
                           head=head, procedures=procedures, today=delegation.today(), form=request.args)


@bp.post("/delegations")
@login_required
def create_delegation() -> Response:
    f = request.form
    with page_write(Invalid, Conflict, Forbidden) as write:
        row = delegation.create(db_session(), current_user.user, f.get("to"), f.get("starts"), f.get("until"),
                                f.getlist("procedures"), f.get("for") or None)
        write.say(_("Đã ủy quyền cho %(name)s từ %(a)s đến %(b)s.", name=row.deputy.full_name,
                    a=row.starts.strftime("%d/%m/%Y"), b=row.until.strftime("%d/%m/%Y")))
    return redirect(url_for("officials.delegations"))


@bp.post("/delegations/<int:delegation_id>/revoke")
@login_required
def revoke_delegation(delegation_id: int) -> Response:
    with page_write(NotFound) as write:
        delegation.revoke(db_session(), current_user.user, delegation_id)
        write.say(_("Đã chấm dứt ủy quyền."), "info")
    return redirect(url_for("officials.delegations"))


@bp.post("/cases/<code>/comments")
@login_required
def comment(code: str) -> Response:
    s, user = db_session(), current_user.user
    case = cases.get_case(s, user, code)
    with page_write(Invalid) as write:
        comments.add(s, user, case, request.form.get("text"), request.form.getlist("mentions"))
        write.say(_("Đã gửi trao đổi."))
    return redirect(url_for("case_view.case", code=code) + "#comments")


@bp.app_context_processor
def _views_global() -> dict:
    def saved_views_for(kind: str) -> list:
        """My saved filters of a list and those shared with my unit (officials/_views.html)."""
        if not current_user.is_authenticated:
            return []
        return saved_views.visible(db_session(), current_user.user, kind)

    return {"saved_views_for": saved_views_for}


VIEW_TARGETS = {"inbox": "inbox.inbox", "cases": "case_view.search"}


@bp.post("/views")
@login_required
def create_view() -> Response:
    f = request.form
    kind = f.get("kind") if f.get("kind") in VIEW_TARGETS else "inbox"
    filters = {k: v for k in saved_views.FILTERS[kind] if (v := f.get(k))}
    with page_write(Invalid) as write:
        row = saved_views.create(db_session(), current_user.user, kind, f.get("name"), filters,
                                 f.get("shared") == "1")
        write.say(_("Đã lưu bộ lọc %(name)s.", name=row.name))
    return redirect(url_for(VIEW_TARGETS[kind], **filters))


@bp.post("/views/<int:view_id>/delete")
@login_required
def delete_view(view_id: int) -> Response:
    kind = request.form.get("kind") if request.form.get("kind") in VIEW_TARGETS else "inbox"
    with page_write(NotFound):
        saved_views.delete(db_session(), current_user.user, view_id)
    return redirect(url_for(VIEW_TARGETS[kind]))


@bp.post("/tasks/<int:item_id>/follow-up")
@login_required
def follow_up(item_id: int) -> Response:
    s, user = db_session(), current_user.user
    item = cases.get_item(s, user, item_id)
    with page_write(Invalid) as write:
        if request.form.get("clear"):
            followups.clear(s, user, item)
        else:
            row = followups.set_follow_up(s, user, item, request.form.get("at"))
            write.say(_("Sẽ nhắc lại bạn lúc %(at)s.", at=row.at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")))
    return redirect(url_for("inbox.task", item_id=item_id))


@bp.post("/tasks/bulk-claim")
@login_required
def bulk_claim() -> Response:
    back = safe_next(request.form.get("next")) or url_for("inbox.inbox")
    with page_write(Invalid) as write:
        result = bulk.claim_many(db_session(), current_user.user, request.form.getlist("ids"))
    if not write.ok:
        return redirect(back)
    if result.claimed:
        flash(_("Đã nhận xử lý %(n)s việc.", n=len(result.claimed)), "success")
    for _item_id, why in result.refused:
        flash(why, "error")
    return redirect(back)


@bp.post("/cases/bulk")
@login_required
def bulk_cases() -> Response:
    s, user = db_session(), current_user.user
    codes, action = request.form.getlist("codes"), request.form.get("action")
    try:
        if action == "excel":
            return Response(bulk.excel_cases(s, user, codes),
                            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": 'attachment; filename="ho-so.xlsx"'})
        data, _skipped = bulk.slips_pdf(s, user, codes, action)
        return Response(data, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="mau-{action}.pdf"'})
    except Invalid as e:
        flash(e.message, "error")
        return redirect(url_for("case_view.search"))


def _reader() -> None:
    if not current_user.user.can("reads_reports"):
        raise Forbidden(_("Chỉ lãnh đạo được xem báo cáo"))


@bp.get("/reports/heatmap", endpoint="heatmap")
@login_required
def heat_map() -> str:
    s, user = db_session(), current_user.user
    _reader()
    procs = list(s.scalars(select(Procedure).where(Procedure.active.is_(True)).order_by(Procedure.name)))
    code = request.args.get("procedure") or (procs[0].code if procs else "")
    first, last, unit = request.args.get("from") or None, request.args.get("to") or None, request.args.get("unit")
    heat = heatmap.step_heat(s, user, code, first, last, unit or None)
    args = {"procedure": heat.procedure.code, "from": heat.period.first.isoformat(),
            "to": heat.period.last.isoformat(), **({"unit": unit} if unit else {})}
    data = {h.element: {"waiting": h.waiting, "overdue": h.overdue, "share": h.overdue_share,
                        "median": h.median_hours, "p90": h.p90_hours, "completed": h.completed,
                        "url": url_for("officials.heatmap_cases", element=h.element, which="waiting", **args)}
            for h in heat.steps.values()}
    return render_template("officials/heatmap.html", heat=heat, procedures=procs, args=args, heat_data=data,
                           steps=sorted(heat.steps.values(), key=lambda h: (-h.waiting, h.element)))


@bp.get("/reports/heatmap/cases")
@login_required
def heatmap_cases() -> str:
    s, user = db_session(), current_user.user
    _reader()
    a = request.args
    rows = heatmap.step_cases(s, user, a.get("procedure"), a.get("element"), a.get("which"), a.get("from") or None,
                              a.get("to") or None, a.get("unit") or None)
    return render_template("officials/heatmap_cases.html", rows=rows, element=a.get("element"), which=a.get("which"))


@bp.get("/reports/766", endpoint="score766")
@login_required
def score_766() -> str:
    s, user = db_session(), current_user.user
    _reader()
    a = request.args
    score = score766.compute(s, user, a.get("from") or None, a.get("to") or None, a.get("unit") or None)
    f = score.filters
    args = {"from": f.period.first.isoformat(), "to": f.period.last.isoformat(),
            **({"unit": a.get("unit")} if a.get("unit") else {})}
    return render_template("officials/score766.html", score=score, args=args)


@bp.get("/reports/766/cases")
@login_required
def score766_cases() -> str:
    s, user = db_session(), current_user.user
    _reader()
    a = request.args
    rows = score766.drill(s, user, a.get("index", ""), a.get("from") or None, a.get("to") or None,
                          a.get("unit") or None)
    return render_template("officials/heatmap_cases.html", rows=rows, element=a.get("index"), which="766")
