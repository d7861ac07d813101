"""Supplements on the officials' pages (engine.supplements): what the case page shows of a dossier waiting for
its applicant, and the desk's "accept the supplement" button."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import supplements
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import Case, User
from engine.routing import may_receive
from web.pages import db_session, page_write, vn_datetime

bp = Blueprint("supplements", __name__)


def case_extras(s: Any, user: User, case: Case) -> dict[str, Any]:
    """For the case page: the first attempt / the case that completed it, and a step waiting for the applicant
    with what they sent."""
    waiting = supplements.waiting_step(s, case)
    return {"supplement_links": supplements.links(s, case),
            "supplement_waiting": supplements.intake_state(case) == "waiting" and may_receive(user),
            "supplement_step": waiting,
            "supplement_sent": supplements.uploads_since_request(s, case) if waiting is not None else [],
            "supplement_may_accept": waiting is not None and waiting.unit_id == user.unit_id
            and waiting.role_code in user.roles}


@bp.post("/cases/<code>/bo-sung/chap-nhan")
@login_required
def accept(code: str) -> Response:
    with page_write(Invalid, Conflict, Forbidden) as write:
        case = supplements.accept(db_session(), current_user.user, code, request.form.get("note", ""))
        write.say(_("Đã tiếp nhận hồ sơ bổ sung %(code)s; hẹn trả kết quả mới %(due)s.", code=code,
                    due=vn_datetime(case.due_at)))
    if not write.ok:
        return redirect(url_for("case_view.case", code=code))
    from web.pages.public import _deliver, _pending_notices

    _deliver(_pending_notices(case.id))
    return redirect(url_for("case_view.case", code=code))
