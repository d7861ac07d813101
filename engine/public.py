"""The citizen's side: lookup by case code and secret, the public catalog, online submission and what the
desk does with it (accept, ask for more, refuse), withdrawal, and the satisfaction rating (TT 01/2018 Điều 13).

Nothing here reveals personal data: a lookup shows the status, where the dossier is (unit, never a person),
the appointment and what is missing. A wrong secret and an unknown code give the same answer.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import (
    competence,
    documents,
    dossier_checks,
    inputs,
    notifications,
    pending_uploads,
    procedure_codes,
    work_notices,
)
from engine.calendar import VN_TZ
from engine.case_codes import next_case_code
from engine.case_records import lock_case
from engine.deploy import latest_version
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Case, Event, Level, Procedure, Rating, Unit, User, WorkItem, utcnow
from engine.pending_uploads import Upload
from engine.reception import start_processing
from engine.report_figures import CRITERIA
from engine.status import FINAL, STATUS, Status, set_status

ONLINE_LEVELS = {"partial", "full", "3", "4"}  # dịch vụ công trực tuyến một phần / toàn trình (mức 3, 4)
ONLINE_LABELS = {"full": "Trực tuyến toàn trình", "4": "Trực tuyến toàn trình", "partial": "Trực tuyến một phần",
                 "3": "Trực tuyến một phần"}
SCORES = (0, 1, 2)
UNIT_REQUIRED = "Hãy chọn xã, phường nơi nộp hồ sơ"


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _local(moment: datetime | None) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if moment else ""


# --- lookup ---------------------------------------------------------------------------------------


def find_case(session: Session, code: str, secret: str) -> Case:
    """The case whose code and lookup secret both match; NotFound with one message otherwise."""
    check = inputs.Checker()
    code = check.text("code", code, Case.code)
    secret = check.text("secret", secret, Case.lookup_secret).upper()
    check.done()
    if not code or not secret:
        raise NotFound.of("lookup_not_found")
    case = session.scalar(select(Case).where(Case.code == code))
    expected = case.lookup_secret.upper() if case is not None else secrets.token_hex(3).upper()
    if not hmac.compare_digest(expected.encode(), secret.encode()) or case is None:
        raise NotFound.of("lookup_not_found")
    return case


def supplement_request(session: Session, case: Case) -> dict[str, Any] | None:
    """What the applicant must add, when the dossier waits for them (status 5): from the case data the
    reviewer filled in (missing_documents / giay_to_can_bo_sung) or the desk's intake note."""
    if case.status_code != Status.SUPPLEMENT:
        return None
    from engine import supplements

    missing = supplements.missing_documents(case.data)
    paused = session.scalar(select(Event).where(Event.case_id == case.id, Event.kind.in_(("paused",
                            "intake_incomplete"))).order_by(Event.at.desc(), Event.id.desc()).limit(1))
    note = (case.intake_note or "").strip() if case.state is None else ""
    sent = [d.filename for d in supplements.uploads_since_request(session, case)] if case.state else []
    return {"documents": missing, "note": note, "since": paused.at if paused else case.paused_at,
            "step": paused.step if paused else None, "online_intake": case.state is None, "sent": sent}


def lookup(session: Session, code: str, secret: str) -> dict[str, Any]:
    """What the applicant may see of their dossier: no name, number, address or officer."""
    from engine import supplements

    case = find_case(session, code, secret)
    unit = case.current_unit or case.receiving_unit
    level = session.get(Level, unit.level_code)
    rated = session.scalar(select(func.count()).select_from(Rating).where(Rating.case_id == case.id)) or 0
    return {
        "code": case.code,
        "procedure": case.procedure.name,
        "status_code": case.status_code,
        "status": STATUS[case.status_code],
        "channel": case.channel,
        "received_at": case.received_at if case.status_code not in (Status.NEW, Status.NOT_RECEIVED) else None,
        "submitted_at": case.received_at if case.status_code == Status.NEW else None,
        "due_at": supplements.public_due(case),
        "resolved_at": case.resolved_at,
        "returned_at": case.returned_at,
        "unit": unit.name,
        "level": level.name if level else unit.level_code,
        "receiving_unit": case.receiving_unit.name,
        "supplement": supplement_request(session, case),
        "refusal": (case.intake_note or "") if case.status_code == Status.NOT_RECEIVED else "",
        "can_rate": case.status_code == Status.RETURNED and not rated,
        "rated": bool(rated),
    }


