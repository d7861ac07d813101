"""The diagram says who talks to whom: BPMN message elements become liên thông messages.

- A send task, message throw event or message end event with the properties `partner` (a partner code, or
  `=expression` over the case data, e.g. `=origin_system`) and `message` (a name) sends the case envelope —
  case code, procedure, applicant, the fields listed in `send_fields`, the documents whose codes are listed
  in `send_documents` (with SHA-256), the origin — to that partner, through the outbox, in the transaction
  of the step that reached it.
- A receive task or message catch event waits for the message of that name; a partner's message is
  correlated by the case code it names (`correlation.case_code`, our case) and the message name; its data
  becomes the step's output (task data under the message name, and the audit event).
- A message start event lets a partner's message create a case here, at the unit named by the partner
  configuration (`unit_code`) or the message, linked to the origin case (CaseLink).
"""

from __future__ import annotations

import ast
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import lienthong_clock, lienthong_documents, lienthong_outbox, partners, portal_intake
from engine.deadlines import default_script_engine
from engine.errors import Invalid, NotFound
from engine.lienthong_documents import Files
from engine.models import Case, CaseLink, Document, Event, Partner, Procedure, ProcessVersion, Unit

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SEND_TAGS = {"sendTask", "intermediateThrowEvent", "endEvent"}
RECEIVE_TAGS = {"receiveTask", "intermediateCatchEvent", "startEvent"}
ENVELOPE_VERSION = 1


def _has_message_definition(el: etree._Element) -> bool:
    return el.find(f"{{{BPMN}}}messageEventDefinition") is not None


def collect(el: etree._Element, tag: str, props: dict[str, str], nodes: dict, problem: Any) -> None:
    """Deploy: read and check the message properties of one element into `nodes`."""
    eid = el.get("id") or ""
    is_send = tag == "sendTask" or (tag in SEND_TAGS and _has_message_definition(el))
    is_receive = tag == "receiveTask" or (tag in RECEIVE_TAGS and _has_message_definition(el))
    if not (is_send or is_receive):
        return
    message = (props.get("message") or "").strip()
    name = el.get("name") or eid
    if not message:
        problem(el, f"bước '{name}' gửi/nhận thư liên thông nhưng thiếu thuộc tính message (tên thư)")
        return
    node = nodes.setdefault(eid, {"kind": tag, "name": name})
    if is_send:
        partner = (props.get("partner") or "").strip()
        if not partner:
            problem(el, f"bước '{name}' gửi thư '{message}' nhưng thiếu thuộc tính partner "
                        "(mã hệ thống liên thông hoặc =biểu thức)")
            return
        if partner.startswith("="):
            try:
                ast.parse(partner[1:], mode="eval")
            except SyntaxError as e:
                problem(el, f"biểu thức partner '{partner}' sai cú pháp: {e.msg}")
        node["send"] = {"partner": partner, "message": message,
                        "send_fields": _list(props.get("send_fields")),
                        "send_documents": _list(props.get("send_documents"))}
    else:
        node["receive"] = {"message": message, "start": tag == "startEvent"}
        clock = (props.get("clock") or "").strip()
        if clock == "paused":
            node["receive"]["pauses_clock"] = True  # this wait does not count (engine.lienthong_clock)
        elif clock:
            problem(el, f"bước '{name}': thuộc tính clock chỉ nhận giá trị paused (thời gian chờ không tính)")


