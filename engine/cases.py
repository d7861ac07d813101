"""How a case is received and a task completed.

Each public function runs inside the caller's transaction (engine.db.Database.transaction): the
workflow state, its work items, due dates and audit events change together or not at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload, lazyload, undefer
from sqlalchemy.orm.exc import StaleDataError

from engine import forms as form_rules
from engine import inputs, ledger, step_documents, step_outputs, workflow
from engine.calendar import VN_TZ, WorkCalendar, classify
from engine.config import backdate_max_days
from engine.deadlines import calendar_for, due, one_working_day_before, script_engine
from engine.errors import Conflict, Forbidden, Invalid, NotFound, RoutingError
from engine.models import (
    Case,
    CaseSequence,
    Event,
    Procedure,
    ProcessVersion,
    Unit,
    User,
    WorkItem,
    utcnow,
)
from engine.routing import can_view_case, may_receive, resolve_unit
from engine.status import STATUS, Status, set_status

CHANNELS = ("desk", "post", "online")
# A backdated reception older than this is a typing error; before 1906 Vietnam time even has a non-whole-minute
# offset (+07:06:30) that no ISO 8601 client can read back.
EARLIEST_RECEIPT = datetime(2000, 1, 1, tzinfo=VN_TZ)
APPLICANT_FIELDS = ("name", "id_number", "address", "phone", "email")


@dataclass
class Completion:
    """What completing a task did: the case after it and where the work went next."""

    case: Case
    item: WorkItem
    next_items: list[WorkItem] = field(default_factory=list)


# --- case code --------------------------------------------------------------------------------


def next_case_code(session: Session, agency_code: str, received_at: datetime) -> str:
    """`<agency>-YYMMDD-XXXX`, the sequence per agency per local day. An atomic upsert, so concurrent
    receptions on PostgreSQL never get the same number."""
    day = received_at.astimezone(VN_TZ).date()
    dialect = session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(CaseSequence)
    stmt = ins.values(agency_code=agency_code, day=day, last=1).on_conflict_do_update(
        index_elements=[CaseSequence.agency_code, CaseSequence.day],
        set_={"last": CaseSequence.last + 1}).returning(CaseSequence.last)
    number = session.execute(stmt).scalar_one()
    if number > 9999:
        raise Conflict(f"more than 9999 cases received by {agency_code} on {day:%d/%m/%Y}")
    return f"{agency_code}-{day:%y%m%d}-{number:04d}"


# --- helpers ----------------------------------------------------------------------------------


APPLICANT_COLUMNS = {"name": Case.applicant_name, "id_number": Case.applicant_id_number,
                     "address": Case.applicant_address, "phone": Case.applicant_phone,
                     "email": Case.applicant_email}
NAME_REQUIRED = "Chưa nhập họ và tên người nộp hồ sơ"


def applicant_fields(check: inputs.Checker, applicant: Any, prefix: str = "applicant.") -> dict[str, str]:
    """The applicant's fields checked against their columns; problems go to `check` as `<prefix><field>`."""
    if not isinstance(applicant, dict):
        applicant = {}
    who = {k: check.text(f"{prefix}{k}", applicant.get(k), APPLICANT_COLUMNS[k]) for k in APPLICANT_FIELDS}
    if not who["name"] and f"{prefix}name" not in check.details:
        check.add(f"{prefix}name", "required")
    return who


def _done(check: inputs.Checker) -> None:
    if check.details == {"applicant.name": "required"}:  # the desk's most common slip, said plainly
        raise Invalid(NAME_REQUIRED, details=dict(check.details))
    check.done()


def _applicant(applicant: Any) -> dict[str, str]:
    check = inputs.Checker()
    who = applicant_fields(check, applicant)
    _done(check)
    return who


def _ensure_receiver(user: User) -> None:
    if not may_receive(user):
        raise Forbidden("Chỉ cán bộ Bộ phận Một cửa được tiếp nhận hồ sơ",
                        details={"user": user.username, "roles": sorted(user.roles)})


def _procedure(session: Session, code: str) -> tuple[Procedure, ProcessVersion]:
    if not isinstance(code, str) or not code or len(code) > 100 or "\x00" in code:
        # PostgreSQL refuses NUL in text and SQLite would just find nothing: the same 422 on both.
        raise Invalid("procedure must be a procedure code from the catalog", details={"procedure": "invalid"})
    proc = session.scalar(select(Procedure).where(Procedure.code == code, Procedure.active.is_(True)))
    if proc is None:
        raise NotFound(f"procedure '{code}' does not exist")
    version = session.scalar(select(ProcessVersion).where(ProcessVersion.procedure_id == proc.id)
                             .order_by(ProcessVersion.version.desc()).limit(1))
    if version is None:
        raise Invalid(f"procedure '{code}' has no deployed process")
    return proc, version