# --- catalog --------------------------------------------------------------------------------------


@dataclass
class CatalogEntry:
    code: str
    name: str
    field: str
    level: str
    level_name: str
    deadline_days: Decimal
    fee: str
    where_to_submit: str
    legal_basis: str
    description: str
    documents: list[dict]
    online_level: str
    national_code: str | None = None  # the national procedure database's code, e.g. 1.001776

    @property
    def online(self) -> bool:
        return self.online_level in ONLINE_LEVELS

    @property
    def online_label(self) -> str:
        return ONLINE_LABELS.get(self.online_level, "Không hỗ trợ trực tuyến")


def catalog(session: Session, field: str | None = None, level: str | None = None,
            q: str | None = None) -> list[CatalogEntry]:
    """The published procedures (công khai TTHC), by field then name."""
    check = inputs.Checker()
    field = check.text("field", field, Procedure.field) or None
    level = check.text("level", level, Procedure.level_code) or None
    q = check.text("q", q, Procedure.name) or None
    check.done()
    stmt = select(Procedure).where(Procedure.active.is_(True)).order_by(Procedure.field, Procedure.name)
    if field:
        stmt = stmt.where(Procedure.field == field)
    if level:
        stmt = stmt.where(Procedure.level_code == level)
    if q:
        stmt = stmt.where(Procedure.name.ilike(f"%{q.strip()}%"))
    names = dict(session.execute(select(Level.code, Level.name)).all())
    out = []
    for p in session.scalars(stmt):
        c = p.catalog or {}
        out.append(CatalogEntry(p.code, p.name, p.field, p.level_code or "", names.get(p.level_code or "", ""),
                                p.deadline_days, str(c.get("fee") or ""), str(c.get("where_to_submit") or ""),
                                str(c.get("legal_basis") or ""), str(c.get("description") or ""), p.documents,
                                str(c.get("online_level") or ""), procedure_codes.national_code(p)))
    return out


def catalog_entry(session: Session, code: str) -> CatalogEntry:
    for entry in catalog(session):
        if entry.code == code:
            return entry
    raise NotFound.of("procedure_not_found", code=code)


def desk_units(session: Session) -> list[Unit]:
    """Where a citizen can submit online: the active units of the lowest level (the communes' desks)."""
    lowest = session.scalar(select(func.max(Level.rank)))
    return list(session.scalars(select(Unit).join(Level, Level.code == Unit.level_code)
                                .where(Level.rank == lowest, Unit.active.is_(True)).order_by(Unit.name)))


def competent_choices(session: Session, code: str) -> list[Unit]:
    """The communes an online applicant may name as competent for a commune-level procedure (NĐ 118/2025:
    decided where the applicant lives); none for a procedure decided at a higher level, whose form asks
    nothing — the receiving desk's path decides it."""
    proc = session.scalar(select(Procedure).where(Procedure.code == code))
    version = latest_version(session, proc.id) if proc is not None else None
    desks = desk_units(session)
    if version is None or not desks or not competence.decided_by_residence(session, version):
        return []
    return competence.choices(session, version, desks[0])


# --- online submission and the desk's answer ------------------------------------------------------


