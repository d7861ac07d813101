"""Receiving a dossier — tiếp nhận: the applicant and procedure checked, a case code and appointment,
the workflow started (also for an online submission a clerk accepts), or an incomplete/refused dossier
recorded without a workflow."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, competence, dossier_checks, inputs, ledger, pending_uploads, reference, step_writes
from engine import forms as form_rules
from engine.calendar import VN_TZ
from engine.case_codes import next_case_code
from engine.case_records import VersionInfo, add_event, current_time, version_info
from engine.config import backdate_max_days
from engine.deadlines import calendar_for, case_due
from engine.dossier_checks import applicant_fields
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Case, Procedure, User
from engine.projection import Runner, diagram_error, project, save
from engine.routing import may_receive
from engine.status import Status, set_status

CHANNELS = ("desk", "post", "online")
# A backdated reception older than this is a typing error; before 1906 Vietnam time even has a non-whole-minute
# offset (+07:06:30) that no ISO 8601 client can read back.
EARLIEST_RECEIPT = datetime(2000, 1, 1, tzinfo=VN_TZ)
NAME_REQUIRED = "Chưa nhập họ và tên người nộp hồ sơ"


def _done(check: inputs.Checker) -> None:
    if check.details == {"applicant.name": dossier_checks.REQUIRED}:  # the desk's most common slip, said plainly
        raise Invalid.of("applicant_name_required", details=dict(check.details))
    check.done()


def _ensure_receiver(user: User) -> None:
    if not may_receive(user):
        raise Forbidden.of("reception_desk_only", details={"user": user.username, "roles": sorted(user.roles)})


def _procedure(session: Session, code: str) -> tuple[reference.ProcedureRef, VersionInfo]:
    """The active procedure `code` and its latest deployed version, from the per-process caches
    (engine.reference: a write to procedures or process versions changes its token)."""
    if not isinstance(code, str) or not code or len(code) > 100 or "\x00" in code:
        # PostgreSQL refuses NUL in text and SQLite would just find nothing: the same 422 on both.
        raise Invalid.of("procedure_code_required", details={"procedure": "invalid"})
    proc = reference.procedure_by_code(session, code)
    if proc is None or not proc.active:
        raise NotFound.of("procedure_not_found", code=code)
    if proc.latest_version_id is None:
        raise Invalid.of("procedure_not_deployed", code=code)
    return proc, version_info(session, proc.latest_version_id)


def receive(session: Session, user: User, procedure: str, applicant: dict, data: dict | None = None,
            channel: str = "desk", received_at: datetime | str | None = None, now: datetime | None = None,
            max_backdate_days: int | None = None, competent_unit: str | None = None,
            return_channel: str | None = None, documents: list[str] | None = None,
            held: pending_uploads.Held | None = None) -> Case:
    """Receive a complete dossier — tiếp nhận: code, appointment, workflow started, first steps routed.
    Only a receiving role (may_receive), only where the first step routes; a `received_at` in the past
    (a paper dossier entered late) at most `max_backdate_days` working days back, and audited as such.
    `documents` (codes of the documents received, kept as data.documents_received) must include every
    required one of the procedure (engine.dossier_checks), counting the scans `held` for the dossier; the
    caller attaches those after (pending_uploads.attach). Every problem is named in one Invalid."""
    now = current_time(now)
    check = inputs.Checker()
    procedure = check.text("procedure", procedure, Procedure.code, required=True)
    if channel not in CHANNELS:
        check.add("channel", f"phải là một trong {', '.join(CHANNELS)}")
    who = applicant_fields(check, applicant)
    data = check.json("data", data or {})
    if documents is not None or held is not None:
        documents = _documents_received(session, check, procedure, documents or [], held)
        if isinstance(data, dict):
            data = {**data, "documents_received": documents}
    if received_at is not None:
        received_at = check.moment("received_at", received_at)
        if isinstance(received_at, datetime) and received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=VN_TZ)
        if received_at is not None and not isinstance(received_at, datetime):
            check.add("received_at", "phải có cả giờ tiếp nhận")
        elif received_at is not None and received_at > now:
            check.add("received_at", "Thời điểm tiếp nhận không thể ở tương lai")
        elif received_at is not None and received_at < EARLIEST_RECEIPT:
            check.add("received_at", "Thời điểm tiếp nhận phải từ năm 2000 trở đi")
    _done(check)
    _ensure_receiver(user)
    clean = form_rules.validate(None, data)
    proc, version = _procedure(session, procedure)
    if received_at is not None and received_at < now:
        _check_backdate(session, received_at, now,
                        backdate_max_days() if max_backdate_days is None else max_backdate_days)
    received_at = received_at or now
    unit = user.unit
    # NĐ 118: decided by competence; without a choice, by the commune the applicant's address names.
    competent = competence.choose(session, version, unit, competent_unit, address=who["address"])
    return_channel = competence.check_return_channel(return_channel)
    case = Case(code=next_case_code(session, unit, received_at), process_version_id=version.id,
                received_by_id=user.id,
                lookup_secret=secrets.token_hex(3).upper(), procedure_id=proc.id, receiving_unit_id=unit.id,
                current_unit_id=unit.id, channel=channel, status_code=int(Status.RECEIVED), applicant_name=who["name"],
                applicant_id_number=who["id_number"], applicant_address=who["address"],
                applicant_phone=who["phone"], applicant_email=who["email"], data=clean,
                received_at=received_at, competent_unit_id=competent.id if competent else None,
                return_channel=return_channel, state=None)  # set, so the deferred column is not read back
    case.known_procedure_name = (proc.id, proc.name)  # for the search column, without reading it back
    session.add(case)
    session.flush()
    return start_processing(session, user, case, now=now, _latest=(proc, version))


def _documents_received(session: Session, check: inputs.Checker, procedure: str, ticked: list[str],
                        held: pending_uploads.Held | None) -> list[str]:
    """The codes received (ticked, or a scan held for them), each required one checked, file problems named."""
    codes = [check.text(f"documents[{i}]", c, max_length=100) for i, c in enumerate(ticked)]
    if held is not None:
        codes += [c for c in held.codes if c and c not in codes]
        for where, problem in held.problems.items():
            check.add(where, problem)
    proc = session.scalar(select(Procedure).where(Procedure.code == procedure)) if procedure else None
    if proc is not None:
        dossier_checks.check_documents(check, proc.documents, codes)
    return list(dict.fromkeys(c for c in codes if c))


def _check_backdate(session: Session, received_at: datetime, now: datetime, max_days: int) -> None:
    # Calendar days first: a date years back needs no working-day calendar loaded for every year between.
    too_far = (now - received_at) > timedelta(days=max_days * 2 + 30)
    if too_far or calendar_for(session).working_days_between(received_at, now) > max_days:
        raise Invalid.of("backdate_max", days=max_days,
                         details={"received_at": f"lùi quá {max_days} ngày làm việc", "max_days": max_days})


def start_processing(session: Session, user: User, case: Case, now: datetime | None = None,
                     _latest: tuple[reference.ProcedureRef, VersionInfo] | None = None) -> Case:
    """Accept a case at the desk: appointment from the legal limit, workflow started, first steps routed.
    Used for dossiers received at the desk and for online ones (status 1) a clerk accepts. The audit events
    are written together (engine.audit.batched)."""
    with audit.batched(session):
        return _start_processing(session, user, case, now, _latest)


def _start_processing(session: Session, user: User, case: Case, now: datetime | None,
                      _latest: tuple[reference.ProcedureRef, VersionInfo] | None) -> Case:
    now = current_time(now)
    if case.state is not None:
        raise Conflict.of("case_already_processing", code=case.code)
    _ensure_receiver(user)
    proc, version = _latest or _procedure(session, reference.procedure(session, case.procedure_id).code)
    unit = user.unit
    if case.status_code == Status.NEW:
        case.received_at = now  # an online submission counts from its acceptance at the desk
    received_at = case.received_at
    calendar = calendar_for(session)
    if (case.process_version_id, case.received_by_id) != (version.id, user.id):  # receive() set them already
        case.process_version_id, case.received_by_id = version.id, user.id
    if not set_status(session, case, Status.RECEIVED, at=received_at, by=user):
        from engine import portal

        portal.status_changed(session, case, None, Status.RECEIVED, received_at)  # born received: still news
    ledger.assign_number(session, case)
    # A cut-off hour and a limit chosen by the dossier are catalog data (engine.deadlines.case_due).
    case.clock_started_at, case.due_at = case_due(calendar, proc.catalog, case.data, received_at,
                                                  version.deadline_days)
    case.original_due_at = case.due_at
    audit: dict[str, Any] = {"channel": case.channel}
    if received_at < now:  # entered after the fact: the record says when, and by whom
        audit["backdated"] = {"entered_at": now.isoformat(), "by": user.username}
    add_event(session, case, "received", received_at, actor_id=user.id, to_unit_id=unit.id,
           step="Tiếp nhận hồ sơ", step_due_at=case.due_at, data=audit)
    # Steps of a paper dossier entered later are timed from its receipt, as the law counts them.
    runner = Runner(session, case, version, received_at)
    runner.open_items = []  # no workflow yet (checked above), so no step either: nothing to read
    seed = {**(case.data or {}), "case_code": case.code,
            "received_at": received_at.astimezone(VN_TZ).isoformat(), "procedure": proc.code}
    try:
        wf = runner.start(seed)
    except Exception as e:  # noqa: BLE001 — a diagram whose start fails is the designer's to fix, not a 500
        raise diagram_error(e, "diagram_start_failed", name=proc.name) from e
    project(runner, wf, user, unit.id)
    if runner.unrouted:
        # A case whose first step has nowhere to go would sit with no work item: refuse it, store nothing.
        step, level, message = runner.unrouted[0]
        raise Invalid.of("reception_unroutable",
                         unit=unit.name, step=step, level=level, error=message,
                         details={"level": level, "unit": unit.code, "step": step})
    save(runner, wf)
    step_writes.write_step(session, case)
    return case


def record_intake_outcome(session: Session, user: User, procedure: str, applicant: dict, outcome: str,
                          note: str, missing: list[str] | None = None, channel: str = "desk",
                          now: datetime | None = None, kept: dict | None = None) -> Case:
    """An incomplete (Mẫu 02) or refused (Mẫu 03) dossier at the desk: recorded, counted in reports,
    no workflow started. `kept`: what else the desk saw (documents ticked, proxy, competent unit, return
    channel — engine.supplements.KEPT), so an incomplete dossier's form can be filled in again."""
    now = current_time(now)
    if outcome not in {"incomplete", "refused"}:
        raise Invalid.of("outcome_choice")
    check = inputs.Checker()
    procedure = check.text("procedure", procedure, Procedure.code, required=True)
    who = applicant_fields(check, applicant)
    note = check.text("note", note, Case.intake_note, multiline=True)
    missing = [check.text(f"missing[{i}]", m, multiline=True) for i, m in enumerate(missing or [])]
    if channel not in CHANNELS:
        check.add("channel", f"phải là một trong {', '.join(CHANNELS)}")
    kept = check.json("kept", kept or {})
    _done(check)
    if not note.strip() and not missing:
        raise Invalid.of("reason_required", details={"note": "required"})
    _ensure_receiver(user)
    proc, _version = _procedure(session, procedure)
    unit = user.unit
    case = Case(code=next_case_code(session, unit, now), lookup_secret=secrets.token_hex(3).upper(),
                procedure_id=proc.id, receiving_unit_id=unit.id, received_by_id=user.id,
                current_unit_id=unit.id, channel=channel, status_code=int(Status.NOT_RECEIVED), result=outcome,
                applicant_name=who["name"], applicant_id_number=who["id_number"],
                applicant_address=who["address"], applicant_phone=who["phone"], applicant_email=who["email"],
                data={**(kept if isinstance(kept, dict) else {}), "missing_documents": missing or []},
                received_at=now, intake_note=note.strip())
    session.add(case)
    session.flush()
    from engine import portal

    portal.status_changed(session, case, None, Status.NOT_RECEIVED, now)  # born status 3: the portal hears it
    add_event(session, case, "intake_" + outcome, now, actor_id=user.id, to_unit_id=unit.id,
           data={"note": note, "missing": missing or []})
    return case
