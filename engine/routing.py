"""How a lane becomes a unit, and who may see a case.

A lane names a level and a role. The unit is found from the case's origin unit: the unit at that
level on the path from the origin up to the root; for a level below the origin, a unit in the origin's
own branch. So a commune in district A never routes work to district B.

The origin (NĐ 118/2025, receive anywhere, decide by competence): desk work — a lane whose role receives
dossiers, e.g. returning the result — starts from the receiving unit; every other lane starts from the
case's competent unit (the receiving unit when none was recorded, as before 2025).
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine import reference
from engine.errors import RoutingError
from engine.models import Case, Event, Unit, UnitSuccessor, User, WorkItem
from engine.reference import Snapshot, UnitRef


def origin_unit_id(session: Session, case: Case, role: str | None) -> int:
    """The unit a step's lane resolves from: the receiving desk for desk roles, else the competent unit."""
    if case.competent_unit_id is None or case.competent_unit_id == case.receiving_unit_id:
        return case.receiving_unit_id
    if role and role in reference.snapshot(session).desk_roles:
        return case.receiving_unit_id  # the result returns to the desk that received the dossier
    return case.competent_unit_id


def origin_unit(session: Session, case: Case, role: str | None) -> Unit:
    return session.get(Unit, origin_unit_id(session, case, role))


def route(session: Session, origin_id: int, level: str, data: dict | None = None) -> UnitRef:
    """The unit that does a step at `level` for a case whose lanes resolve from unit `origin_id`, read from
    the reference snapshot (engine.reference: the organisation as this transaction sees it, no query).

    After a restructuring (engine.restructure) the origin unit may be inactive (merged: its successor
    receives instead) and the lane's level may be abolished (its alias `work_to` does the step), so old
    diagrams and running cases keep routing. Both are consulted only when the plain rule finds nothing."""
    from engine import unit_history

    snap = reference.snapshot(session)
    origin = snap.units[origin_id]
    try:
        return _resolve(snap, origin, level, data)
    except RoutingError:
        moved = unit_history.successor_ref(snap, origin)
        alias = snap.aliases.get(level)
        if moved is None and alias is None:
            raise
        return _resolve(snap, moved or origin, alias or level, data)


def resolve_unit(session: Session, receiving_unit: Unit, level: str, data: dict | None = None) -> Unit:
    """`route` for callers that want the unit's row (migrations of cases, tests)."""
    return session.get(Unit, route(session, receiving_unit.id, level, data).id)


def _resolve(snap: Snapshot, receiving_unit: UnitRef, level: str, data: dict | None = None) -> UnitRef:
    for unit_id in receiving_unit.ancestor_ids():
        unit = snap.units.get(unit_id)
        if unit is not None and unit.level_code == level and unit.active:
            return unit
    below = [u for u in snap.active_at_level(level) if u.path.startswith(receiving_unit.path)]
    chosen = (data or {}).get(f"unit_{level}")
    if chosen:
        for candidate in below:
            if candidate.code == chosen:
                return candidate
        raise RoutingError.of("route_unit_not_below", chosen=chosen, level=level, unit=receiving_unit.name)
    if len(below) == 1:
        return below[0]
    label = snap.level_names.get(level, level)
    if not below:
        raise RoutingError.of("route_no_unit", label=label.lower(), unit=receiving_unit.name,
                              unit_code=receiving_unit.code)
    raise RoutingError.of("route_several_units", count=len(below), label=label.lower(), unit=receiving_unit.name,
                          level=level)


# Roles whose holders receive dossiers at a desk (Bộ phận Một cửa). One place: when roles gain capability
# columns, only may_receive changes.
def may_receive(user: User) -> bool:
    """Whether the user may receive a dossier (tiếp nhận) for their unit: a role that receives dossiers (the
    one-stop clerk in the demo), nobody else — not a specialist, a head, a designer or the system administrator."""
    return user.can("receives_dossiers")


def can_view_case(session: Session, user: User, case: Case, step: WorkItem | None = None) -> bool:
    """Staff see a case only when their unit received it, is competent for it, or it was routed to their unit.
    `step`, one of the case's work items already in hand, answers "routed to their unit" without a query
    when it is that unit's."""
    if user.has_role("admin"):
        return True
    if user.unit_id in (case.receiving_unit_id, case.competent_unit_id):
        return True
    if step is not None and step.case_id == case.id and step.unit_id == user.unit_id:
        return True
    snap = reference.snapshot(session)
    receiving = snap.units.get(case.receiving_unit_id)
    if receiving is not None and not receiving.active:  # merged away: its successor's staff keep its cases
        from engine.unit_history import successor_ref

        moved = successor_ref(snap, receiving)
        if moved is not None and moved.id == user.unit_id:
            return True
    return bool(session.scalar(select(exists().where(WorkItem.case_id == case.id,
                                                     WorkItem.unit_id == user.unit_id))))


def visible_cases(user: User) -> ColumnElement[bool]:
    """The same rule as can_view_case, as a filter for case listings."""
    if user.has_role("admin"):
        return Case.id.is_not(None)
    routed = exists().where(WorkItem.case_id == Case.id, WorkItem.unit_id == user.unit_id)
    handed = exists().where(Event.case_id == Case.id, Event.to_unit_id == user.unit_id)
    inherited = Case.receiving_unit_id.in_(select(UnitSuccessor.predecessor_id)
                                           .where(UnitSuccessor.successor_id == user.unit_id))
    return or_(Case.receiving_unit_id == user.unit_id, Case.competent_unit_id == user.unit_id, routed, handed,
               inherited)