def submit_online(session: Session, procedure: str, unit_code: str, applicant: dict, data: dict | None,
                  uploads: list[Upload], documents_root: Any, max_bytes: int,
                  now: datetime | None = None, competent_unit: str | None = None,
                  held: pending_uploads.Held | None = None, return_channel: str | None = None) -> Case:
    """An online dossier (dịch vụ công trực tuyến): status 1 (Mới đăng ký) at the chosen desk, waiting for a
    clerk to accept it. The time limit starts only at acceptance (engine.reception.start_processing).
    Checked like at the desk (engine.dossier_checks) plus a way to reach the applicant; the files are `uploads`
    and those `held` for the form (engine.pending_uploads, deleted once stored). One Invalid names every
    problem: applicant fields, the desk, each missing document, each refused file."""
    now = _now(now)
    check = inputs.Checker()
    procedure = check.text("procedure", procedure, Procedure.code)
    unit_code = check.text("unit", unit_code, Unit.code)
    who = dossier_checks.applicant_fields(check, applicant, prefix="", contact_required=True)
    raw = data if isinstance(data, dict) else {}
    data = {k: check.text(f"data.{k}", v, multiline=True, max_length=2000)
            for k, v in raw.items() if isinstance(k, str) and k.isidentifier() and len(k) <= inputs.MAX_KEY}
    if "procedure" in check.details:
        check.done("dossier_invalid")
    entry = catalog_entry(session, procedure)
    if not entry.online:
        raise Invalid.of("online_not_supported", details={"procedure": procedure})
    unit = next((u for u in desk_units(session) if u.code == unit_code), None)
    if unit is None and "unit" not in check.details:
        check.add("unit", UNIT_REQUIRED)
    files = [*(held.codes if held else []), *(up.doc_code for up in uploads)]
    for where, problem in (held.problems.items() if held else ()):
        check.add(where, problem)
    dossier_checks.check_documents(check, entry.documents, files, at_least_one=True)
    proc = session.scalar(select(Procedure).where(Procedure.code == procedure))
    version = latest_version(session, proc.id)
    competent = None
    if unit is not None and version is not None:
        try:  # NĐ 118/2025: the online channel records the competent unit too (the applicant's commune)
            competent = competence.choose(session, version, unit, competent_unit, address=who["address"])
        except Invalid as e:  # named with the others, not after they are fixed
            check.add("competent_unit", e.message)
    try:  # where the applicant collects the result: the desk, by post, or online
        return_channel = competence.check_return_channel(return_channel)
    except Invalid as e:
        check.add("return_channel", e.message)
    check.done("dossier_invalid")
    case = Case(code=next_case_code(session, unit, now), lookup_secret=secrets.token_hex(3).upper(),
                procedure_id=proc.id, receiving_unit_id=unit.id, current_unit_id=unit.id, channel="online",
                status_code=int(Status.NEW), applicant_name=who["name"], applicant_id_number=who["id_number"],
                applicant_address=who["address"], applicant_phone=who["phone"], applicant_email=who["email"],
                data=data, received_at=now, competent_unit_id=competent.id if competent else None,
                return_channel=return_channel)
    session.add(case)
    session.flush()
    from engine import portal

    portal.status_changed(session, case, None, Status.NEW, now)  # born status 1: the portal hears it
    stored = pending_uploads.attach(session, documents_root, case, None, held, max_bytes) if held else []
    stored += [documents.store(session, documents_root, case, None, up.filename, up.stream, max_bytes,
                               doc_code=up.doc_code) for up in uploads]
    session.add(Event(case_id=case.id, kind="submitted_online", at=now, to_unit_id=unit.id,
                      data={"documents": [doc.filename for doc in stored]}))
    notifications.notify_applicant(
        session, case, "submitted",
        f"Hồ sơ {case.code} ({proc.name}) đã được gửi tới {unit.name} lúc {_local(now)}. "
        f"Mã tra cứu: {case.lookup_secret}. Bộ phận Một cửa sẽ kiểm tra và thông báo cho ông/bà.", now=now)
    work_notices.announce_at_desk(session, case, "được nộp trực tuyến", now)
    return case