def _event(session: Session, case: Case, kind: str, at: datetime, **kw: Any) -> Event:
    ev = Event(case_id=case.id, kind=kind, at=at, data=kw.pop("data", {}), **kw)
    session.add(ev)
    return ev


@dataclass(frozen=True)
class VersionInfo:
    """What running a case needs from its (immutable) process version; cached per process."""

    id: int
    bpmn_sha256: str
    nodes: dict
    forms: dict
    deadline_days: Decimal


_version_infos: dict[tuple[str, int], VersionInfo] = {}


def version_info(session: Session, version_id: int) -> VersionInfo:
    key = (str(session.get_bind().url), version_id)
    info = _version_infos.get(key)
    if info is None:
        pv = session.get(ProcessVersion, version_id)
        info = _version_infos[key] = VersionInfo(pv.id, pv.bpmn_sha256, pv.nodes, pv.forms, pv.deadline_days)
    return info


def forget_cached_versions() -> None:
    """Versions never change once deployed, so they are cached per database and id; call this only when
    the database behind a running process is replaced (a restore from backup, the test suite's reset)."""
    _version_infos.clear()


class _Runner:
    """Loads, runs and saves one case's workflow with the calendar and clock of this transaction."""

    def __init__(self, session: Session, case: Case, version: VersionInfo, now: datetime) -> None:
        self.session, self.case, self.version, self.now = session, case, version, now
        self.calendar: WorkCalendar = calendar_for(session)
        self.engine = script_engine(self.calendar)
        workflow.use_clock(lambda: self.now)  # timers fire on this transaction's clock, as scripts see it
        self.key = f"pv{version.id}:{version.bpmn_sha256[:16]}"
        self.unrouted: list[tuple[str, str, str]] = []  # (step, level, why) of steps that found no unit

    def start(self, data: dict) -> Any:
        return workflow.start(self.key, self._spec_json, data, self.engine)

    def load(self) -> Any:
        return workflow.load(self.key, self._spec_json, self.case.state or "{}", self.engine)

    def _spec_json(self) -> str:
        # Read only when this process has not restored the version's spec yet.
        return self.session.scalar(select(ProcessVersion.spec_json).where(ProcessVersion.id == self.version.id))


def _project(runner: _Runner, wf: Any, actor: User | None, from_unit_id: int | None,
             step_done: WorkItem | None = None) -> list[WorkItem]:
    """Mirror READY user tasks into work items; cancel items whose task is gone (e.g. a timer fired)."""
    # One flush at the end of the step instead of one before every query below; so the state of items
    # changed in this step is checked in memory, not in SQL.
    with runner.session.no_autoflush:
        return _project_unflushed(runner, wf, actor, from_unit_id, step_done)


def _project_unflushed(runner: _Runner, wf: Any, actor: User | None, from_unit_id: int | None,
                       step_done: WorkItem | None) -> list[WorkItem]:
    session, case, now = runner.session, runner.case, runner.now
    rows = session.scalars(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open")
                           .options(lazyload("*")))
    open_items = {w.task_uuid: w for w in rows if w.state == "open"}
    ready = workflow.ready_user_tasks(wf)
    ready_ids = {str(t.id) for t in ready}
    for uuid, item in open_items.items():
        if uuid not in ready_ids:
            item.state = "cancelled"
            _event(session, case, "task_cancelled", now, step=item.name, step_bpmn_id=item.task_bpmn_id,
                   from_unit_id=item.unit_id)
    created: list[WorkItem] = []
    receiving = session.get(Unit, case.receiving_unit_id)
    for task in ready:
        if str(task.id) in open_items:
            continue
        node = runner.version.nodes.get(task.task_spec.bpmn_id) or {}
        name = node.get("name") or task.task_spec.bpmn_name or task.task_spec.bpmn_id
        try:
            unit = resolve_unit(session, receiving, node.get("level") or "", case.data)
        except RoutingError as e:
            case.error = f"{name}: {e.message}"
            runner.unrouted.append((name, node.get("level") or "", e.message))
            _event(session, case, "routing_error", now, step=name, step_bpmn_id=task.task_spec.bpmn_id,
                   data={"message": e.message})
            continue
        item = WorkItem(case_id=case.id, task_uuid=str(task.id), task_bpmn_id=task.task_spec.bpmn_id, name=name,
                        unit_id=unit.id, role_code=node.get("role") or "", level_code=unit.level_code,
                        form=node.get("form"), state="open", supplement=bool(node.get("supplement")),
                        created_at=now, due_at=due(runner.calendar, now, node.get("deadline_days")))
        if item.due_at is not None:
            item.remind_at = _reminder_time(runner.calendar, item.due_at)
        session.add(item)
        created.append(item)
        _event(session, case, "handover", now, actor_id=actor.id if actor else None,
               from_unit_id=from_unit_id, to_unit_id=unit.id, step=name, step_bpmn_id=item.task_bpmn_id,
               step_due_at=item.due_at,
               data={"role": item.role_code, "level": unit.level_code,
                     "after": step_done.name if step_done else None})
        if item.supplement:
            _pause(runner, item)
    still_open = [w for w in open_items.values() if w.state == "open"] + created
    if still_open:
        case.current_unit_id = min(still_open, key=lambda w: (w.due_at is None, w.due_at, w.id or 0)).unit_id
    return created


