"""A case as its officials see it: diagram with progress, the control slip (Mẫu 05) as a timeline of handovers,
documents, data and the printable slips; plus the case search of the officials' menu."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from engine import apology, cases, documents, lienthong_deadlines, slip_sets, slips, step_outputs, stop
from engine.control_slip import control_rows
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Case, Event, utcnow
from engine.search import find_cases
from engine.unit_history import name_at
from web import labels
from web.pages import db_session, officials, page_write
from web.pages import supplements as supplement_pages

bp = Blueprint("case_view", __name__)

SLIP_TITLES = {
    "01": _l("Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
    "02": _l("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
    "03": _l("Phiếu từ chối tiếp nhận giải quyết hồ sơ"),
    "04": _l("Phiếu xin lỗi và hẹn lại ngày trả kết quả"),
    "05": _l("Phiếu kiểm soát quá trình giải quyết hồ sơ"),
}
# Thông tư 03/2025/TT-VPCP (MOTCUA_SLIP_SET=tt03-2025, the default of a two-level deployment).
SLIP_TITLES_2025 = {
    "01": _l("Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
    "02": _l("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
    "03": _l("Phiếu từ chối tiếp nhận giải quyết hồ sơ"),
    "04": _l("Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết"),
    "05": _l("Thông báo dừng giải quyết hồ sơ"),
    "06": _l("Phiếu kiểm soát quá trình giải quyết hồ sơ"),
}


def slip_titles(s: Any) -> dict:
    """The printable forms' titles of the deployment's legal set."""
    return SLIP_TITLES_2025 if slip_sets.is_2025(s) else SLIP_TITLES
TIMING_LABELS = {"early": _l("Trước hạn"), "on_time": _l("Đúng hạn"), "late": _l("Trễ hạn")}
CHANNEL_LABELS = {"desk": _l("Trực tiếp"), "post": _l("Bưu chính công ích"), "online": _l("Trực tuyến")}


def slips_for(s: Any, case: Case) -> list[str]:
    """Which legal slips exist for this case (engine.slips decides)."""
    return [str(n) for n in slips.available_slips(s, case)]


def _markers(s: Any, case: Case, events: list[Event]) -> dict[str, list[str]]:
    now = utcnow()
    open_items = cases.open_items(s, case)
    return {"completed": sorted({e.step_bpmn_id for e in events if e.kind == "task_completed" and e.step_bpmn_id}),
            "current": sorted({w.task_bpmn_id for w in open_items}),
            "overdue": sorted({w.task_bpmn_id for w in open_items if w.due_at and w.due_at < now})}


@bp.get("/cases")
@login_required
def search() -> Any:
    s, user = db_session(), current_user.user
    q = request.args.get("q", "").strip()
    try:
        rows = find_cases(s, user, q)
    except Invalid as e:  # text no database may store: said next to the field, not a 500
        return render_template("case_view/search.html", rows=[], q=q, status=labels.STATUS, error=e.message), 422
    return render_template("case_view/search.html", rows=rows, q=q, status=labels.STATUS)


@bp.get("/cases/<code>")
@login_required
def case(code: str) -> str:
    s = db_session()
    c = cases.get_case(s, current_user.user, code)
    events = cases.events(s, c)
    version = c.process_version
    slip = request.args.get("slip")
    titles = slip_titles(s)
    return render_template(
        "case_view/case.html", case=c, status=labels.case_status(c)[0], events=events,
        rows=control_rows(s, c), open_items=cases.open_items(s, c), docs=documents.for_case(s, c),
        doc_names=documents.document_names(c.procedure), slips=slips_for(s, c), slip_titles=titles,
        just_printed=slip if slip in titles else None, stop_refusal=stop.refusal(c, current_user.user),
        timing_labels=TIMING_LABELS,
        channel_labels=CHANNEL_LABELS, bpmn_xml=version.bpmn_xml if version else None,
        markers=_markers(s, c, events), apology_allowed=apology.can_apologise(s, current_user.user, c) is None,
        regime_2025=slip_sets.is_2025(s),
        case_file=step_outputs.case_file(s, c, version.forms if version else {}),
        # The raw workflow variables are for administrators; officials read the case file above.
        data={k: v for k, v in (c.data or {}).items() if not k.startswith("_")}
        if "admin" in current_user.user.roles else None,
        branches=lienthong_deadlines.timeline(s, c),
        receiving_unit_name=name_at(s, c.receiving_unit, c.received_at),  # as it was called then
        **officials.case_extras(s, current_user.user, c), **supplement_pages.case_extras(s, current_user.user, c))


@bp.get("/cases/<code>/documents/<int:doc_id>")
@login_required
def document(code: str, doc_id: int) -> Response:
    s = db_session()
    c = cases.get_case(s, current_user.user, code)
    doc, path = documents.open_document(s, current_app.config["MOTCUA"].documents_path, c, doc_id)
    inline = request.args.get("download") is None
    return send_file(path, mimetype=doc.content_type, as_attachment=not inline, download_name=doc.filename,
                     max_age=0)


@bp.get("/cases/<code>/slips/<nn>.pdf")
@login_required
def slip(code: str, nn: str) -> Response:
    s = db_session()
    c = cases.get_case(s, current_user.user, code)
    if nn not in slip_titles(s):
        raise NotFound(f"slip {nn} does not exist")
    pdf = slips.render_slip(s, c, nn)
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{c.code}-mau-{nn}.pdf"'
    return resp



@bp.post("/cases/<code>/stop")
@login_required
def stop_case(code: str) -> Any:
    """The applicant's stop request, recorded at the desk (NĐ 118/2025 Điều 21); engine.stop decides."""
    s, user = db_session(), current_user.user
    c = cases.get_case(s, user, code)
    with page_write(Invalid, Conflict, Forbidden) as write:
        stop.request_stop(s, user, c, request.form.get("reason", ""), request.form.get("requested_by") or None)
        write.say(_("Đã dừng giải quyết hồ sơ theo yêu cầu của người nộp."))
    if not write.ok:
        return redirect(url_for("case_view.case", code=code))
    five = "05" if slip_sets.is_2025(s) else None
    return redirect(url_for("case_view.case", code=code, slip=five))