def _received_here(session: Session, user: User, code: str, forbidden: str) -> Case:
    """A case of the user's own desk (any desk for an admin), by a desk clerk, locked; else 404, or 403 saying
    the text coded `forbidden`."""
    case = session.scalar(select(Case).where(Case.code == code))
    if case is None or not (user.has_role("admin") or case.receiving_unit_id == user.unit_id):
        raise NotFound.of("case_not_found", code=code)
    if not user.can("receives_dossiers"):
        raise Forbidden.of(forbidden)
    return lock_case(session, case.id)


def _desk_case(session: Session, user: User, code: str, statuses: tuple[int, ...]) -> Case:
    case = _received_here(session, user, code, "online_desk_only")
    if case.status_code not in statuses or case.state is not None:
        raise Conflict.of("case_not_at_desk", code=code, status=case.status_code)
    return case


def pending_online(session: Session, user: User) -> list[Case]:
    """Online dossiers waiting at the user's desk: new (1) and those whose supplement came back."""
    q = select(Case).where(Case.channel == "online", Case.status_code.in_((Status.NEW, Status.SUPPLEMENT)),
                                Case.state.is_(None))
    if not user.has_role("admin"):
        q = q.where(Case.receiving_unit_id == user.unit_id)
    return list(session.scalars(q.order_by(Case.received_at, Case.id).limit(500)))


def accept_online(session: Session, user: User, code: str, now: datetime | None = None) -> Case:
    """The desk accepts an online dossier: received now, appointment set, workflow started."""
    now = _now(now)
    case = _desk_case(session, user, code, (Status.NEW,))
    start_processing(session, user, case, now=now)
    notifications.notify_applicant(
        session, case, "accepted",
        f"Hồ sơ {case.code} đã được tiếp nhận lúc {_local(case.received_at)}. "
        f"Ngày hẹn trả kết quả: {_local(case.due_at)}.", now=now)
    return case


