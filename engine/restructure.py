"""Restructuring as a plan: preview what moves where, then apply it in batches (NQ 190/2025/QH15: the
successor continues open procedures without interruption, never asks for a new submission and never redoes
a step already done).

- `preview(session, plan)` lists every open case with work at a unit that is merged away or whose level is
  abolished: each open step, where it goes (unit, role) and any problem. It changes nothing.
- `apply(database, plan, …)` refuses a plan with problems; otherwise one transaction changes the
  organisation (new units, inactive old ones, successors, level aliases, name history, users), then the
  cases move in batches of one transaction each. A rerun continues where it stopped; a finished plan
  applied again changes nothing. Case codes, due dates and history stay as they were."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.case_records import lock_case
from engine.db import Database
from engine.errors import Invalid
from engine.models import (
    Case,
    Event,
    LevelAlias,
    ProcessVersion,
    RestructureRun,
    Unit,
    UnitName,
    UnitSuccessor,
    User,
    WorkItem,
    utcnow,
)
from engine.org import add_unit
from engine.restructure_plan import Model, Plan, model_after
from engine.status import Status

REASON = "sắp xếp đơn vị hành chính"
BATCH = 50


@dataclass
class Move:
    item_id: int
    step: str
    step_id: str
    role: str
    from_unit: str
    to_unit: str | None
    problem: str | None = None


@dataclass
class CaseMoves:
    code: str
    moves: list[Move] = field(default_factory=list)
    receiving_to: str | None = None  # an online dossier not yet accepted moves to the successor desk


@dataclass
class Preview:
    plan_sha256: str
    effective: str
    cases: list[CaseMoves]
    problems: list[str]
    warnings: list[str]
    units: list[str]
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not any(m.problem for c in self.cases for m in c.moves)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        out["items"] = sum(len(c.moves) for c in self.cases)
        return out


def _lane_levels(session: Session, version_ids: set[int]) -> dict[int, dict]:
    rows = session.execute(select(ProcessVersion.id, ProcessVersion.nodes).where(ProcessVersion.id.in_(version_ids)))
    return {vid: nodes or {} for vid, nodes in rows}


def _moves(session: Session, m: Model, case_ids: list[int] | None = None) -> list[CaseMoves]:
    """The open steps at affected units, grouped per case, with their targets."""
    affected_ids = [m.units[c].id for c in m.affected if m.units[c].id is not None]
    if not affected_ids:
        return []
    code_of = {u.id: u.code for u in m.units.values() if u.id is not None}
    q = select(WorkItem, Case.code, Case.receiving_unit_id, Case.process_version_id) \
        .join(Case, Case.id == WorkItem.case_id) \
        .where(WorkItem.state == "open", WorkItem.unit_id.in_(affected_ids))
    if case_ids is not None:
        q = q.where(WorkItem.case_id.in_(case_ids))
    rows = session.execute(q.order_by(WorkItem.case_id, WorkItem.id)).all()
    nodes = _lane_levels(session, {r[3] for r in rows if r[3] is not None})
    out: dict[str, CaseMoves] = {}
    for item, code, receiving_id, version_id in rows:
        lane = (nodes.get(version_id, {}).get(item.task_bpmn_id) or {}).get("level") or item.level_code
        target = m.target(code_of[receiving_id], lane, code_of[item.unit_id])
        problem = None
        if target is None:
            problem = "không tìm được đơn vị kế thừa đang hoạt động"
        elif item.role_code not in m.roles_at.get(target, set()):
            problem = f"không có người dùng vai trò {item.role_code} tại {target}"
        out.setdefault(code, CaseMoves(code)).moves.append(
            Move(item.id, item.name, item.task_bpmn_id, item.role_code, code_of[item.unit_id], target, problem))
    waiting = select(Case.code, Case.receiving_unit_id).where(
        Case.state.is_(None), Case.status_code == int(Status.NEW), Case.receiving_unit_id.in_(affected_ids))
    for code, receiving_id in session.execute(waiting):
        out.setdefault(code, CaseMoves(code)).receiving_to = m.current(code_of[receiving_id])
    return list(out.values())


def preview(session: Session, plan: Plan) -> Preview:
    """What applying `plan` would do, changing nothing."""
    m = model_after(session, plan)
    run = session.scalar(select(RestructureRun).where(RestructureRun.plan_sha256 == plan.sha256))
    units = [f"{u.code}: {'mới, ' if u.new else ''}{'hoạt động' if u.active else 'ngừng hoạt động'}"
             + (f" → {m.successor[u.code]}" if u.code in m.successor and not u.active else "")
             for u in sorted(m.units.values(), key=lambda x: x.code) if u.new or u.code in m.affected]
    return Preview(plan.sha256, plan.effective.isoformat(), _moves(session, m), list(m.problems),
                   list(m.warnings), units, applied=bool(run and run.state == "done"))


# --- apply ------------------------------------------------------------------------------------------


def _organisation(session: Session, plan: Plan, m: Model) -> None:
    """The organisation step, idempotent: what is already as the plan says is left alone."""
    units = {u.code: u for u in session.scalars(select(Unit))}
    for mg in plan.merges:
        code = mg.into["code"]
        if code not in units:
            parent = mg.into.get("parent")
            units[code] = add_unit(session, code, mg.into["name"], mg.into["level"], parent,
                                   mg.into.get("agency_code"))
        for src in mg.sources:
            _retire(session, units[src], units[code], plan.effective, "merge")
            session.execute(User.__table__.update().where(User.unit_id == units[src].id)
                            .values(unit_id=units[code].id))
    for ab in plan.abolish:
        if session.get(LevelAlias, ab.level) is None:
            session.add(LevelAlias(level_code=ab.level, work_to=ab.work_to, effective=plan.effective))
        for code, u in list(units.items()):
            if u.level_code != ab.level or code not in m.affected:
                continue
            for child in units.values():
                if child.parent_id == u.id and child.active and child.id != u.id:
                    child.parent_id = u.parent_id
            successor = m.successor.get(code)
            if successor is not None:
                _retire(session, u, units[successor], plan.effective, "abolish")
            u.active = False
    for r in plan.renames:
        _rename(session, units[r["unit"]], r["name"], r["agency_code"], plan.effective)
    for src, dst in plan.moves:
        session.execute(User.__table__.update().where(User.unit_id == units[src].id)
                        .values(unit_id=units[m.current(dst)].id))
    session.flush()
    _repath(session)


def _retire(session: Session, unit: Unit, successor: Unit, effective: datetime, kind: str) -> None:
    unit.active = False
    if session.get(UnitSuccessor, unit.id) is None:
        session.add(UnitSuccessor(predecessor_id=unit.id, successor_id=successor.id, effective=effective, kind=kind))


def _rename(session: Session, unit: Unit, name: str, agency_code: str | None, effective: datetime) -> None:
    """The old name stays valid until `effective` (unit_names); existing case codes never change."""
    if unit.name == name and (agency_code is None or unit.agency_code == agency_code):
        return
    last = session.scalar(select(UnitName).where(UnitName.unit_id == unit.id).order_by(UnitName.valid_to.desc())
                          .limit(1))
    session.add(UnitName(unit_id=unit.id, name=unit.name, agency_code=unit.agency_code,
                         valid_from=last.valid_to if last else None, valid_to=effective))
    unit.name = name
    if agency_code:
        unit.agency_code = agency_code


def _repath(session: Session) -> None:
    """Materialised paths again from parent ids (units are few: a province has a few thousand at most)."""
    units = {u.id: u for u in session.scalars(select(Unit))}

    def path(u: Unit, depth: int = 0) -> str:
        parent = units.get(u.parent_id) if u.parent_id else None
        return (path(parent, depth + 1) if parent is not None and depth < 50 else "/") + f"{u.id}/"

    for u in units.values():
        new = path(u)
        if u.path != new:
            u.path = new
    session.flush()


def _move_case(session: Session, plan: Plan, cm: CaseMoves, actor: User | None, now: datetime) -> bool:
    """Move one case's open steps (under the case lock); False when another run already moved them."""
    case = session.scalar(select(Case).where(Case.code == cm.code))
    case = lock_case(session, case.id)
    units = {u.code: u for u in session.scalars(select(Unit))}
    moved = []
    for mv in cm.moves:
        item = session.get(WorkItem, mv.item_id)
        session.refresh(item)
        if item.state != "open" or units[mv.from_unit].id != item.unit_id:
            continue
        target = units[mv.to_unit]
        holder = session.get(User, item.claimed_by_id) if item.claimed_by_id else None
        if holder is not None and (holder.unit_id != target.id or item.role_code not in holder.roles):
            item.claimed_by_id = None  # the holder did not move with the work: back to the shared inbox
        item.unit_id, item.level_code = target.id, target.level_code
        session.add(Event(case_id=case.id, kind="handover", at=now, actor_id=actor.id if actor else None,
                          from_unit_id=units[mv.from_unit].id, to_unit_id=target.id, step=item.name,
                          step_bpmn_id=item.task_bpmn_id, step_due_at=item.due_at,
                          data={"role": item.role_code, "level": target.level_code, "reason": REASON,
                                "restructure": plan.sha256}))
        moved.append({"step": item.name, "from": mv.from_unit, "to": mv.to_unit, "role": item.role_code})
    if cm.receiving_to and units[cm.receiving_to].id != case.receiving_unit_id:
        moved.append({"receiving_from": case.receiving_unit.code, "to": cm.receiving_to})
        case.receiving_unit_id = case.current_unit_id = units[cm.receiving_to].id
    if not moved:
        return False
    if case.current_unit_id is not None and session.get(Unit, case.current_unit_id).active is False:
        open_units = [session.get(WorkItem, mv.item_id).unit_id for mv in cm.moves]
        case.current_unit_id = open_units[0] if open_units else case.current_unit_id
    session.add(Event(case_id=case.id, kind="org_restructured", at=now, actor_id=actor.id if actor else None,
                      data={"plan": plan.sha256, "effective": plan.effective.isoformat(), "reason": REASON,
                            "moved": moved}))
    session.flush()
    return True