def _reminder_time(calendar: WorkCalendar, due_at: datetime) -> datetime:
    """One working day before the due moment (the sweep reminds the assignee then)."""
    return one_working_day_before(calendar, due_at)


def _pause(runner: _Runner, item: WorkItem) -> None:
    """Supplement request — yêu cầu bổ sung (NĐ 61 Điều 19.4): the case clock stops while the applicant
    completes the dossier. The waiting step has no deadline of its own: the applicant, not an official,
    is late, so the sweep neither reminds nor marks it overdue."""
    case = runner.case
    item.due_at = item.remind_at = None
    case.paused_at = runner.now
    case.supplement_count += 1
    _set_status(runner, Status.SUPPLEMENT)
    _event(runner.session, case, "paused", runner.now, step=item.name,
           data={"supplement_count": case.supplement_count})


def _resume(runner: _Runner) -> None:
    """The dossier is complete again: the time limit restarts from zero with a new appointment, which
    becomes the appointment of record (an apology later moves this one; the old one is in the event)."""
    case = runner.case
    case.paused_at = None
    _set_status(runner, Status.PROCESSING)
    case.clock_started_at = runner.now
    old = case.due_at
    case.due_at = case.original_due_at = due(runner.calendar, runner.now, runner.version.deadline_days)
    _event(runner.session, case, "resumed", runner.now,
           data={"previous_due_at": old.isoformat() if old else None,
                 "due_at": case.due_at.isoformat() if case.due_at else None})


def fire_timers(session: Session, case: Case, now: datetime | None = None) -> bool:
    """Fire the case's BPMN timers that are due at `now` (the caller holds lock_case); re-project work
    items and save. Returns whether anything happened (a timer event is appended only then)."""
    now = _now(now)
    if case.state is None or case.next_timer_at is None:
        return False
    runner = _Runner(session, case, version_info(session, case.process_version_id), now)
    wf = runner.load()
    before = case.next_timer_at
    try:
        workflow.fire_due_timers(wf)
    except Exception as e:  # noqa: BLE001 — the sweep records it on the case and retries later
        raise diagram_error(e, "Hẹn giờ của quy trình gặp lỗi") from e
    created = _project(runner, wf, None, case.current_unit_id)
    _save(runner, wf)
    if case.next_timer_at == before and not created and not workflow.is_completed(wf):
        return False
    _event(session, case, "timer", now, data={"due_at": before.isoformat(),
                                              "next_timer_at": case.next_timer_at.isoformat()
                                              if case.next_timer_at else None,
                                              "steps": [i.name for i in created]})
    session.flush()
    return True


def diagram_error(e: Exception, what: str) -> Invalid:
    """A 422 naming the BPMN element whose script, condition or timer failed (or ran out of budget)."""
    element, name, detail = workflow.failure(e)
    where = f" tại phần tử {element}" + (f" «{name}»" if name and name != element else "") if element else ""
    return Invalid(f"{what}{where}: {detail}", details={"element": element or None})


