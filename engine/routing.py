"""How a lane becomes a unit, and who may see a case.

A lane names a level and a role. The unit is found from the case's receiving unit: the unit at that
level on the path from the receiving unit up to the root; for a level below the receiving unit, a
unit in the receiving unit's own branch. So a commune in district A never routes work to district B.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.errors import RoutingError
from engine.models import Case, Event, Level, Unit, UnitSuccessor, User, WorkItem


def resolve_unit(session: Session, receiving_unit: Unit, level: str, data: dict | None = None) -> Unit:
    """The unit that does a step at `level` for a case received at `receiving_unit`.

    After a restructuring (engine.restructure) the receiving unit may be inactive (merged: its successor
    receives instead) and the lane's level may be abolished (its alias `work_to` does the step), so old
    diagrams and running cases keep routing. Both are consulted only when the plain rule finds nothing, so
    an unchanged organisation costs no extra query."""
    try:
        return _resolve(session, receiving_unit, level, data)
    except RoutingError:
        from engine import unit_history

        moved = unit_history.successor(session, receiving_unit)
        alias = unit_history.level_alias(session, level)
        if moved is None and alias is None:
            raise
        return _resolve(session, moved or receiving_unit, alias or level, data)


def _resolve(session: Session, receiving_unit: Unit, level: str, data: dict | None = None) -> Unit:
    ancestors = receiving_unit.ancestor_ids()
    unit = session.scalar(select(Unit).where(Unit.id.in_(ancestors), Unit.level_code == level,
                                             Unit.active.is_(True)))
    if unit is not None:
        return unit
    below = list(session.scalars(select(Unit).where(Unit.path.startswith(receiving_unit.path),
                                                    Unit.level_code == level, Unit.active.is_(True))))
    chosen = (data or {}).get(f"unit_{level}")
    if chosen:
        for candidate in below:
            if candidate.code == chosen:
                return candidate
        raise RoutingError(f"đơn vị '{chosen}' ghi trong unit_{level} không thuộc cấp '{level}' trực thuộc "
                           f"{receiving_unit.name}")
    if len(below) == 1:
        return below[0]
    level_name = session.get(Level, level)
    label = level_name.name if level_name else level
    if not below:
        raise RoutingError(f"không có đơn vị {label.lower()} trên tuyến của {receiving_unit.name} "
                           f"({receiving_unit.code}); thêm đơn vị bằng `motcua org add` hoặc sửa làn trong quy trình")
    raise RoutingError(f"có {len(below)} đơn vị {label.lower()} trực thuộc {receiving_unit.name}; dữ liệu hồ sơ "
                       f"phải chỉ rõ một đơn vị trong 'unit_{level}'")


# Roles whose holders receive dossiers at a desk (Bộ phận Một cửa). One place: when roles gain capability
# columns, only may_receive changes.
def may_receive(user: User) -> bool:
    """Whether the user may receive a dossier (tiếp nhận) for their unit: a role that receives dossiers (the
    one-stop clerk in the demo), nobody else — not a specialist, a head, a designer or the system administrator."""
    return user.can("receives_dossiers")


def can_view_case(session: Session, user: User, case: Case) -> bool:
    """Staff see a case only when their unit received it or it was routed to their unit."""
    if user.has_role("admin"):
        return True
    if case.receiving_unit_id == user.unit_id:
        return True
    if not case.receiving_unit.active:  # merged away: its successor's staff keep its cases (engine.restructure)
        from engine.unit_history import successor_id

        if successor_id(session, case.receiving_unit) == user.unit_id:
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
    return or_(Case.receiving_unit_id == user.unit_id, routed, handed, inherited)