@dataclass
class ApplyResult:
    plan_sha256: str
    cases_moved: int
    items_moved: int
    batches: int
    already_applied: bool = False


def apply(database: Database, plan: Plan, by: str | None = None, now: datetime | None = None,
          batch_size: int = BATCH, max_batches: int | None = None) -> ApplyResult:
    """Apply `plan`: the organisation in one transaction, then the cases in batches (`max_batches` stops
    early, as an interruption would; a rerun continues)."""
    now = now or utcnow()
    with database.transaction() as s:
        run = s.scalar(select(RestructureRun).where(RestructureRun.plan_sha256 == plan.sha256))
        if run is not None and run.state == "done":
            return ApplyResult(plan.sha256, 0, 0, 0, already_applied=True)
        pv = preview(s, plan)
        if not pv.ok:
            problems = pv.problems + [f"{c.code}: {mv.step}: {mv.problem}" for c in pv.cases for mv in c.moves
                                      if mv.problem]
            raise Invalid.of("plan_has_problems", problems="; ".join(problems[:10]), details={"problems": problems})
        actor = s.scalar(select(User).where(User.username == by)) if by else None
        if run is None:
            run = RestructureRun(plan_sha256=plan.sha256, plan=plan.raw, state="running",
                                 started_by_id=actor.id if actor else None, started_at=now)
            s.add(run)
        _organisation(s, plan, model_after(s, plan))
    cases = items = batches = 0
    while max_batches is None or batches < max_batches:
        with database.transaction() as s:
            m = model_after(s, plan)
            pending = _moves(s, m)[:batch_size]
            if not pending:
                run = s.scalar(select(RestructureRun).where(RestructureRun.plan_sha256 == plan.sha256))
                run.state, run.finished_at = "done", now
                break
            actor = s.scalar(select(User).where(User.username == by)) if by else None
            done_now = 0
            for cm in pending:
                if _move_case(s, plan, cm, actor, now):
                    done_now += 1
                    items += len(cm.moves)
            cases += done_now
            run = s.scalar(select(RestructureRun).where(RestructureRun.plan_sha256 == plan.sha256))
            run.cases_done += done_now
            if not done_now:  # nothing could move (should not happen): stop rather than spin
                run.state, run.finished_at = "done", now
        batches += 1
        if not done_now:
            break
    return ApplyResult(plan.sha256, cases, items, batches)