def _save(runner: _Runner, wf: Any) -> None:
    case = runner.case
    case.state = workflow.dump(wf)
    case.data = _json_safe(workflow.workflow_data(wf))
    case.next_timer_at = workflow.next_timer_due(wf)
    if workflow.is_completed(wf):
        ends = [runner.version.nodes.get(e) or {} for e in workflow.completed_end_events(wf)]
        results = [e.get("result") for e in ends if e.get("result")]
        case.result = case.result or (results[-1] if results else None)
        explicit = [e["status_code"] for e in ends if e.get("status_code")]
        _set_status(runner, explicit[-1] if explicit else max(case.status_code, Status.RESOLVED))
        case.current_unit_id = case.receiving_unit_id
        case.next_timer_at = None


def _set_status(runner: _Runner, code: int, actor: User | None = None) -> None:
    set_status(runner.session, runner.case, code, at=runner.now, by=actor)


def _json_safe(data: dict) -> dict:
    import json

    return json.loads(json.dumps(data, default=str))


def _now(now: datetime | None) -> datetime:
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


# --- receive ----------------------------------------------------------------------------------


def receive(session: Session, user: User, procedure: str, applicant: dict, data: dict | None = None,
            channel: str = "desk", received_at: datetime | str | None = None, now: datetime | None = None,
            max_backdate_days: int | None = None) -> Case:
    """Receive a complete dossier — tiếp nhận: code, appointment, workflow started, first steps routed.
    Only a receiving role (may_receive), only where the first step routes; a `received_at` in the past
    (a paper dossier entered late) at most `max_backdate_days` working days back, and audited as such."""
    now = _now(now)
    check = inputs.Checker()
    procedure = check.text("procedure", procedure, Procedure.code, required=True)
    if channel not in CHANNELS:
        check.add("channel", f"phải là một trong {', '.join(CHANNELS)}")
    who = applicant_fields(check, applicant)
    data = check.json("data", data or {})
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
    case = Case(code=next_case_code(session, unit.agency_code, received_at),
                lookup_secret=secrets.token_hex(3).upper(), procedure_id=proc.id, receiving_unit_id=unit.id,
                current_unit_id=unit.id, channel=channel, status_code=int(Status.RECEIVED), applicant_name=who["name"],
                applicant_id_number=who["id_number"], applicant_address=who["address"],
                applicant_phone=who["phone"], applicant_email=who["email"], data=clean,
                received_at=received_at)
    session.add(case)
    session.flush()
    return start_processing(session, user, case, now=now, _latest=(proc, version))


def _check_backdate(session: Session, received_at: datetime, now: datetime, max_days: int) -> None:
    # Calendar days first: a date years back needs no working-day calendar loaded for every year between.
    too_far = (now - received_at) > timedelta(days=max_days * 2 + 30)
    if too_far or calendar_for(session).working_days_between(received_at, now) > max_days:
        raise Invalid(f"Chỉ được ghi thời điểm tiếp nhận lùi tối đa {max_days} ngày làm việc "
                      "(MOTCUA_BACKDATE_MAX_DAYS)",
                      details={"received_at": f"lùi quá {max_days} ngày làm việc", "max_days": max_days})


def start_processing(session: Session, user: User, case: Case, now: datetime | None = None,
                     _latest: tuple[Procedure, ProcessVersion] | None = None) -> Case:
    """Accept a case at the desk: appointment from the legal limit, workflow started, first steps routed.
    Used for dossiers received at the desk and for online ones (status 1) a clerk accepts."""
    now = _now(now)
    if case.state is not None:
        raise Conflict(f"case {case.code} is already being processed")
    _ensure_receiver(user)
    proc, version = _latest or _procedure(session, case.procedure.code)
    unit = user.unit
    if case.status_code == Status.NEW:
        case.received_at = now  # an online submission counts from its acceptance at the desk
    received_at = case.received_at
    calendar = calendar_for(session)
    case.process_version_id, case.received_by_id = version.id, user.id
    set_status(session, case, Status.RECEIVED, at=received_at, by=user)
    ledger.assign_number(session, case)
    case.clock_started_at = received_at
    case.due_at = case.original_due_at = due(calendar, received_at, version.deadline_days)
    audit: dict[str, Any] = {"channel": case.channel}
    if received_at < now:  # entered after the fact: the record says when, and by whom
        audit["backdated"] = {"entered_at": now.isoformat(), "by": user.username}
    _event(session, case, "received", received_at, actor_id=user.id, to_unit_id=unit.id,
           step="Tiếp nhận hồ sơ", step_due_at=case.due_at, data=audit)
    # Steps of a paper dossier entered later are timed from its receipt, as the law counts them.
    runner = _Runner(session, case, version_info(session, version.id), received_at)
    seed = {**(case.data or {}), "case_code": case.code,
            "received_at": received_at.astimezone(VN_TZ).isoformat(), "procedure": proc.code}
    try:
        wf = runner.start(seed)
    except Exception as e:  # noqa: BLE001 — a diagram whose start fails is the designer's to fix, not a 500
        raise diagram_error(e, f"Quy trình «{proc.name}» không khởi động được") from e
    _project(runner, wf, user, unit.id)
    if runner.unrouted:
        # A case whose first step has nowhere to go would sit with no work item: refuse it, store nothing.
        step, level, message = runner.unrouted[0]
        raise Invalid(f"Không tiếp nhận được thủ tục này tại {unit.name}: bước «{step}» (cấp '{level}') "
                      f"không chuyển được — {message}",
                      details={"level": level, "unit": unit.code, "step": step})
    _save(runner, wf)
    session.flush()
    return case


