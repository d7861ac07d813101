"""What each legal slip of the one-stop desk says (Thông tư 01/2018/TT-VPCP, Điều 9 and its annex), worked
out from the case, its procedure and its audit events. engine.slip_render lays these facts out through the
province's templates; nothing here knows about HTML, fonts or PDF."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import ledger
from engine.calendar import VN_TZ
from engine.config import load_settings
from engine.control_slip import CHANNELS, TIMING, control_rows
from engine.errors import NotFound
from engine.models import Case, Event, ProcessVersion, Unit, User
from engine.status import Status

SLIPS = {"01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", "02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
         "03": "Phiếu từ chối tiếp nhận giải quyết hồ sơ", "04": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
         "05": "Phiếu kiểm soát quá trình giải quyết hồ sơ", "06": "Sổ theo dõi hồ sơ"}

# Where a supplement request keeps what is missing and why: the paused event (if the engine recorded
# it), else the form fields of the step that asked for it (the shipped forms use these keys).
MISSING_KEYS = ("missing_documents", "missing", "giay_to_can_bo_sung")
REASON_KEYS = ("reason", "ly_do", "y_kien_ra_soat", "comment")


def local_moment(value: datetime | str | None) -> datetime | None:
    """A stored moment (or its ISO text in an event) in Asia/Ho_Chi_Minh; unreadable text is no moment."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=VN_TZ)).astimezone(VN_TZ)


def lookup_url(case: Case, base_url: str | None = None) -> str:
    base = (base_url or load_settings().public_base_url).rstrip("/")
    # The code only: a secret in a URL lands in access logs and browser histories; it is printed beside the
    # QR code for the citizen to type (docs/security.md).
    return f"{base}/tra-cuu?{urlencode({'code': case.code})}"


# --- which slips a case has -------------------------------------------------------------------


def _accepted(case: Case) -> bool:
    """Received as complete and being (or been) processed: it has a process version and a workflow."""
    return (case.process_version_id is not None and case.result != "incomplete"
            and case.status_code != Status.NOT_RECEIVED)


def _events(session: Session, case: Case, *kinds: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.case_id == case.id, Event.kind.in_(kinds))
                                .order_by(Event.at, Event.id)))


def available_slips(session: Session, case: Case) -> list[str]:
    """The slips (NN of SLIPS) that make sense for this case, in order."""
    from engine import slip_sets  # the deployment's legal set (MOTCUA_SLIP_SET): TT 03/2025 lives there

    if slip_sets.current(session) != slip_sets.TT01_2018:
        return slip_sets.available_2025(session, case)
    return slips_that_apply(session, case, stop_notice=None, control="05")


def slips_that_apply(session: Session, case: Case, *, stop_notice: str | None, control: str) -> list[str]:
    """The one rule of which slips a case has, in order; the two legal sets differ only in the numbers of the
    stop notice (none in TT 01/2018) and of the control slip."""
    kinds = {k for (k,) in session.execute(select(Event.kind).where(
        Event.case_id == case.id, Event.kind.in_(("paused", "apology", "stop_notice"))).distinct())}
    accepted = _accepted(case)
    out = []
    if accepted:
        out.append("01")
    if case.result == "incomplete" or "paused" in kinds:
        out.append("02")
    if case.result == "refused" and not accepted:
        out.append("03")
    if "apology" in kinds:
        out.append("04")
    if stop_notice and "stop_notice" in kinds:
        out.append(stop_notice)
    if accepted:
        out.append(control)
    return out


# --- shared context ---------------------------------------------------------------------------


def _user_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.full_name or user.username if user else ""


def _deadline_days(session: Session, case: Case) -> Decimal:
    version = session.get(ProcessVersion, case.process_version_id) if case.process_version_id else None
    return version.deadline_days if version is not None else case.procedure.deadline_days


def _doc_entry(case: Case, item: Any) -> dict[str, str]:
    """A document code (or {code, name, copies}) as the procedure names it; unknown codes shown as given."""
    by_code = {str(d.get("code")): d for d in case.procedure.documents if isinstance(d, dict)}
    if isinstance(item, dict):
        code = str(item.get("code") or "")
        known = by_code.get(code, {})
        return {"name": str(item.get("name") or known.get("name") or code),
                "copies": str(item.get("copies") or known.get("copies") or "")}
    known = by_code.get(str(item), {})
    return {"name": str(known.get("name") or item), "copies": str(known.get("copies") or "")}


def documents_received(case: Case) -> list[dict[str, str]]:
    """What the desk ticked at intake; a case accepted without that list had every required document."""
    codes = (case.data or {}).get("documents_received")
    if isinstance(codes, list) and codes:
        return [_doc_entry(case, c) for c in codes if c not in (None, "")]
    return [_doc_entry(case, d) for d in case.procedure.documents if isinstance(d, dict) and d.get("required")]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [v for v in value if v not in (None, "")]
    if isinstance(value, str):
        return [line.strip(" -•\t") for line in value.splitlines() if line.strip(" -•\t")]
    return []