def _list(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def unknown_partners(session: Session, nodes: dict) -> list[tuple[str, str]]:
    """(element id, partner code) of literal partners that are not registered here (deploy refuses them)."""
    known = set(session.scalars(select(Partner.code)))
    return [(eid, n["send"]["partner"]) for eid, n in nodes.items()
            if n.get("send") and not n["send"]["partner"].startswith("=") and n["send"]["partner"] not in known]


# --- sending -----------------------------------------------------------------------------------------


def _send_node(nodes: dict, message: str) -> dict | None:
    return next((n["send"] for n in nodes.values() if n.get("send", {}).get("message") == message), None)


def envelope(session: Session, case: Case, send: dict, data: dict) -> dict:
    """What a partner receives about a case (docs/lien-thong.md, "Phong bì hồ sơ")."""
    link = session.get(CaseLink, case.id)
    docs = []
    if send.get("send_documents"):
        for d in session.scalars(select(Document).where(Document.case_id == case.id,
                                                        Document.doc_code.in_(send["send_documents"]))
                                 .order_by(Document.id)):
            docs.append(lienthong_documents.envelope_entry(d))
    return {"v": ENVELOPE_VERSION, "kind": "case",
            "case": {"code": case.code, "procedure": case.procedure.code, "status_code": case.status_code,
                     "received_at": case.received_at.isoformat(), "due_at": case.due_at.isoformat()
                     if case.due_at else None},
            "applicant": {"name": case.applicant_name, "id_number": case.applicant_id_number,
                          "address": case.applicant_address, "phone": case.applicant_phone,
                          "email": case.applicant_email},
            "data": {k: data.get(k) for k in send.get("send_fields") or [] if k in data},
            "documents": docs,
            "origin": {"system": link.origin_system, "case_code": link.origin_case_code} if link else None}


def _partner_of(send: dict, data: dict) -> str:
    partner = send["partner"]
    if not partner.startswith("="):
        return partner
    try:
        value = default_script_engine().environment.evaluate(partner[1:], dict(data))
    except Exception as e:  # noqa: BLE001 — the designer's expression failed: a 422 naming it
        raise Invalid.of("partner_expression_error",
                         partner=partner, error=str(e), details={"partner": partner}) from e
    return str(value)


def drain(session: Session, case: Case, wf: Any, nodes: dict, now: datetime, unit_id: int | None) -> int:
    """Queue the messages the workflow threw in this step (nothing inside the workflow caught them)."""
    from engine.workflow import workflow_data

    lienthong_clock.track(session, case, wf, nodes, now)
    count = 0
    events = wf.get_events()
    current = workflow_data(wf) if events else {}
    for event in events:
        name = getattr(event.event_definition, "name", None)
        send = _send_node(nodes, name) if name else None
        if send is None:
            continue  # a signal or a message no node of ours sends: nothing to deliver
        data = dict(current)
        data.update(event.payload if isinstance(event.payload, dict) else {})
        partner = _partner_of(send, data)
        body = envelope(session, case, send, data)
        link = session.get(CaseLink, case.id)
        if link is not None and link.origin_system == partner:
            body["correlation"] = {"case_code": link.origin_case_code}  # an answer to the origin's case
        try:
            lienthong_outbox.enqueue(session, partner, name, body, case=case, now=now, step=name,
                                     from_unit_id=unit_id)
        except NotFound as e:  # the diagram names a system nobody registered: the step's data is at fault
            raise Invalid.of("message_partner_unknown", name=name, partner=partner, details={"partner": partner}) from e
        count += 1
    return count


# --- receiving ---------------------------------------------------------------------------------------


def handle(session: Session, partner: Partner, body: dict, now: datetime, files: Files | None = None) -> Case | None:
    """Apply a verified, first-seen message: answer to one of our cases, or a new case by a message start
    event. Raises Invalid/NotFound (the sender sees a 4xx and retries, then reports an incident)."""
    message = body.get("message")
    if body.get("kind") == portal_intake.KIND:
        return portal_intake.receive_dossier(session, partner, body, str(message), now, files)
    if body.get("kind") != "case":
        return None
    shapes = {"case": dict, "applicant": dict, "data": dict, "documents": list, "correlation": dict}
    wrong = {k: f"phải là {t.__name__}" for k, t in shapes.items() if body.get(k) is not None
             and not isinstance(body[k], t)}
    if wrong:
        raise Invalid.of("envelope_shape", details=wrong)
    correlation = body.get("correlation") or {}
    if correlation.get("case_code"):
        return _answer(session, partner, body, str(correlation["case_code"]), str(message), now, files)
    return _start(session, partner, body, str(message), now, files)


def _answer(session: Session, partner: Partner, body: dict, code: str, message: str, now: datetime,
            files: Files | None) -> Case:
    from engine.case_records import lock_case
    from engine.projection import advance
    from engine.workflow import deliver_message

    case_id = session.scalar(select(Case.id).where(Case.code == code[:64]))
    if case_id is None:
        raise NotFound.of("partner_case_not_found", code=code, details={"correlation.case_code": code})
    case = lock_case(session, case_id)
    # A partner's result document (marked `result` by it) is returned to the applicant with ours.
    docs = lienthong_documents.store_received(session, files, case, body.get("documents") or [], result=True)
    payload = {**(body.get("data") or {}), "documents": docs,
               "from": partner.code, "case_code": (body.get("case") or {}).get("code")}
    advance(session, case, lambda wf: deliver_message(wf, message, payload), now)
    _received_event(session, case, partner, body, message, now, docs)
    return case


def _start(session: Session, partner: Partner, body: dict, message: str, now: datetime,
           files: Files | None) -> Case:
    from engine.projection import advance
    from engine.reception import receive
    from engine.workflow import deliver_message

    proc = None
    for pv in session.scalars(select(ProcessVersion).order_by(ProcessVersion.id.desc())):
        if any(n.get("receive", {}).get("start") and n["receive"]["message"] == message for n in pv.nodes.values()):
            proc = session.get(Procedure, pv.procedure_id)
            break
    if proc is None:
        raise NotFound.of("message_no_process", message=message, details={"message": message})
    origin = body.get("case") or {}
    earlier = session.scalar(select(CaseLink.case_id).where(CaseLink.origin_system == partner.code,
                                                            CaseLink.origin_case_code == str(origin.get("code")),
                                                            CaseLink.message == message))
    if earlier is not None:  # the same dossier sent again under a new message id: it is already here
        return session.get(Case, earlier)
    unit_code = partner.unit_code or body.get("unit_code")
    unit = session.scalar(select(Unit).where(Unit.code == str(unit_code or "")[:64]))
    if unit is None:
        raise Invalid.of("message_unit_unknown", details={"unit_code": unit_code})
    clerk = partners.reception_account(session, partner, unit)
    if clerk is None:
        raise Invalid.of("unit_not_receiving", unit=unit.name, details={"unit_code": unit.code})
    applicant = body.get("applicant") or {}
    data = {**(body.get("data") or {}), "origin_system": partner.code, "origin_case_code": origin.get("code")}
    case = receive(session, clerk, proc.code, applicant, data=data, channel="online", now=now)
    session.add(CaseLink(case_id=case.id, origin_system=partner.code, origin_case_code=str(origin.get("code")),
                         message=message))
    session.flush()
    docs = lienthong_documents.store_received(session, files, case, body.get("documents") or [], result=False)
    payload = {**(body.get("data") or {}), "documents": docs, "from": partner.code,
               "case_code": origin.get("code")}
    advance(session, case, lambda wf: deliver_message(wf, message, payload), now)
    _received_event(session, case, partner, body, message, now, docs)
    return case


def _received_event(session: Session, case: Case, partner: Partner, body: dict, message: str, now: datetime,
                    docs: list[dict]) -> None:
    session.add(Event(case_id=case.id, kind="lienthong_received", at=now, step=message, to_unit_id=case.current_unit_id,
                      data={"partner": partner.code, "partner_name": partner.name, "message": message,
                            "message_id": body.get("id"), "data": body.get("data") or {},
                            "documents": docs}))
