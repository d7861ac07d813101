"""Public pages of the case file: the applicant's result documents (a link valid for the case's lookup
secret) and /xac-thuc, where anyone checks a PDF's signature."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file
from flask_babel import gettext as _
from sqlalchemy import select

from engine import documents, signing, step_documents
from engine.models import Case
from engine.throttle import Exhausted
from web import ratelimit
from web.api_casefile import result_token
from web.pages import db_session

bp = Blueprint("casefile", __name__)


@bp.get("/tra-cuu/<code>/ket-qua/<int:doc_id>")
def result_document(code: str, doc_id: int) -> Response:
    """A result document for whoever holds the link the lookup gave (the token binds code, secret, document)."""
    s = db_session()
    token = request.args.get("t", "")
    case = s.scalar(select(Case).where(Case.code == code[:64]))
    if case is None or not hmac.compare_digest(result_token(case.code, case.lookup_secret, doc_id), token[:64]):
        abort(404)
    doc = step_documents.result_document(s, case, doc_id)
    doc, path = documents.open_document(s, current_app.config["MOTCUA"].documents_path, case, doc.id)
    return send_file(path, mimetype=doc.content_type, as_attachment=True, download_name=doc.filename, max_age=0)


@bp.get("/xac-thuc")
def verify_form() -> str:
    return render_template("public/verify.html", verdict=None, error=None)


@bp.post("/xac-thuc")
def verify() -> tuple[str, int] | tuple[str, int, dict]:
    try:
        ratelimit.signature_check()  # shared with POST /api/v1/public/verify
    except Exhausted as e:
        return (render_template("public/verify.html", verdict=None, error=ratelimit.message(e)), 429,
                {"Retry-After": str(e.retry_after)})
    upload = request.files.get("file")
    data = upload.read(current_app.config["MOTCUA"].max_upload_mb * 1024 * 1024 + 1) if upload else b""
    if not data.startswith(b"%PDF-"):
        return render_template("public/verify.html", verdict=None,
                               error=_("Hãy chọn một tệp PDF để kiểm tra.")), 422
    verdict = signing.verify(data)
    return render_template("public/verify.html", verdict=verdict, error=None, filename=upload.filename), 200