def case_facts(case: Case) -> dict[str, Any]:
    """What every slip of a case names: its code, procedure, applicant and channel."""
    return {
        "case": case, "code": case.code, "procedure": case.procedure.name,
        "applicant": {"name": case.applicant_name, "id_number": case.applicant_id_number,
                      "address": case.applicant_address, "phone": case.applicant_phone,
                      "email": case.applicant_email},
        "channel": CHANNELS.get(case.channel, case.channel),
    }


# --- the five slips: each returns its facts; `dated` is the moment of the place-and-date line ----------


def _facts_01(session: Session, case: Case, base_url: str | None) -> dict[str, Any]:
    book, number = ledger.number(case)
    return dict(documents=documents_received(case), sets=(case.data or {}).get("number_of_sets") or 1,
                deadline_days=_deadline_days(session, case), received_at=case.received_at, due_at=case.due_at,
                ledger_book=book, ledger_number=number, clerk=_user_name(session, case.received_by_id),
                lookup_url=lookup_url(case, base_url), lookup_secret=case.lookup_secret, dated=case.received_at)


def _facts_02(session: Session, case: Case) -> dict[str, Any]:
    if case.result == "incomplete":
        missing = _as_list((case.data or {}).get("missing_documents"))
        reason, at, officer = case.intake_note or "", case.received_at, _user_name(session, case.received_by_id)
    else:
        events = _events(session, case, "paused", "task_completed")
        paused = [i for i, e in enumerate(events) if e.kind == "paused"]
        if not paused:
            raise NotFound.of("slip_no_supplement", code=case.code)
        ev = events[paused[-1]]
        # The step whose outcome asked for the supplement completed just before the pause.
        asked = next((e for e in reversed(events[:paused[-1]]) if e.kind == "task_completed"), None)
        sources = [ev.data or {}, (asked.data if asked else None) or {}, case.data or {}]
        missing = next((_as_list(s.get(k)) for k in MISSING_KEYS for s in sources if _as_list(s.get(k))), [])
        reason = next((str(s[k]) for k in REASON_KEYS for s in sources if s.get(k)), "")
        at, officer = ev.at, _user_name(session, asked.actor_id if asked else None)
    return dict(missing=[_doc_entry(case, m) for m in missing], reason=reason, requested_at=at, officer=officer,
                intake=case.result == "incomplete", dated=at)


def _facts_03(session: Session, case: Case) -> dict[str, Any]:
    return dict(reason=case.intake_note or "", refused_at=case.received_at,
                officer=_user_name(session, case.received_by_id), dated=case.received_at)


def _facts_04(session: Session, case: Case) -> dict[str, Any]:
    apologies = _events(session, case, "apology")
    if not apologies:
        raise NotFound.of("slip_no_apology", code=case.code)
    ev = apologies[-1]
    data = ev.data or {}
    return dict(received_at=case.received_at, reason=str(data.get("reason") or ""),
                previous_due_at=local_moment(data.get("previous_due_at")) or case.original_due_at,
                new_due_at=local_moment(data.get("new_due_at")) or case.due_at, apologised_at=ev.at,
                signer=_user_name(session, ev.actor_id), dated=ev.at)


def _lead_and_partners(session: Session, case: Case) -> tuple[Unit | None, list[Unit]]:
    """Lead agency: the highest level the case went to; the other units coordinate."""
    units = {ev.to_unit.id: ev.to_unit for ev in _events(session, case, "handover", "received") if ev.to_unit}
    if not units:
        return case.receiving_unit, []
    lead = min(units.values(), key=lambda u: (u.level.rank, u.id))
    return lead, [u for u in units.values() if u.id != lead.id]


def _facts_05(session: Session, case: Case) -> dict[str, Any]:
    lead, partners = _lead_and_partners(session, case)
    return dict(rows=control_rows(session, case), lead=lead, partners=partners, received_at=case.received_at,
                due_at=case.due_at, case_timing=TIMING.get(case.timing or "", ""), dated=None)


def slip_facts(session: Session, case: Case, nn: str, base_url: str | None = None) -> dict[str, Any]:
    """Slip NN (01–05) of this case: the case's own facts and the slip's. NotFound when NN is unknown or
    makes no sense for the case."""
    if nn not in SLIPS or nn == "06":
        raise NotFound.of("slip_unknown", nn=nn, choices=", ".join(sorted(SLIPS)[:5]))
    if nn not in available_slips(session, case):
        raise NotFound.of("slip_not_applicable", nn=nn, name=SLIPS[nn], code=case.code)
    own = {"01": lambda: _facts_01(session, case, base_url), "02": lambda: _facts_02(session, case),
           "03": lambda: _facts_03(session, case), "04": lambda: _facts_04(session, case),
           "05": lambda: _facts_05(session, case)}[nn]()
    return {**case_facts(case), **own}