def record_intake_outcome(session: Session, user: User, procedure: str, applicant: dict, outcome: str,
                          note: str, missing: list[str] | None = None, channel: str = "desk",
                          now: datetime | None = None) -> Case:
    """An incomplete (Mẫu 02) or refused (Mẫu 03) dossier at the desk: recorded, counted in reports,
    no workflow started."""
    now = _now(now)
    if outcome not in {"incomplete", "refused"}:
        raise Invalid("outcome must be 'incomplete' or 'refused'")
    check = inputs.Checker()
    procedure = check.text("procedure", procedure, Procedure.code, required=True)
    who = applicant_fields(check, applicant)
    note = check.text("note", note, Case.intake_note, multiline=True)
    missing = [check.text(f"missing[{i}]", m, multiline=True) for i, m in enumerate(missing or [])]
    if channel not in CHANNELS:
        check.add("channel", f"phải là một trong {', '.join(CHANNELS)}")
    _done(check)
    if not note.strip() and not missing:
        raise Invalid("Cần ghi rõ lý do", details={"note": "required"})
    _ensure_receiver(user)
    proc, _version = _procedure(session, procedure)
    unit = user.unit
    case = Case(code=next_case_code(session, unit.agency_code, now), lookup_secret=secrets.token_hex(3).upper(),
                procedure_id=proc.id, receiving_unit_id=unit.id, received_by_id=user.id,
                current_unit_id=unit.id, channel=channel, status_code=int(Status.NOT_RECEIVED), result=outcome,
                applicant_name=who["name"], applicant_id_number=who["id_number"],
                applicant_address=who["address"], applicant_phone=who["phone"], applicant_email=who["email"],
                data={"missing_documents": missing or []}, received_at=now, intake_note=note.strip())
    session.add(case)
    session.flush()
    _event(session, case, "intake_" + outcome, now, actor_id=user.id, to_unit_id=unit.id,
           data={"note": note, "missing": missing or []})
    return case


# --- tasks ------------------------------------------------------------------------------------


def _item_for(session: Session, user: User, item_id: int) -> WorkItem:
    item = session.get(WorkItem, item_id)
    if item is None or not can_view_case(session, user, item.case):
        raise NotFound(f"Không tìm thấy bước xử lý {item_id}")
    return item


def _ensure_assignee(user: User, item: WorkItem) -> None:
    if item.unit_id != user.unit_id or item.role_code not in user.roles:
        raise Forbidden(f"Bước «{item.name}» thuộc {item.unit.name} (vai trò {item.role_code}), không phải của bạn")
    if item.claimed_by_id and item.claimed_by_id != user.id:
        raise _claimed_elsewhere(item)


def _already_done(item: WorkItem) -> Conflict:
    who = item.completed_by.full_name if item.completed_by else "hệ thống"
    at = item.completed_at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if item.completed_at else ""
    return Conflict(f"Bước «{item.name}» đã được {who} hoàn thành lúc {at}",
                    details={"completed_by": item.completed_by.username if item.completed_by else None,
                             "completed_at": item.completed_at.isoformat() if item.completed_at else None})


def lock_case(session: Session, case_id: int) -> Case:
    """Row lock on PostgreSQL (SQLite holds the write lock for the whole transaction anyway)."""
    # The workflow state is deferred on Case (lists never need it); whoever locks the case runs the workflow.
    case = session.scalar(select(Case).where(Case.id == case_id).options(lazyload("*"), undefer(Case.state))
                          .with_for_update(of=Case).execution_options(populate_existing=True))
    if case is None:
        raise NotFound("case does not exist")
    return case


