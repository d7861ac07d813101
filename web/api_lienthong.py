"""JSON API of liên thông: the inbound endpoint partners post signed messages to, the partner registry and
the outbox retry (administrators). Thin: engine.partners, engine.lienthong_inbox, engine.lienthong_outbox."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request

from engine import lienthong_inbox, lienthong_outbox, partners
from engine.errors import Forbidden
from engine.lienthong_documents import Files
from web import schemas_lienthong as L
from web.api import _iso, api_blueprint, authenticated
from web.contract import operation

bp = api_blueprint("api_lienthong", __name__)


def _admin(user: Any) -> None:
    if not user.has_role("admin"):
        raise Forbidden("liên thông settings are for system administrators")


def partner_json(p: Any) -> dict:
    return {"code": p.code, "name": p.name, "url": p.url, "kind": p.kind, "unit_code": p.unit_code,
            "active": p.active, "created_at": p.created_at.isoformat()}


@bp.post("/lienthong/messages")
@operation(tag="lienthong", ok=(200, L.Ack), errors=(401, 404, 409), public=True,
           body_content={"application/json": {"schema": {"type": "object"}}})
def inbound() -> Response:
    """A partner's signed message (Standard Webhooks headers + webhook-sender); acknowledged after commit."""
    database = current_app.extensions["motcua_db"]
    settings = current_app.config["MOTCUA"]
    files = Files(settings.documents_path, settings.max_upload_mb * 1024 * 1024)
    receipt = lienthong_inbox.receive_committed(database, dict(request.headers), request.get_data(), files=files)
    return jsonify({"status": "duplicate" if receipt.duplicate else "accepted", "message_id": receipt.message_id,
                    "case_code": receipt.case_code})


@bp.get("/partners")
@authenticated
@operation(tag="lienthong", ok=(200, L.Partners), errors=(403,))
def list_partners(session: Any, user: Any) -> Response:
    """Partner systems this instance exchanges liên thông messages with (administrators)."""
    _admin(user)
    ident = partners.load_identity(current_app.config["MOTCUA"].instance_path)
    return jsonify({"identity": ident.agency_code if ident else None,
                    "items": [partner_json(p) for p in partners.list_partners(session)]})


@bp.post("/partners")
@authenticated
@operation(tag="lienthong", ok=(201, L.PartnerOut), errors=(403, 409), body=L.PartnerIn)
def add_partner(session: Any, user: Any, json: L.PartnerIn) -> tuple[Response, int]:
    """Register a partner system with its verification key (administrators)."""
    _admin(user)
    p = partners.add_partner(session, json.code, json.name, json.url, json.kind, json.key, json.unit_code, user)
    return jsonify(partner_json(p)), 201


@bp.post("/outbox/<int:outbox_id>/retry")
@authenticated
@operation(tag="lienthong", ok=(200, L.OutboxOut), errors=(403, 404, 409))
def retry(session: Any, user: Any, outbox_id: int) -> Response:
    """Send again a message the dispatcher gave up on (after the partner was fixed)."""
    row = lienthong_outbox.retry(session, user, outbox_id)
    return jsonify({"id": row.id, "message_id": row.message_id, "partner": row.partner_code, "message": row.message,
                    "state": row.state, "attempts": row.attempts,
                    "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
                    "last_error": row.last_error})


@bp.get("/cases/<code>/lienthong")
@authenticated
@operation(tag="lienthong", ok=(200, L.Timeline), errors=(404,))
def timeline(session: Any, user: Any, code: str) -> Response:
    """Where the case is at each partner system: sent, acknowledged, in progress, result."""
    from engine import cases, lienthong_deadlines

    case = cases.get_case(session, user, code)
    iso = _iso
    return jsonify({"code": case.code, "branches": [
        {"partner": b.partner, "partner_name": b.partner_name, "message": b.message, "state": b.state,
         "label": b.label, "sent_at": iso(b.sent_at), "acknowledged_at": iso(b.acknowledged_at),
         "result_at": iso(b.result_at), "result_message": b.result_message}
        for b in lienthong_deadlines.timeline(session, case)]})
