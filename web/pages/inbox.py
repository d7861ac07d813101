"""The inbox — hộp công việc (my unit's and roles' open steps by due date) and the task page where a step is
done with its form. Validation, routing and timing are the engine's; this module only shows and forwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from engine import cases, documents, inputs, org, reference, step_documents, step_outputs
from engine import inbox as inbox_rules
from engine.deadlines import calendar_for
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import ProcessVersion, WorkItem, utcnow
from web import labels
from web.pages import db_session, officials, page_write, url_pattern, vn_datetime
from web.security import safe_next

bp = Blueprint("inbox", __name__)

TIME_STATE_LABELS = {"overdue": _l("Quá hạn"),
                     "due_soon": _l("Đến hạn trong 1 ngày làm việc"), "in_time": _l("Trong hạn"),
                     "waiting": _l("Chờ bổ sung")}
CLAIM_FILTERS = {"": _l("Tất cả"), "me": _l("Của tôi"), "none": _l("Chưa ai nhận")}


def _clock(s: Any) -> tuple[datetime, datetime]:
    now = utcnow()
    return now, calendar_for(s).add_working_days(now, Decimal(1))


@bp.get("/inbox")
@login_required
def inbox() -> str:
    s, user = db_session(), current_user.user
    procedure = request.args.get("procedure") or None
    claimed = request.args.get("claimed") or None
    if claimed not in (None, "me", "none"):
        claimed = None
    state = request.args.get("state") or None
    if state not in (None, *cases.TIME_STATES):
        state = None
    after = request.args.get("after") or None
    find = request.args.get("q", "").strip()[:200] or None  # code, applicant name or ID number (engine.search)
    try:
        page = cases.inbox(s, user, after=after, limit=50, procedure=procedure, claimed=claimed, time_state=state,
                           find=find)
    except Invalid:  # a stale cursor, or text no database may store: the first page without it
        find = None if after is None else find
        page = cases.inbox(s, user, limit=50, procedure=procedure, claimed=claimed, time_state=state, find=find)
        after = None
    now, calendar = utcnow(), calendar_for(s)
    # INBOX_COUNT_LIMIT lowers the header's "999+" limit (tests); the engine's COUNT_LIMIT otherwise.
    limit = current_app.config.get("INBOX_COUNT_LIMIT", inbox_rules.COUNT_LIMIT)
    counts = {state: inbox_rules.count_label(n, limit)
              for state, n in cases.inbox_counts(s, user, now=now, calendar=calendar, limit=limit).items()}
    colours = inbox_rules.row_colours(page.items, now, calendar)
    links = _row_links()
    # One label per threshold reached, not one translation per row.
    warn_labels = {warn: _("Đã dùng %(n)s %% thời gian", n=warn) for _state, warn in colours if warn}
    rows = [Row(item.id, item.case.code, item.name, item.case.procedure.name, item.case.applicant_name,
                item.claimed_by.full_name if item.claimed_by else None, item.claimed_by_id,
                vn_datetime(item.due_at) if item.due_at else "",
                state, warn, links["task"](item.id), links["case"](item.case.code),
                links["claim" if item.claimed_by_id is None else "unclaim"](item.id))
            for item, (state, warn) in zip(page.items, colours, strict=True)]
    procedures = reference.active_procedures(s)
    return render_template("inbox/inbox.html", rows=rows, next_cursor=page.next, after=after, counts=counts,
                           procedures=procedures, procedure=procedure, claimed=claimed or "", state=state or "",
                           q=find or "", claim_filters=CLAIM_FILTERS,
                           state_labels={k: str(v) for k, v in TIME_STATE_LABELS.items()}, warn_labels=warn_labels,
                           user=user)


class Row(NamedTuple):
    """One inbox row as plain values: the template unpacks them into loop variables instead of walking fifty
    ORM objects attribute by attribute."""

    id: int
    case_code: str
    name: str
    procedure: str
    applicant: str
    claimer: str | None
    claimed_by_id: int | None
    due: str
    state: str
    warn: int | None
    task_url: str
    case_url: str
    claim_url: str  # claim when nobody holds it, else release


def _row_links() -> dict[str, Callable[[Any], str]]:
    """The links of every row, each built by url_for once and filled in per row: fifty rows ask for two
    hundred links, and url_for costs more than the row's share of the query."""
    return {"case": url_pattern("case_view.case", "code"), "task": url_pattern("inbox.task", "item_id"),
            "claim": url_pattern("inbox.claim", "item_id"), "unclaim": url_pattern("inbox.unclaim", "item_id")}


def _back(default: str) -> str:
    return safe_next(request.form.get("next")) or default


def _change_claim(change: Callable[..., WorkItem], said: Callable[[WorkItem], tuple[str, str]]) -> Response:
    """Claim or release a step, then back where the official was; a lost race or a refusal is flashed."""
    with page_write(Conflict, Forbidden) as write:
        item = change(db_session(), current_user.user)
        write.say(*said(item))
    return redirect(_back(url_for("inbox.inbox")))