def complete_task(session: Session, user: User, item_id: int, data: Any,
                  now: datetime | None = None, documents: list[int] | None = None) -> Completion:
    """Complete a work item: lock the case, run the workflow, re-project work items, append audit; the
    submitted data is kept whole as the step's own record (engine.step_outputs)."""
    now = _now(now)
    data = inputs.json_data("data", data)  # refused before the case is locked
    # The hot path: load the item alone, then lock its case; related rows only load when an error names them.
    item = session.get(WorkItem, item_id, options=[lazyload("*")])
    if item is None:
        raise NotFound(f"Không tìm thấy bước xử lý {item_id}")
    case = lock_case(session, item.case_id)
    if not can_view_case(session, user, case):
        raise NotFound(f"Không tìm thấy bước xử lý {item_id}")
    # Re-read what a concurrent completion or claim may have changed, now that the case row is ours
    # (claims take the same lock), then check who holds the step.
    session.refresh(item, attribute_names=["state", "completed_at", "completed_by_id", "claimed_by_id"])
    if item.state == "completed":
        raise _already_done(item)
    if item.state != "open":
        raise Conflict(f"Bước «{item.name}» không còn mở để xử lý")
    _ensure_assignee(user, item)
    version = version_info(session, case.process_version_id)
    schema = version.forms.get(item.form) if item.form else None
    clean = form_rules.validate(schema, data)
    step_documents.check_completion(session, item, step_documents.attachments_rule(
        version.nodes.get(item.task_bpmn_id), schema), documents)
    runner = _Runner(session, case, version, now)
    wf = runner.load()
    task = workflow.find_task(wf, item.task_uuid)
    if task is None or not workflow.is_ready(task):
        raise Conflict(f"Bước «{item.name}» không còn chờ xử lý trong quy trình")
    try:
        workflow.complete_task(wf, task, clean)
    except Exception as e:  # noqa: BLE001 — a diagram error must not lose the step; roll back and say why
        raise diagram_error(e, f"Quy trình gặp lỗi sau bước «{item.name}»") from e
    item.state, item.completed_at, item.completed_by_id = "completed", now, user.id
    item.outcome = str(clean.get("outcome")) if clean.get("outcome") is not None else None
    item.timing = classify(now, item.due_at) if item.due_at else None
    step_outputs.record(session, case, item, user, clean, schema, version.id, now)
    _event(session, case, "task_completed", now, actor_id=user.id, from_unit_id=item.unit_id,
           step=item.name, step_bpmn_id=item.task_bpmn_id, step_due_at=item.due_at, timing=item.timing,
           data={"outcome": item.outcome, "comment": clean.get("comment")})
    node = version.nodes.get(item.task_bpmn_id) or {}
    if item.supplement:
        _resume(runner)
    elif case.status_code == Status.RECEIVED:
        _set_status(runner, Status.PROCESSING, user)
    if node.get("status_code"):
        _set_status(runner, int(node["status_code"]), user)
    case.error = None
    created = _project(runner, wf, user, item.unit_id, step_done=item)
    _save(runner, wf)
    try:
        session.flush()
    except StaleDataError as e:
        raise Conflict("Hồ sơ vừa được người khác cập nhật; hãy tải lại trang và thử lại") from e
    return Completion(case=case, item=item, next_items=created)


def retry_routing(session: Session, user: User, code: str, now: datetime | None = None) -> Case:
    """Route again the steps that could not be routed (after the organisation was fixed)."""
    now = _now(now)
    case = get_case(session, user, code)
    if case.state is None:
        raise Invalid(f"case {code} has no running process")
    case = lock_case(session, case.id)
    runner = _Runner(session, case, version_info(session, case.process_version_id), now)
    wf = runner.load()
    case.error = None
    _project(runner, wf, user, case.receiving_unit_id)
    _save(runner, wf)
    session.flush()
    return case


def _claimed_elsewhere(item: WorkItem) -> Conflict:
    holder = item.claimed_by
    return Conflict(f"Bước «{item.name}» đang do {holder.full_name} nhận xử lý",
                    details={"claimed_by": holder.username, "claimed_by_name": holder.full_name})


