"""Supplements over JSON (engine.supplements): the desk receives an incomplete dossier that came back complete,
accepts a supplement the applicant sent during processing, and the applicant sends it (code + secret)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request

from engine import cases, public, supplements
from engine.errors import Invalid
from web import ratelimit, transaction
from web import schemas as S
from web import schemas_supplements as SS
from web.api import api_blueprint, authenticated, case_json, mail_after_commit, within_allowance
from web.contract import operation

bp = api_blueprint("api_supplements", __name__)


@bp.post("/cases/<code>/supplement/receive")
@authenticated
@operation(tag="cases", ok=(201, S.CaseBrief), errors=(403, 404, 409), body=SS.SupplementReceiveIn)
def receive(session: Any, user: Any, code: str, json: SS.SupplementReceiveIn) -> tuple[Response, int]:
    """Tiếp nhận bổ sung: receive the incomplete dossier `code` (Mẫu 02) as a new case linked to it."""
    first = supplements.prefill(session, user, code)
    form = first["form"]
    applicant = json.applicant.model_dump() if json.applicant else {f: form[f] for f in cases.APPLICANT_FIELDS}
    data = json.data if json.data is not None else {"documents_received": form["docs"]}
    case = supplements.receive_at_desk(session, user, code, applicant, data, channel=json.channel,
                                       competent_unit=json.competent_unit or form["competent_unit"] or None,
                                       return_channel=json.return_channel or form["return_channel"] or None)
    return jsonify(case_json(session, case, full=False)), 201


@bp.post("/cases/<code>/supplement/accept")
@authenticated
@operation(tag="cases", ok=(200, S.CaseBrief), errors=(403, 404, 409), body=SS.SupplementAcceptIn)
def accept(session: Any, user: Any, code: str, json: SS.SupplementAcceptIn) -> Response:
    """Accept the applicant's supplement: the waiting step completes and the time limit restarts."""
    case = supplements.accept(session, user, code, json.note or "")
    mail_after_commit(case.id)
    return jsonify(case_json(session, case, full=False))


@bp.post("/public/cases/<code>/supplement")
@operation(tag="public", ok=(200, SS.PublicSupplementOut), errors=(404, 409, 413, 429),
           body_content=SS.PUBLIC_SUPPLEMENT_UPLOAD, public=True)
def public_supplement(code: str) -> Response:
    """The applicant sends the documents asked for (multipart: secret, files, note), checked like every upload."""
    secret = request.form.get("secret", "")
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not secret.strip():
        raise Invalid("send the case's lookup secret", {"secret": "required"})
    attempt = within_allowance(lambda: ratelimit.secret_check("supplement"), "public_supplement")
    settings = current_app.config["MOTCUA"]
    with transaction() as session:
        public.find_case(session, code, secret)  # 404 for a wrong secret and an unknown code alike
        attempt.refund()
        uploads = [public.Upload(None, f.filename, f.stream) for f in files]
        case = public.supplement_online(session, code, secret, request.form.get("note", ""), uploads,
                                        settings.documents_path, settings.max_upload_mb * 1024 * 1024)
        body = {"code": case.code, "status_code": case.status_code, "status": cases.STATUS[case.status_code],
                "documents": [f.filename for f in files]}
    return jsonify(body)
