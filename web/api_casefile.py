"""The case file over JSON: each step's record with its documents, attaching documents at a step, the
applicant's results (code + secret) and the public signature check."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Response, current_app, jsonify, request, url_for

from engine import cases, public, signing, step_documents, step_outputs
from engine.errors import Invalid, NotFound
from engine.models import Case, Document
from web import ratelimit, transaction
from web import schemas as S
from web.api import _iso, api_blueprint, authenticated, within_allowance
from web.contract import operation

bp = api_blueprint("api_casefile", __name__)


def doc_json(doc: Document) -> dict:
    return {"id": doc.id, "name": doc.filename, "sha256": doc.sha256, "size": doc.size, "result": bool(doc.is_result)}


def steps_json(session: Any, case: Case) -> list[dict]:
    """`steps` of GET /cases/{code}: every completed step's own record, in order."""
    files = step_outputs.case_file(session, case, {})
    return [{"id": f.output.work_item_id, "step": f.output.step, "bpmn_id": f.output.step_bpmn_id,
             "unit": f.output.unit.code, "role": f.output.role_code,
             "completed_by": f.output.completed_by.username if f.output.completed_by else None,
             "completed_at": _iso(f.output.completed_at), "timing": f.output.timing, "data": f.output.data or {},
             "documents": [doc_json(d) for d in f.documents]} for f in files]


@bp.post("/cases/<code>/documents")
@authenticated
@operation(tag="cases", ok=(201, S.DocumentOut), errors=(403, 404, 409, 413), body_content=S.DOCUMENT_UPLOAD)
def attach(session: Any, user: Any, code: str) -> tuple[Response, int]:
    """Attach a document to an open step held by the caller (multipart: file, step, result)."""
    case = cases.get_case(session, user, code)
    upload = request.files.get("file")
    step = request.form.get("step", "")
    if upload is None or not upload.filename:
        raise Invalid.of("upload_file_field", details={"file": "required"})
    if not step.isdigit() or len(step) > 10:
        raise Invalid.of("step_not_open_here", details={"step": "invalid"})
    item = cases.get_item(session, user, int(step))
    if item.case_id != case.id:
        raise NotFound(f"task {step} is not a step of case {code}")
    result = request.form.get("result", "").lower() in {"1", "true", "on", "yes"}
    settings = current_app.config["MOTCUA"]
    doc = step_documents.attach(session, settings.documents_path, user, item, upload.filename, upload.stream,
                                settings.max_upload_mb * 1024 * 1024, result=result)
    return jsonify({**doc_json(doc), "case_code": case.code, "task": item.id, "content_type": doc.content_type}), 201


def result_token(code: str, secret: str, doc_id: int) -> str:
    """A download token for one result document, valid as long as the case's lookup secret is."""
    key = current_app.config["SECRET_KEY"] or ""
    return hmac.new(str(key).encode(), f"{code}|{secret}|{doc_id}".encode(), hashlib.sha256).hexdigest()[:32]


def results_json(session: Any, case: Case) -> dict:
    from engine.status import STATUS

    docs = step_documents.results(session, case)
    return {"code": case.code, "status": STATUS[case.status_code],
            "documents": [{"id": d.id, "name": d.filename, "sha256": d.sha256, "size": d.size,
                           "content_type": d.content_type,
                           "url": url_for("casefile.result_document", code=case.code, doc_id=d.id,
                                          t=result_token(case.code, case.lookup_secret, d.id), _external=True)}
                          for d in docs]}


@bp.post("/public/cases/<code>/results")
@operation(tag="public", ok=(200, S.PublicResults), errors=(404, 429), body=S.PublicLookupIn, public=True)
def public_results(code: str, json: S.PublicLookupIn) -> Response:
    """The result documents of a returned case, for its code AND lookup secret, with download URLs."""
    attempt = within_allowance(lambda: ratelimit.secret_check("api_lookup"), "public_results")
    with transaction() as session:
        case = public.find_case(session, code, json.secret)  # 404 for a wrong secret and an unknown code alike
        attempt.refund()
        return jsonify(results_json(session, case))


def verification_json(verdict: signing.Verdict) -> dict:
    return {"ok": verdict.ok, "signed": verdict.signed, "intact": verdict.intact,
            "covers_whole_file": verdict.covers_whole_file, "trusted": verdict.trusted, "signer": verdict.signer,
            "signed_at": _iso(verdict.signed_at), "problem": verdict.problem}


@bp.post("/public/verify")
@operation(tag="public", ok=(200, S.Verification), errors=(413, 429), body_content=S.PDF_BODY, public=True)
def verify() -> Response:
    """Is this PDF (the request body) intact, who signed it and when, does the signer chain to our roots?
    From the per-address allowance of signature checks it shares with /xac-thuc (web.ratelimit)."""
    # Before the body is read: a refused client costs nothing.
    within_allowance(ratelimit.signature_check, "verify", ratelimit.message)
    data = request.get_data(cache=False)
    if not data.startswith(b"%PDF-"):
        raise Invalid("send the PDF as the request body (Content-Type: application/pdf)", details={"body": "not a PDF"})
    return jsonify(verification_json(signing.verify(data)))