# What a concurrent claim or completion may have changed; re-read once the case lock is held.
_CLAIM_STATE = ["state", "claimed_by_id", "claimed_by", "completed_by_id", "completed_at", "completed_by"]


def _set_claim(session: Session, item: WorkItem, new: int | None, expected: int | None) -> bool:
    """Conditional UPDATE: the claim changes only if the step is still open and held by `expected`
    (None: nobody). On PostgreSQL a concurrent writer re-evaluates the WHERE after the first commits,
    so exactly one of two simultaneous claims matches a row."""
    held = WorkItem.claimed_by_id.is_(None) if expected is None else WorkItem.claimed_by_id == expected
    result = session.execute(update(WorkItem).where(WorkItem.id == item.id, WorkItem.state == "open", held)
                             .values(claimed_by_id=new).execution_options(synchronize_session=False))
    session.refresh(item, attribute_names=_CLAIM_STATE)
    return result.rowcount == 1


def _must_be_open(item: WorkItem) -> None:
    if item.state == "completed":
        raise _already_done(item)
    if item.state != "open":
        raise Conflict(f"Bước «{item.name}» không còn mở để xử lý")


def claim(session: Session, user: User, item_id: int, now: datetime | None = None) -> WorkItem:
    """Take a step for oneself — nhận xử lý. Of two officials claiming at once exactly one wins; the other
    gets a Conflict naming the winner. Claiming a step one already holds changes nothing."""
    item = _item_for(session, user, item_id)
    # The case lock orders a claim against a completion of the same case (complete_task holds it too).
    lock_case(session, item.case_id)
    session.refresh(item, attribute_names=_CLAIM_STATE)
    _must_be_open(item)
    _ensure_assignee(user, item)
    if item.claimed_by_id == user.id:
        return item
    if not _set_claim(session, item, user.id, None):
        _must_be_open(item)
        if item.claimed_by_id != user.id:
            raise _claimed_elsewhere(item)
        return item
    _event(session, item.case, "claimed", _now(now), actor_id=user.id, step=item.name,
           step_bpmn_id=item.task_bpmn_id)
    return item


def unclaim(session: Session, user: User, item_id: int, now: datetime | None = None) -> WorkItem:
    """Release a step to the shared inbox: by its holder, or by a head of the step's own unit. Only open
    steps can be released, and releasing a step nobody holds records nothing."""
    item = _item_for(session, user, item_id)
    lock_case(session, item.case_id)
    session.refresh(item, attribute_names=_CLAIM_STATE)
    _must_be_open(item)
    holder = item.claimed_by_id
    if holder is None:
        return item
    if holder != user.id and not (user.can("releases_claims") and user.unit_id == item.unit_id):
        raise Forbidden("Chỉ người đã nhận hoặc lãnh đạo phòng của đơn vị xử lý bước này mới trả lại được bước")
    if not _set_claim(session, item, None, holder):
        _must_be_open(item)
        if item.claimed_by_id is not None:
            raise _claimed_elsewhere(item)
        return item
    _event(session, item.case, "unclaimed", _now(now), actor_id=user.id, step=item.name,
           step_bpmn_id=item.task_bpmn_id, data={"held_by": holder})
    return item


# --- reading ----------------------------------------------------------------------------------


def get_case(session: Session, user: User, code: str) -> Case:
    """A case the user may see; any other gives NotFound, so guessing codes reveals nothing."""
    code = inputs.text("code", code, Case.code)
    case = session.scalar(select(Case).where(Case.code == code))
    if case is None or not can_view_case(session, user, case):
        raise NotFound(f"Không tìm thấy hồ sơ {code}")
    return case


def open_items(session: Session, case: Case) -> list[WorkItem]:
    return list(session.scalars(select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.state == "open")
                                .order_by(WorkItem.id)))


def events(session: Session, case: Case) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.at, Event.id)))


def get_item(session: Session, user: User, item_id: int) -> WorkItem:
    return _item_for(session, user, item_id)


@dataclass
class InboxPage:
    items: list[WorkItem]
    next: str | None


def _cursor(item: WorkItem) -> str:
    return f"{item.due_at.isoformat() if item.due_at else ''}|{item.id}"


TIME_STATES = ("overdue", "due_soon", "in_time")


