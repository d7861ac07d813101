"""Time pages: the working-day calendar's overrides (/admin/calendar), the notifications bell and list,
and the apology and new appointment form of a case (Mẫu 04). Rules are in engine.deadlines/apology."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from engine import apology, cases, deadlines, notifications, slip_sets
from engine.calendar import VN_TZ
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Notification, utcnow
from web.pages import db_session
from web.pages.access import require_admin as _require_admin
from web.security import safe_next

bp = Blueprint("time_admin", __name__)

KIND_LABELS = {"reminder": _l("Nhắc việc"), "overdue": _l("Quá hạn"), "escalated": _l("Đôn đốc"),
               "timer": _l("Việc mới"),
               "apology": _l("Xin lỗi, hẹn lại"), "assigned": _l("Được giao việc"),
               "delegated": _l("Được ủy quyền"), "mention": _l("Được nhắc tên"),
               "followup": _l("Nhắc lại"), "early_warning": _l("Cảnh báo sớm"),
               "new_work": _l("Việc mới"), "online_waiting": _l("Hồ sơ trực tuyến chờ tiếp nhận")}


@bp.app_context_processor
def _bell() -> dict:
    def header_notifications() -> dict:
        """Unread count and the latest few, for partials/notifications.html."""
        if not current_user.is_authenticated:
            return {"unread": 0, "items": []}
        s, user = db_session(), current_user.user
        unread, items = notifications.bell(s, user, limit=8)
        return {"unread": unread, "items": items}

    return {"header_notifications": header_notifications, "notification_kinds": KIND_LABELS}


def _safe_next(default: str) -> str:
    return safe_next(request.form.get("next") or request.args.get("next")) or default


# --- calendar overrides ------------------------------------------------------------------------------


def _calendar_page(year: int, status: int = 200, form: dict | None = None, error: str | None = None) -> Any:
    s = db_session()
    overrides = deadlines.list_overrides(s, year)
    return render_template("time_admin/calendar.html", year=year, overrides=overrides,
                           holidays=deadlines.public_holidays(year), form=form or {}, error=error), status


@bp.get("/admin/calendar")
@login_required
def calendar() -> Any:
    _require_admin()
    try:
        year = int(request.args.get("year") or utcnow().astimezone(VN_TZ).year)
    except ValueError:
        year = utcnow().astimezone(VN_TZ).year
    year = min(max(year, 2000), 2100)
    return _calendar_page(year)


@bp.post("/admin/calendar")
@login_required
def add_override() -> Any:
    _require_admin()
    s = db_session()
    form = {k: request.form.get(k, "").strip() for k in ("day", "kind", "note")}
    try:
        day = date.fromisoformat(form["day"])
    except ValueError:
        return _calendar_page(utcnow().astimezone(VN_TZ).year, 422, form, _("Ngày không hợp lệ."))
    if form["kind"] not in ("off", "work"):
        return _calendar_page(day.year, 422, form, _("Hãy chọn ngày nghỉ hoặc ngày làm việc."))
    try:
        deadlines.set_override(s, day, form["kind"] == "work", form["note"])
        s.commit()
    except Invalid as e:
        s.rollback()
        return _calendar_page(day.year, 422, form, e.message)
    label = _("ngày làm việc") if form["kind"] == "work" else _("ngày nghỉ")
    flash(_("Đã đặt %(day)s là %(kind)s.", day=day.strftime("%d/%m/%Y"), kind=label), "success")
    return redirect(url_for("time_admin.calendar", year=day.year))


@bp.post("/admin/calendar/<day>/delete")
@login_required
def remove_override(day: str) -> Response:
    _require_admin()
    s = db_session()
    try:
        the_day = date.fromisoformat(day)
        deadlines.remove_override(s, the_day)
        s.commit()
        flash(_("Đã bỏ điều chỉnh ngày %(day)s.", day=the_day.strftime("%d/%m/%Y")), "success")
        year = the_day.year
    except (ValueError, NotFound):
        s.rollback()
        flash(_("Không có điều chỉnh nào cho ngày này."), "error")
        year = None
    return redirect(url_for("time_admin.calendar", year=year))


# --- notifications -----------------------------------------------------------------------------------


@bp.get("/notifications")
@login_required
def notification_list() -> str:
    s, user = db_session(), current_user.user
    try:
        before = int(request.args["before"]) if request.args.get("before") else None
    except ValueError:
        before = None
    rows = notifications.latest(s, user, limit=50, before_id=before)
    codes = _case_codes(s, rows)
    return render_template("time_admin/notifications.html", rows=rows, codes=codes,
                           unread=notifications.unread_count(s, user),
                           next_before=rows[-1].id if len(rows) == 50 else None)


def _case_codes(s: Any, rows: list[Notification]) -> dict[int, str]:
    from sqlalchemy import select

    from engine.models import Case

    ids = {n.case_id for n in rows if n.case_id}
    if not ids:
        return {}
    return dict(s.execute(select(Case.id, Case.code).where(Case.id.in_(ids))).all())


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int) -> Response:
    s, user = db_session(), current_user.user
    notifications.mark_read(s, user, notification_id)  # NotFound for someone else's → 404 page
    s.commit()
    row = s.get(Notification, notification_id)
    target = url_for("time_admin.notification_list")
    if request.form.get("open") and row is not None and row.case_id:
        code = _case_codes(s, [row]).get(row.case_id)
        if code:
            target = url_for("case_view.case", code=code)
    return redirect(_safe_next(target) if not request.form.get("open") else target)


@bp.post("/notifications/read-all")
@login_required
def read_all() -> Response:
    s = db_session()
    n = notifications.mark_read(s, current_user.user)
    s.commit()
    flash(_("Đã đánh dấu %(n)s thông báo là đã đọc.", n=n), "success")
    return redirect(_safe_next(url_for("time_admin.notification_list")))


# --- apology and new appointment (Mẫu 04) ------------------------------------------------------------


def _apology_page(code: str, status: int = 200, form: dict | None = None, error: str | None = None) -> Any:
    s, user = db_session(), current_user.user
    case = cases.get_case(s, user, code)
    now = utcnow()
    return render_template("time_admin/apology.html", case=case, form=form or {"time": "17:00"}, error=error,
                           refusal=apology.can_apologise(s, user, case, now),
                           opens_at=apology.apology_opens_at(s, case),
                           regime_2025=slip_sets.is_2025(s),
                           events=[e for e in cases.events(s, case) if e.kind == "apology"]), status


@bp.get("/cases/<code>/apology")
@login_required
def apology_form(code: str) -> Any:
    return _apology_page(code)


@bp.post("/cases/<code>/apology")
@login_required
def apology_issue(code: str) -> Any:
    s, user = db_session(), current_user.user
    case = cases.get_case(s, user, code)
    form = {k: request.form.get(k, "").strip() for k in ("reason", "day", "time")}
    try:
        moment = datetime.combine(date.fromisoformat(form["day"]), time.fromisoformat(form["time"] or "17:00"),
                                  VN_TZ)
    except ValueError:
        return _apology_page(code, 422, form, _("Ngày, giờ hẹn mới không hợp lệ."))
    try:
        apology.issue_apology(s, user, case, form["reason"], moment)
        s.commit()
    except (Invalid, Conflict, Forbidden) as e:
        s.rollback()
        return _apology_page(code, e.status, form, e.message)
    _deliver_after_commit(case.id)
    flash(_("Đã lập Phiếu xin lỗi và hẹn lại ngày trả kết quả; ngày hẹn mới %(at)s.",
            at=moment.strftime("%H:%M %d/%m/%Y")), "success")
    return redirect(url_for("time_admin.apology_form", code=code))


def _deliver_after_commit(case_id: int) -> None:
    """E-mail the applicant now (outside the transaction) when SMTP is configured."""
    from flask import current_app
    from sqlalchemy import select

    from web import db

    settings = current_app.config["MOTCUA"]
    if not settings.smtp_host:
        return
    s = db_session()
    ids = list(s.scalars(select(Notification.id).where(Notification.case_id == case_id,
                                                       Notification.kind == "apology",
                                                       Notification.emailed_at.is_(None))))
    notifications.deliver(db(), settings, ids)