@bp.post("/tasks/<int:item_id>/claim")
@login_required
def claim(item_id: int) -> Response:
    return _change_claim(lambda s, user: cases.claim(s, user, item_id), lambda item: (
        _("Bạn đã nhận xử lý: %(name)s — hồ sơ %(code)s.", name=item.name, code=item.case.code), "success"))


@bp.post("/tasks/<int:item_id>/unclaim")
@login_required
def unclaim(item_id: int) -> Response:
    return _change_claim(lambda s, user: cases.unclaim(s, user, item_id), lambda item: (
        _("Đã trả lại việc vào hộp chung: %(name)s.", name=item.name), "info"))


def _task_context(item: WorkItem) -> dict:
    s, user = db_session(), current_user.user
    case = item.case
    version = s.get(ProcessVersion, case.process_version_id) if case.process_version_id else None
    schema = version.forms.get(item.form) if version is not None and item.form else None
    now, soon = _clock(s)
    comments = [e for e in cases.events(s, case) if e.kind == "task_completed" and (e.data or {}).get("comment")]
    extras = officials.task_extras(s, user, item)  # assignment, and the official a deputy acts for
    may_act = item.state == "open" and (extras["acting_for"] is not None or (
        item.unit_id == user.unit_id and item.role_code in user.roles and item.claimed_by_id in (None, user.id)))
    node = (version.nodes.get(item.task_bpmn_id) if version is not None else None) or {}
    return {"item": item, "case": case, "schema": schema, "docs": documents.for_case(s, case),
            "case_file": step_outputs.case_file(s, case, version.forms if version is not None else {}),
            "prefill": step_outputs.prefill(s, case, schema, node) if may_act else {},
            "attachments": step_documents.attachments_rule(node, schema),
            "step_docs": step_documents.for_item(s, item),
            "state": cases.time_state(item.due_at, now, soon) if item.state == "open" else None,
            "state_labels": TIME_STATE_LABELS, "comments": comments, "may_act": may_act,
            "status": labels.STATUS[case.status_code], "levels": org.level_labels(s), "roles": org.role_labels(s),
            "doc_names": documents.document_names(case.procedure), **extras}


@bp.get("/tasks/<int:item_id>")
@login_required
def task(item_id: int) -> str:
    s = db_session()
    item = cases.get_item(s, current_user.user, item_id)
    moved: list[WorkItem] | None = None
    done_ids = session.pop(f"done_{item_id}", None)
    if done_ids is not None:
        moved = [w for w in (s.get(WorkItem, i) for i in done_ids) if w is not None]
    return render_template("inbox/task.html", **_task_context(item), data=None, errors={}, message=None,
                           moved=moved, finished_status=labels.STATUS[item.case.status_code])


@bp.post("/tasks/<int:item_id>")
@login_required
def complete(item_id: int) -> Response | tuple[str, int]:
    s, user = db_session(), current_user.user
    item = cases.get_item(s, user, item_id)
    try:
        data = inputs.parse_json(request.form.get("data_json") or "{}")  # no NaN, no runaway nesting
    except Invalid:
        data = None
    if not isinstance(data, dict):
        return render_template("inbox/task.html", **_task_context(item), data={}, errors={}, moved=None,
                               message=_("Dữ liệu biểu mẫu không đọc được; hãy tải lại trang."),
                               finished_status=None), 422
    comment = request.form.get("comment", "").strip()
    if comment:
        data["comment"] = comment
    try:
        settings = current_app.config["MOTCUA"]
        as_result = request.form.get("result") == "on"
        for upload in request.files.getlist("files"):
            if upload and upload.filename:  # written to disk only if the step completes (engine.documents)
                step_documents.attach(s, settings.documents_path, user, item, upload.filename, upload.stream,
                                      settings.max_upload_mb * 1024 * 1024, result=as_result)
        result = cases.complete_task(s, user, item_id, data)
        s.commit()
    except (Invalid, Conflict, Forbidden) as e:
        s.rollback()
        item = cases.get_item(s, user, item_id)
        errors = e.details if isinstance(e, Invalid) and isinstance(e.details, dict) else {}
        message = _("Biểu mẫu còn lỗi, hãy sửa các mục dưới đây.") if errors else e.message
        current_app.logger.info("task %s not completed: %s", item_id, e.message)
        return render_template("inbox/task.html", **_task_context(item), data=data, errors=errors, moved=None,
                               message=message, finished_status=None), e.status
    session[f"done_{item_id}"] = [w.id for w in result.next_items]
    flash(_("Đã hoàn thành bước “%(name)s” của hồ sơ %(code)s.", name=result.item.name, code=result.case.code),
          "success")
    return redirect(url_for("inbox.task", item_id=item_id))