def _parse_cursor(after: str) -> tuple[datetime, int]:
    """`<due_at ISO>|<id>` as handed out by the previous page; anything else is a 422 naming `after`."""
    check = inputs.Checker()
    due_text, sep, id_text = str(after).rpartition("|")
    moment = check.moment("after", due_text) if sep else None
    id_after = check.integer("after", id_text, WorkItem.id) if sep else None
    if not isinstance(moment, datetime) or moment.tzinfo is None or id_after is None:
        check.add("after", "con trỏ trang không hợp lệ")
    check.done("bad page cursor")
    return moment, id_after  # type: ignore[return-value]


def inbox(session: Session, user: User, after: str | None = None, limit: int = 50,
          procedure: str | None = None, claimed: str | None = None, time_state: str | None = None,
          now: datetime | None = None) -> InboxPage:
    """My unit's and roles' open work items by due date, keyset-paginated on (due_at, id); optionally only
    those overdue / due within one working day / in time (the same thresholds as inbox_counts)."""
    limit = max(1, min(limit, 200))
    if procedure:
        procedure = inputs.text("procedure", procedure, Procedure.code)
    q = select(WorkItem).where(WorkItem.unit_id == user.unit_id, WorkItem.role_code.in_(sorted(user.roles)),
                               WorkItem.state == "open")
    if procedure:
        q = q.join(Case, Case.id == WorkItem.case_id).join(Procedure, Procedure.id == Case.procedure_id) \
             .where(Procedure.code == procedure)
    if claimed == "me":
        q = q.where(WorkItem.claimed_by_id == user.id)
    elif claimed == "none":
        q = q.where(WorkItem.claimed_by_id.is_(None))
    if time_state:
        if time_state not in TIME_STATES:
            raise Invalid(f"time_state must be one of {', '.join(TIME_STATES)}")
        now = _now(now)
        soon = calendar_for(session).add_working_days(now, Decimal(1))
        q = q.where({"overdue": WorkItem.due_at < now,
                     "due_soon": and_(WorkItem.due_at >= now, WorkItem.due_at <= soon),
                     "in_time": or_(WorkItem.due_at > soon, WorkItem.due_at.is_(None))}[time_state])
    if after:
        due_after, id_after = _parse_cursor(after)
        # The redundant `due_at >= …` lets PostgreSQL walk ix_work_items_inbox in order and stop at the limit.
        q = q.where(WorkItem.due_at >= due_after,
                    or_(WorkItem.due_at > due_after, and_(WorkItem.due_at == due_after, WorkItem.id > id_after)))
    # The claimer is shown on every row: joined here, not one query per claimed row.
    q = q.options(joinedload(WorkItem.claimed_by).lazyload(User.role_links))
    rows = list(session.scalars(q.order_by(WorkItem.due_at, WorkItem.id).limit(limit + 1)).unique())
    page, more = rows[:limit], len(rows) > limit
    return InboxPage(items=page, next=_cursor(page[-1]) if more and page else None)


def inbox_counts(session: Session, user: User, now: datetime | None = None,
                 calendar: WorkCalendar | None = None) -> dict[str, int]:
    """Counts per time state for the inbox header: overdue, due within one working day, in time."""
    now = _now(now)
    calendar = calendar or calendar_for(session)
    soon = calendar.add_working_days(now, Decimal(1))
    base = select(func.count()).select_from(WorkItem).where(
        WorkItem.unit_id == user.unit_id, WorkItem.role_code.in_(sorted(user.roles)), WorkItem.state == "open")
    overdue = session.scalar(base.where(WorkItem.due_at < now)) or 0
    due_soon = session.scalar(base.where(WorkItem.due_at >= now, WorkItem.due_at <= soon)) or 0
    total = session.scalar(base) or 0
    return {"overdue": overdue, "due_soon": due_soon, "in_time": total - overdue - due_soon, "total": total}


def time_state(item_due: datetime | None, now: datetime, soon: datetime) -> str:
    """The inbox colour of an open item; the same thresholds as inbox_counts."""
    if item_due is None:
        return "in_time"
    if item_due < now:
        return "overdue"
    return "due_soon" if item_due <= soon else "in_time"


def public_status(session: Session, code: str) -> dict:
    """What anyone may know from a case code alone: the status and the appointment date."""
    code = inputs.text("code", code, Case.code)
    case = session.scalar(select(Case).where(Case.code == code))
    if case is None:
        raise NotFound(f"Không tìm thấy hồ sơ {code}")
    return {"code": case.code, "status_code": case.status_code, "status": STATUS[case.status_code],
            "due_at": case.due_at.isoformat() if case.due_at else None}

