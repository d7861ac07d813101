"""Running cases move to a new version of their procedure's diagram — previewed, audited, reversible.

A case can move when every step it waits on (a READY user task, a waiting timer or message) exists in the
new version with the same BPMN id, or `mapping` names its successor there. Moving keeps everything done
(events, completed work items, case code, appointment); the open steps keep their deadline and claim and
are routed again by the new lanes; a `migrated` event records from, to, map and who. A migrated case goes
back to its previous version while nothing has happened to it since (`revert`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from engine import case_records as case_rules
from engine import projection, workflow
from engine.deadlines import calendar_for, script_engine
from engine.errors import Conflict, Invalid, NotFound
from engine.models import Case, Event, Procedure, ProcessVersion, Unit, User, WorkItem, utcnow
from engine.routing import resolve_unit


@dataclass
class CaseCheck:
    code: str
    from_version: int
    waiting: list[str]
    can_migrate: bool
    why: list[str] = field(default_factory=list)


@dataclass
class MigrationPreview:
    procedure: str
    to_version: int
    mapping: dict[str, str]
    cases: list[CaseCheck]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["movable"] = sum(c.can_migrate for c in self.cases)
        out["blocked"] = sum(not c.can_migrate for c in self.cases)
        return out


def parse_mapping(pairs: list[str] | dict | None) -> dict[str, str]:
    """`OLD_ID=NEW_ID` pairs (CLI) or a {old: new} object (API)."""
    if not pairs:
        return {}
    if isinstance(pairs, dict):
        items = list(pairs.items())
    else:
        items = []
        for i, p in enumerate(pairs):
            old, sep, new = str(p).partition("=")
            if not sep or not old.strip() or not new.strip():
                raise Invalid.of("migrate_map_form", details={f"map[{i}]": str(p)[:100]})
            items.append((old, new))
    out = {}
    for old, new in items:
        if not isinstance(old, str) or not isinstance(new, str) or len(old) > 200 or len(new) > 200:
            raise Invalid.of("migrate_map_length", details={"map": str(old)[:100]})
        out[old.strip()] = new.strip()
    return out


def _target(session: Session, procedure: str, to_version: int) -> tuple[Procedure, ProcessVersion]:
    proc = session.scalar(select(Procedure).where(Procedure.code == procedure))
    if proc is None:
        raise NotFound.of("procedure_not_found", code=procedure)
    pv = session.scalar(select(ProcessVersion).where(ProcessVersion.procedure_id == proc.id,
                                                     ProcessVersion.version == to_version))
    if pv is None:
        raise Invalid.of("migrate_version_missing",
                         procedure=procedure, version=to_version, details={"to_version": to_version})
    return proc, pv


def _key(pv: ProcessVersion | case_rules.VersionInfo) -> str:
    return f"pv{pv.id}:{pv.bpmn_sha256[:16]}"


def _blob(session: Session, version_id: int) -> Any:
    return lambda: session.scalar(select(ProcessVersion.spec_json).where(ProcessVersion.id == version_id))


def _open_cases(session: Session, proc: Procedure, target: ProcessVersion, codes: list[str] | None) -> list[Case]:
    # Open = something still waits: a step in an inbox or a timer (a case decided but not yet returned is open).
    waiting = exists().where(WorkItem.case_id == Case.id, WorkItem.state == "open")
    q = select(Case).where(Case.procedure_id == proc.id, Case.state.is_not(None),
                           or_(waiting, Case.next_timer_at.is_not(None)), Case.process_version_id != target.id)
    if codes:
        q = q.where(Case.code.in_(codes))
    found = list(session.scalars(q.order_by(Case.id)))
    missing = set(codes or []) - {c.code for c in found}
    if missing:
        raise Invalid.of("migrate_cases_elsewhere",
                         cases=", ".join(sorted(missing)), details={"cases": sorted(missing)})
    return found


def _load(session: Session, case: Case) -> Any:
    info = case_rules.version_info(session, case.process_version_id)
    state = session.scalar(select(Case.state).where(Case.id == case.id))
    return workflow.load(_key(info), _blob(session, info.id), state or "{}", script_engine(calendar_for(session)))


def _check(session: Session, case: Case, target: ProcessVersion, mapping: dict[str, str],
           version_numbers: dict[int, int]) -> CaseCheck:
    wf = _load(session, case)
    waiting = workflow.waiting_steps(wf)
    new_ids = set(workflow.version_spec(_key(target), _blob(session, target.id)).task_specs)
    why = []
    for step in waiting:
        new = mapping.get(step, step)
        if new not in new_ids:
            why.append(f"bước «{step}» không có trong phiên bản {target.version}" +
                       ("" if step in mapping else "; thêm --map " + f"{step}=MÃ_BƯỚC_MỚI"))
    return CaseCheck(case.code, version_numbers.get(case.process_version_id, 0), waiting, not why, why)


def preview(session: Session, procedure: str, to_version: int, codes: list[str] | None = None,
            mapping: dict[str, str] | None = None) -> MigrationPreview:
    """Which open cases can move to `to_version` and, for those that cannot, why. Changes nothing."""
    mapping = mapping or {}
    proc, target = _target(session, procedure, to_version)
    numbers = dict(session.execute(select(ProcessVersion.id, ProcessVersion.version)
                                   .where(ProcessVersion.procedure_id == proc.id)).all())
    found = _open_cases(session, proc, target, codes)
    checks = [_check(session, c, target, mapping, numbers) for c in found]
    return MigrationPreview(procedure, to_version, mapping, checks)


def migrate(session: Session, user: User | None, procedure: str, to_version: int, codes: list[str] | None = None,
            mapping: dict[str, str] | None = None, now: datetime | None = None) -> MigrationPreview:
    """Move the cases that can move (all of them, or `codes`); refuses when a named case cannot."""
    now = now or utcnow()
    mapping = mapping or {}
    pv = preview(session, procedure, to_version, codes, mapping)
    blocked = [c for c in pv.cases if not c.can_migrate]
    if codes and blocked:
        raise Invalid.of("migrate_blocked",
                         cases="; ".join(f"{c.code}: {', '.join(c.why)}" for c in blocked),
                         details={c.code: c.why for c in blocked})
    _proc, target = _target(session, procedure, to_version)
    for check in pv.cases:
        if check.can_migrate:
            _migrate_one(session, user, check.code, target, mapping, now)
    return pv


def _migrate_one(session: Session, user: User | None, code: str, target: ProcessVersion, mapping: dict[str, str],
                 now: datetime) -> None:
    case = session.scalar(select(Case).where(Case.code == code))
    case = case_rules.lock_case(session, case.id)
    old_version = case.process_version_id
    old_state = case.state
    items = case_rules.open_items(session, case)
    snapshot = [{"id": i.id, "task_uuid": i.task_uuid, "task_bpmn_id": i.task_bpmn_id, "name": i.name,
                 "form": i.form, "unit_id": i.unit_id, "level_code": i.level_code} for i in items]
    wf = _load(session, case)
    workflow.use_clock(lambda: now)
    workflow.migrate(wf, _key(target), _blob(session, target.id), mapping)
    nodes = target.nodes or {}
    ready = workflow.ready_user_tasks(wf)
    receiving = session.get(Unit, case.receiving_unit_id)
    for item in items:
        want = mapping.get(item.task_bpmn_id, item.task_bpmn_id)
        task = next((t for t in ready if str(t.id) == item.task_uuid and t.task_spec.bpmn_id == want), None) or \
            next((t for t in ready if t.task_spec.bpmn_id == want), None)
        if task is None:
            continue  # _project below cancels it, with its event
        ready.remove(task)
        node = nodes.get(want) or {}
        item.task_uuid, item.task_bpmn_id = str(task.id), want
        item.name = node.get("name") or task.task_spec.bpmn_name or want
        item.form = node.get("form")
        unit = resolve_unit(session, receiving, node.get("level") or "", case.data)
        if unit.id != item.unit_id or (node.get("role") and node["role"] != item.role_code):
            session.add(Event(case_id=case.id, kind="handover", at=now, actor_id=user.id if user else None,
                              from_unit_id=item.unit_id, to_unit_id=unit.id, step=item.name, step_bpmn_id=want,
                              step_due_at=item.due_at, data={"role": node.get("role") or item.role_code,
                                                             "level": unit.level_code,
                                                             "reason": "chuyển phiên bản quy trình"}))
            item.unit_id, item.level_code = unit.id, unit.level_code
            item.role_code = node.get("role") or item.role_code
            item.claimed_by_id = None if item.claimed_by_id and item.unit_id != _unit_of(session, item.claimed_by_id) \
                else item.claimed_by_id
    case.process_version_id = target.id
    session.flush()
    runner = projection.Runner(session, case, case_rules.version_info(session, target.id), now)
    created = projection.project(runner, wf, user, case.current_unit_id)
    case.state = workflow.dump(wf)
    case.next_timer_at = workflow.next_timer_due(wf)
    session.flush()
    versions = dict(session.execute(select(ProcessVersion.id, ProcessVersion.version)
                                    .where(ProcessVersion.id.in_([old_version, target.id]))).all())
    session.add(Event(case_id=case.id, kind="migrated", at=now, actor_id=user.id if user else None,
                      data={"from": versions.get(old_version), "to": target.version, "map": mapping,
                            "by": user.username if user else None, "from_version_id": old_version,
                            "previous_state": old_state, "items": snapshot, "created": [i.id for i in created]}))
    session.flush()


def _unit_of(session: Session, user_id: int) -> int | None:
    return session.scalar(select(User.unit_id).where(User.id == user_id))


def revert(session: Session, user: User | None, code: str, now: datetime | None = None) -> Case:
    """Back to the version before the last migration, while nothing has happened to the case since."""
    now = now or utcnow()
    case = session.scalar(select(Case).where(Case.code == code))
    if case is None:
        raise NotFound.of("case_not_found", code=code)
    case = case_rules.lock_case(session, case.id)
    last = session.scalar(select(Event).where(Event.case_id == case.id, Event.kind == "migrated")
                          .order_by(Event.id.desc()).limit(1))
    if last is None or (last.data or {}).get("reverted"):
        raise Conflict.of("migrate_not_migrated", code=code)
    since = session.scalar(select(func.count()).select_from(Event).where(
        Event.case_id == case.id, Event.id > last.id, Event.kind != "org_restructured"))
    if since:
        raise Conflict.of("migrate_events_since", code=code, count=since, details={"events_since": since})
    data = last.data
    for row in data["items"]:
        item = session.get(WorkItem, row["id"])
        for k in ("task_uuid", "task_bpmn_id", "name", "form", "unit_id", "level_code"):
            setattr(item, k, row[k])
        item.state = "open"
    for item_id in data.get("created", []):
        item = session.get(WorkItem, item_id)
        if item is not None and item.state == "open":
            item.state = "cancelled"
    case.process_version_id = data["from_version_id"]
    case.state = data["previous_state"]
    session.add(Event(case_id=case.id, kind="migration_reverted", at=now, actor_id=user.id if user else None,
                      data={"from": data["to"], "to": data["from"], "by": user.username if user else None}))
    session.flush()
    return case
