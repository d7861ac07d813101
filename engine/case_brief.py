"""What an answer about a case shows besides the case row itself — the codes of its procedure and units, its
process version's number and its open steps — read in ONE query.

The case a step has just moved is locked without its relations (engine.case_records.lock_case), so reading
them through the ORM costs a look-up each (procedure, process version, units) plus the open steps with their
own joins; this query answers all of it from the indexed work_items(case_id, …) and primary keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session, aliased

from engine.models import Case, Procedure, ProcessVersion, Unit, User, WorkItem


@dataclass(frozen=True)
class TaskBrief:
    """An open step as answers show it (the API's Task)."""

    id: int
    case_code: str
    name: str
    step: str
    unit: str
    unit_name: str
    level: str
    role: str
    state: str
    form: str | None
    due_at: datetime | None
    created_at: datetime | None
    claimed_by: str | None
    procedure: str


@dataclass(frozen=True)
class CaseBrief:
    procedure: str
    receiving_unit: str
    competent_unit: str | None
    current_unit: str | None
    process_version: int | None
    tasks: list[TaskBrief]


def _query() -> Select:
    receiving, competent, current, step_unit = (aliased(Unit) for _ in range(4))
    claimer = aliased(User)
    return (select(Procedure.code, receiving.code, competent.code, current.code, ProcessVersion.version,
                   WorkItem.id, WorkItem.name, WorkItem.task_bpmn_id, step_unit.code, step_unit.name,
                   WorkItem.level_code, WorkItem.role_code, WorkItem.state, WorkItem.form, WorkItem.due_at,
                   WorkItem.created_at, claimer.username)
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
    tasks = [TaskBrief(r[5], case.code, r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15], r[16],
                       first[0]) for r in rows if r[5] is not None]
    return CaseBrief(first[0], first[1], first[2], first[3], first[4], tasks)


def task_brief(item: WorkItem, procedure: str | None = None) -> TaskBrief:
    """A step already loaded with its case and unit (inboxes, the step just completed); `procedure` is the
    case's procedure code when the caller knows it (a locked case has its relations unloaded)."""
    return TaskBrief(item.id, item.case.code, item.name, item.task_bpmn_id, item.unit.code, item.unit.name,
                     item.level_code, item.role_code, item.state, item.form, item.due_at, item.created_at,
                     item.claimed_by.username if item.claimed_by else None,
                     procedure or item.case.procedure.code)
