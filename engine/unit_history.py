"""What a unit was called, and what became of it, at a given time.

A restructuring (engine.restructure) never deletes or silently renames: a renamed unit keeps its earlier
names in `unit_names` with their validity, a merged or abolished unit stays (inactive) with its successor in
`unit_successors`, and an abolished level keeps an alias in `level_aliases`. Everything that shows history —
Mẫu 05, the case page, the ledger, reports — asks here for the name as it was at the event's time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import reference
from engine.models import Unit, UnitName, UnitSuccessor
from engine.reference import Snapshot, UnitRef

MAX_CHAIN = 20  # successor chains are short; a longer one is a cycle a plan check should have refused


class NamesAt:
    """Unit names at given moments, for one page or slip: the name history is read once."""

    def __init__(self, session: Session) -> None:
        self._rows: dict[int, list[UnitName]] = {}
        for row in session.scalars(select(UnitName).order_by(UnitName.unit_id, UnitName.valid_to)):
            self._rows.setdefault(row.unit_id, []).append(row)

    def name(self, unit: Unit | None, at: datetime | None) -> str:
        if unit is None:
            return ""
        if at is not None:
            for row in self._rows.get(unit.id, ()):
                if (row.valid_from is None or row.valid_from <= at) and at < row.valid_to:
                    return row.name
        return unit.name

    def agency_code(self, unit: Unit, at: datetime | None) -> str:
        if at is not None:
            for row in self._rows.get(unit.id, ()):
                if (row.valid_from is None or row.valid_from <= at) and at < row.valid_to:
                    return row.agency_code
        return unit.agency_code


def name_at(session: Session, unit: Unit | None, at: datetime | None) -> str:
    """The unit's name as it was at `at` (its current name when it never changed)."""
    return NamesAt(session).name(unit, at)


def successor_ref(snap: Snapshot, unit: UnitRef) -> UnitRef | None:
    """The active unit that took over `unit` (following merges and abolitions), None if it is active or
    nothing took it over."""
    current, seen = unit, {unit.id}
    for _ in range(MAX_CHAIN):
        if current.active:
            return current if current.id != unit.id else None
        link = snap.successors.get(current.id)
        if link is None or link in seen:
            return None
        seen.add(link)
        current = snap.units[link]
    return None


def successor_id(session: Session, unit: Unit) -> int | None:
    snap = reference.snapshot(session)
    ref = snap.units.get(unit.id)
    found = successor_ref(snap, ref) if ref is not None else None
    return found.id if found is not None else None


def successor(session: Session, unit: Unit) -> Unit | None:
    """successor_ref as the unit's row."""
    found = successor_id(session, unit)
    return session.get(Unit, found) if found is not None else None


def regroup(session: Session, rows: list, start: datetime, end: datetime, rate: Callable[[dict], dict]) -> list:
    """Report rows per unit (engine.reports.Row) as the organisation was in the period: a period that starts
    after a unit was merged or abolished counts it under its successor; labels are the names at the start."""
    units = {u.code: u for u in session.scalars(select(Unit))}
    code_of = {u.id: u.code for u in units.values()}
    links = {code_of[s.predecessor_id]: s for s in session.scalars(select(UnitSuccessor))}
    if not links and not session.scalar(select(UnitName.id).limit(1)):
        return rows
    names = NamesAt(session)
    out: dict[str, Any] = {}
    for row in rows:
        key = row.key
        for _ in range(MAX_CHAIN):
            link = links.get(key)
            if link is None or link.effective > start:
                break
            key = code_of[link.successor_id]
        label = names.name(units[key], start) if key in units else row.label
        if key not in out:
            out[key] = type(row)(key=key, label=label, figures=dict(row.figures))
            continue
        merged = out[key].figures
        for k, v in row.figures.items():
            if isinstance(v, int) and not isinstance(v, bool):
                merged[k] = merged.get(k, 0) + v
        out[key].figures = rate({k: v for k, v in merged.items() if isinstance(v, int)})
    return [out[k] for k in sorted(out)]


def taken_over_ids(session: Session, root: Unit) -> list[int]:
    """Units outside `root`'s subtree whose work a unit inside it took over (a merge or an abolition, followed
    along the chain): their cases belong to `root`'s ledger and reports too, as the successor keeps its
    predecessors' records. Empty, at the cost of one small query, when nothing was ever restructured."""
    links = dict(session.execute(select(UnitSuccessor.predecessor_id, UnitSuccessor.successor_id)).all())
    if not links:
        return []
    paths = dict(session.execute(select(Unit.id, Unit.path)).all())
    out = []
    for unit_id in links:
        if paths[unit_id].startswith(root.path):
            continue
        current, seen = unit_id, {unit_id}
        for _ in range(MAX_CHAIN):
            current = links.get(current)
            if current is None or current in seen:
                break
            if paths[current].startswith(root.path):
                out.append(unit_id)
                break
            seen.add(current)
    return sorted(out)


def handed_over(session: Session, unit: Unit) -> tuple[Unit, UnitSuccessor] | None:
    """(the active unit that holds `unit`'s work now, the link that retired `unit`), None while it is active."""
    link = session.get(UnitSuccessor, unit.id)
    found = successor(session, unit) if link is not None else None
    return (found, link) if found is not None else None


def current_unit(session: Session, unit: Unit) -> Unit:
    """`unit` itself while active, else its successor (or itself when it has none)."""
    return successor(session, unit) or unit


def level_alias(session: Session, level: str) -> str | None:
    """The level that takes over steps whose lane names the abolished `level`."""
    return reference.snapshot(session).aliases.get(level)


def by_code(session: Session, code: str) -> tuple[Unit, Unit]:
    """A unit by a code old or new: (the unit of that code, the active unit that holds its work now)."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        from engine.errors import NotFound

        raise NotFound.of("unit_not_found", code=code)
    return unit, current_unit(session, unit)
