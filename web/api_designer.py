"""JSON API of the process designer: validate and deploy BPMN, list versions, download a version.

Any uploaded bytes (garbage, empty, another encoding, DTD tricks) are answered with problems naming the
element and line, never a 500."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request

from engine import designer, procedure_codes
from engine.errors import Invalid
from web import schemas as S
from web.api import api_blueprint, authenticated
from web.contract import operation

bp = api_blueprint("api_designer", __name__)

XML_TYPES = {"application/xml", "text/xml", "application/bpmn+xml", "application/octet-stream", ""}


def _upload() -> tuple[bytes, str, dict | None]:
    """(BPMN bytes, file name, forms sent along) from a multipart file or a raw XML body."""
    mimetype = request.mimetype or ""
    if mimetype == "multipart/form-data":
        file = request.files.get("file") or next(iter(request.files.values()), None)
        if file is None:
            raise Invalid("gửi tệp BPMN trong trường 'file' (multipart/form-data)")
        forms = None
        if request.form.get("forms"):
            try:
                forms = json.loads(request.form["forms"])
            except ValueError:
                raise Invalid("trường 'forms' phải là JSON: tên biểu mẫu -> lược đồ form-js") from None
        return file.read(), file.filename or "upload.bpmn", forms
    if mimetype not in XML_TYPES:
        raise Invalid(f"Content-Type '{mimetype}' không được hỗ trợ: gửi application/xml, text/xml hoặc "
                      "multipart/form-data với trường 'file'")
    return request.get_data(cache=False), request.args.get("filename") or "upload.bpmn", None


def _procedure_arg() -> str | None:
    code = request.args.get("procedure") or None
    return designer.check_code(code) if code else None


def _problems(v: dict) -> dict:
    return {"valid": v["valid"], "problems": v["problems"], "warnings": v["warnings"]}


@bp.post("/processes/validate")
@authenticated
@operation(tag="designer", ok=(200, S.Validation), errors=(403, 413), query=S.UploadQuery,
           body_content=S.BPMN_UPLOAD, body_required=False)  # an empty body is answered with its problems
def validate(session: Any, user: Any) -> Response:
    """Validate BPMN (raw XML or a multipart `file`): problems with line and element id."""
    designer.require_designer(user)
    code = _procedure_arg()
    xml, filename, forms = _upload()
    return jsonify(_problems(designer.validate(session, xml, filename, code=code, forms=forms).as_json()))


@bp.post("/processes")
@authenticated
@operation(tag="designer", ok=(201, S.Deployed), errors=(403, 404, 409, 413), query=S.UploadQuery,
           body_content=S.BPMN_UPLOAD, error_models={422: S.DeployRejected})
def deploy(session: Any, user: Any) -> tuple[Response, int]:
    """Deploy BPMN as a new immutable version of a procedure."""
    designer.require_designer(user)
    code = _procedure_arg()
    national = procedure_codes.check_national_code(request.args.get("national_code") or None)
    xml, filename, forms = _upload()
    try:
        pv = designer.deploy_xml(session, user, xml, filename, code=code, forms=forms)
    except Invalid as e:
        details = e.details if isinstance(e.details, dict) and "problems" in e.details else None
        if details is None:
            raise
        body = {"error": e.code, "message": e.message, **_problems(details)}
        return jsonify(body), 422
    if national is not None:
        procedure_codes.set_national_code(session, pv.procedure, national)
    return jsonify({"procedure": pv.procedure.code, "version": pv.version, "process_id": pv.process_id,
                    "warnings": pv.warnings, "national_code": procedure_codes.national_code(pv.procedure)}), 201


@bp.get("/processes/<procedure>/versions")
@authenticated
@operation(tag="designer", ok=(200, S.Versions), errors=(403, 404))
def versions(session: Any, user: Any, procedure: str) -> Response:
    """The deployed versions of a procedure and its draft."""
    designer.require_designer(user)
    info = designer.procedure_versions(session, procedure)
    return jsonify({"procedure": info.code, "name": info.name,
                    "versions": [v.as_json() for v in info.versions],
                    "draft": {"updated_at": info.draft_updated_at.isoformat(), "updated_by": info.draft_updated_by}
                    if info.has_draft else None})


@bp.get("/processes/<procedure>/versions/<int:version>/bpmn")
@authenticated
@operation(tag="designer", ok=(200, None), errors=(403, 404), ok_content=S.BPMN_XML)
def version_bpmn(session: Any, user: Any, procedure: str, version: int) -> Response:
    """The BPMN XML of one version (a download)."""
    designer.require_designer(user)
    pv = designer.get_version(session, procedure, version)
    return Response(pv.bpmn_xml, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{procedure}_v{version}.bpmn"'})


@bp.get("/processes/<procedure>/diff")
@authenticated
@operation(tag="designer", ok=(200, S.DiffOut), errors=(403, 404), query=S.DiffQuery)
def diff(session: Any, user: Any, procedure: str, query: S.DiffQuery) -> Response:
    """What changed between two versions (or a version and the draft): element ids added, removed, changed."""
    designer.require_designer(user)
    return jsonify({"procedure": procedure, "from": query.from_, "to": query.to,
                    **designer.diff_versions(session, procedure, query.from_, query.to).as_json()})