def request_supplement_online(session: Session, user: User, code: str, missing: list[str], note: str,
                              now: datetime | None = None) -> Case:
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02) for an online dossier: everything missing, once.
    The dossier waits (status 5) without a running clock; it was not received yet."""
    now = _now(now)
    check = inputs.Checker()
    missing = [check.text(f"missing[{i}]", m, max_length=2000) for i, m in enumerate(missing or [])]
    note = check.text("note", note, multiline=True)
    check.done()
    missing = [m for m in missing if m]
    if not missing and not note.strip():
        raise Invalid.of("missing_documents_required", details={"missing": "required"})
    case = _desk_case(session, user, code, (Status.NEW,))
    set_status(session, case, Status.SUPPLEMENT, at=now, by=user, reason=note.strip() or "; ".join(missing))
    case.paused_at, case.intake_note = now, note.strip() or None
    case.data = {**(case.data or {}), "missing_documents": missing}
    session.add(Event(case_id=case.id, kind="intake_incomplete", at=now, actor_id=user.id,
                      to_unit_id=case.receiving_unit_id, data={"note": note, "missing": missing}))
    notifications.notify_applicant(
        session, case, "supplement",
        f"Hồ sơ {case.code} cần bổ sung: {'; '.join(missing) or note}. "
        "Ông/bà bổ sung tại trang tra cứu hồ sơ với mã tra cứu đã nhận.", now=now)
    return case


def refuse_online(session: Session, user: User, code: str, reason: str, now: datetime | None = None) -> Case:
    """Phiếu từ chối tiếp nhận (Mẫu 03): status 3, result refused, the reason kept and told to the applicant."""
    now = _now(now)
    reason = inputs.text("reason", reason, multiline=True)
    if not reason.strip():
        raise Invalid.of("refusal_reason_required", details={"reason": "required"})
    case = _desk_case(session, user, code, (Status.NEW, Status.SUPPLEMENT))
    set_status(session, case, Status.NOT_RECEIVED, at=now, by=user, reason=reason.strip())
    case.result, case.intake_note, case.paused_at = "refused", reason.strip(), None
    case.received_by_id = user.id
    session.add(Event(case_id=case.id, kind="intake_refused", at=now, actor_id=user.id,
                      to_unit_id=case.receiving_unit_id, data={"note": reason}))
    notifications.notify_applicant(session, case, "refused",
                                   f"Hồ sơ {case.code} không được tiếp nhận. Lý do: {reason.strip()}", now=now)
    return case


def supplement_online(session: Session, code: str, secret: str, note: str, uploads: list[Upload],
                      documents_root: Any, max_bytes: int, now: datetime | None = None) -> Case:
    """The applicant sends what the desk asked for; the dossier goes back to the desk (status 1)."""
    now = _now(now)
    note = inputs.text("note", note, max_length=2000, multiline=True)
    case = find_case(session, code, secret)
    if case.status_code == Status.SUPPLEMENT and case.state is not None:  # asked for by a processing step
        from engine import supplements

        supplements.upload(session, case, note, uploads, documents_root, max_bytes, now=now)
        return case
    if case.status_code != Status.SUPPLEMENT:
        raise Conflict.of("online_supplement_not_waiting")
    if not uploads:
        raise Invalid.of("supplement_documents_required", details={"documents": "required"})
    case = lock_case(session, case.id)
    names = [documents.store(session, documents_root, case, None, up.filename, up.stream, max_bytes,
                             doc_code=up.doc_code).filename for up in uploads]
    set_status(session, case, Status.NEW, at=now, reason="bổ sung trực tuyến")
    case.paused_at = None
    session.add(Event(case_id=case.id, kind="supplemented_online", at=now, to_unit_id=case.receiving_unit_id,
                      data={"documents": names, "note": note}))
    work_notices.announce_at_desk(session, case, "được bổ sung trực tuyến", now)
    return case


def withdraw(session: Session, user: User, code: str, reason: str, now: datetime | None = None) -> Case:
    """Công dân yêu cầu rút hồ sơ (status 7), recorded by the desk that received the dossier: open steps are
    cancelled; the status event dates the withdrawal for the reports."""
    now = _now(now)
    reason = inputs.text("reason", reason, multiline=True)
    case = _received_here(session, user, code, "withdraw_desk_only")
    if case.resolved_at is not None or case.status_code in FINAL:
        raise Conflict.of("case_not_withdrawable", code=code, status=case.status_code)
    for item in session.scalars(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open")):
        item.state = "cancelled"
    set_status(session, case, Status.WITHDRAWN, at=now, by=user, reason=reason)
    session.add(Event(case_id=case.id, kind="withdrawn", at=now, actor_id=user.id, data={"note": reason}))
    case.next_timer_at, case.current_unit_id = None, case.receiving_unit_id
    return case


# --- rating (Thông tư 01/2018, Điều 13) ---------------------------------------------------------------


def rate(session: Session, code: str, secret: str, scores: dict[str, Any], comment: str = "",
         now: datetime | None = None) -> Rating:
    """One rating per case, after the result was returned (status 10); every criterion scored 0, 1 or 2."""
    case = find_case(session, code, secret)
    if case.status_code != Status.RETURNED:
        raise Conflict.of("rating_before_result")
    clean: dict[str, int] = {}
    errors = {}
    for key, _label in CRITERIA:
        try:
            value = int(scores.get(key))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = -1
        if value not in SCORES:
            errors[key] = "0, 1 or 2"
        else:
            clean[key] = value
    if errors:
        raise Invalid.of("rating_scores", details=errors)
    if session.scalar(select(Rating.id).where(Rating.case_id == case.id)) is not None:
        raise Conflict.of("rating_done")
    comment = inputs.text("comment", comment, max_length=2000, multiline=True)
    rating = Rating(case_id=case.id, scores=clean, comment=comment or None,
                    created_at=_now(now))
    session.add(rating)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as e:  # a second tab submitted at the same moment
        raise Conflict.of("rating_done") from e
    return rating
