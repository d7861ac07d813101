"""What an answer about a case shows besides the case row itself — the codes of its procedure and units, its
process version's number and its open steps — read in ONE query.

The case a step has just moved is locked without its relations (engine.case_records.lock_case), so reading
them through the ORM costs a look-up each (procedure, process version, units) plus the open steps with their
own joins; this query answers all of it from the indexed work_items(case_id, …) and primary keys."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session, aliased

from engine import reference
from engine.case_records import version_info
from engine.models import Case, Procedure, ProcessVersion, Unit, User, WorkItem


@dataclass(frozen=True)
class CaseBrief:
    procedure: str
    receiving_unit: str
    competent_unit: str | None
    current_unit: str | None
    process_version: int | None
    # Each open step as a row whose names are the API's Task fields (web.schemas.Task reads it from_attributes).
    tasks: list[Any]


def _query() -> Select:
    receiving, competent, current, step_unit = (aliased(Unit) for _ in range(4))
    claimer = aliased(User)
    return (select(Procedure.code.label("procedure"), receiving.code, competent.code, current.code,
                   ProcessVersion.version, WorkItem.id.label("id"), Case.code.label("case_code"),
                   WorkItem.name.label("name"), WorkItem.task_bpmn_id.label("step"), step_unit.code.label("unit"),
                   step_unit.name.label("unit_name"), WorkItem.level_code.label("level"),
                   WorkItem.role_code.label("role"), WorkItem.state.label("state"), WorkItem.form.label("form"),
                   WorkItem.due_at.label("due_at"), WorkItem.created_at.label("created_at"),
                   claimer.username.label("claimed_by"))
            .select_from(Case)
            .join(Procedure, Procedure.id == Case.procedure_id)
            .join(receiving, receiving.id == Case.receiving_unit_id)
            .outerjoin(competent, competent.id == Case.competent_unit_id)
            .outerjoin(current, current.id == Case.current_unit_id)
            .outerjoin(ProcessVersion, ProcessVersion.id == Case.process_version_id)
            .outerjoin(WorkItem, and_(WorkItem.case_id == Case.id, WorkItem.state == "open"))
            .outerjoin(step_unit, step_unit.id == WorkItem.unit_id)
            .outerjoin(claimer, claimer.id == WorkItem.claimed_by_id)
            .where(Case.id == bindparam("case_id")).order_by(WorkItem.id))


_QUERY: list[Select] = []  # built once: building five aliases costs more than running the query


def case_brief(session: Session, case: Case) -> CaseBrief:
    """The case's relations and open steps (by id, as engine.case_records.open_items orders them)."""
    if not _QUERY:
        _QUERY.append(_query())
    # ORM attributes in the statement: the step's pending changes are flushed before it runs.
    rows = session.execute(_QUERY[0], {"case_id": case.id}).all()
    first = rows[0]
    return CaseBrief(first[0], first[1], first[2], first[3], first[4], [r for r in rows if r.id is not None])


def after_step(session: Session, case: Case, open_items: list[WorkItem] | None) -> CaseBrief:
    """The same brief for a case whose step has just run, from what the step holds: its open steps as the
    projection left them (read under the case lock, plus the new ones), the units and procedure from the
    reference cache, the version from the version cache — no read back. Only a step someone holds looks its
    holder up. Without the open steps (a step that did not project), the brief is read."""
    if open_items is None or case.process_version_id is None:
        return case_brief(session, case)
    version = version_info(session, case.process_version_id).number
    snap = reference.snapshot(session)
    procedure = reference.procedure(session, case.procedure_id).code

    def code(unit_id: int | None) -> str | None:
        return snap.units[unit_id].code if unit_id is not None else None

    tasks = []
    for item in sorted(open_items, key=lambda w: w.id):
        unit = snap.units[item.unit_id]
        holder = session.get(User, item.claimed_by_id) if item.claimed_by_id else None
        tasks.append(SimpleNamespace(
            id=item.id, case_code=case.code, name=item.name, step=item.task_bpmn_id, unit=unit.code,
            unit_name=unit.name, level=item.level_code, role=item.role_code, state=item.state, form=item.form,
            due_at=item.due_at, created_at=item.created_at, claimed_by=holder.username if holder else None,
            procedure=procedure))
    return CaseBrief(procedure, code(case.receiving_unit_id), code(case.competent_unit_id),
                     code(case.current_unit_id), version, tasks)


def task_brief(item: WorkItem, procedure: str | None = None) -> dict[str, Any]:
    """A step already loaded with its case and unit (inboxes, the step just completed), under the same names as
    a row of `case_brief`'s tasks; `procedure` is the case's procedure code when the caller knows it (a locked
    case has its relations unloaded)."""
    return {"id": item.id, "case_code": item.case.code, "name": item.name, "step": item.task_bpmn_id,
            "unit": item.unit.code, "unit_name": item.unit.name, "level": item.level_code, "role": item.role_code,
            "state": item.state, "form": item.form, "due_at": item.due_at, "created_at": item.created_at,
            "claimed_by": item.claimed_by.username if item.claimed_by else None,
            "procedure": procedure or item.case.procedure.code}
