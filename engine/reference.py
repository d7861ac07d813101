"""Reference data cached in each process: the unit tree, levels, roles, successors and level aliases of
restructurings, the calendar overrides and the portal partners — what routing, visibility checks and due
dates read on every step, and what changes only when an administrator edits the organisation.

Database triggers (migration 0014_perf) give `reference_versions.token` a fresh random value on every write
to those tables, by any path (ORM, Core, raw SQL, another process or node). A transaction reads the token
once and uses the snapshot cached under it, or builds one. The memo is dropped when the transaction itself
writes (so a restructuring that re-routes cases in the same transaction routes on its new organisation) and
when it ends."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from engine.models import (
    CalendarOverride,
    Level,
    LevelAlias,
    Partner,
    ReferenceVersion,
    Role,
    Unit,
    UnitSuccessor,
)

_MEMO = "motcua_reference"
_CACHED = (Unit, Level, Role, UnitSuccessor, LevelAlias, CalendarOverride, Partner)
_TABLE_NAMES = frozenset(cls.__tablename__ for cls in _CACHED)


@dataclass(frozen=True)
class UnitRef:
    """A unit as routing sees it (the columns of `units`, without the ORM)."""

    id: int
    code: str
    name: str
    level_code: str
    parent_id: int | None
    agency_code: str
    path: str
    active: bool

    def ancestor_ids(self) -> list[int]:
        return [int(x) for x in self.path.strip("/").split("/") if x]


@dataclass(frozen=True)
class Snapshot:
    """The reference tables as one committed state (read-only; shared by every transaction of a process)."""

    units: dict[int, UnitRef]
    level_names: dict[str, str]
    level_ranks: dict[str, int]
    desk_roles: frozenset[str]  # roles that receive dossiers
    successors: dict[int, int]  # predecessor id -> successor id
    aliases: dict[str, str]  # abolished level -> the level that takes its steps
    overrides: frozenset[tuple[date, bool]]
    portal_codes: tuple[str, ...]
    _by_level: dict[str, list[UnitRef]] = field(default_factory=dict)

    def active_at_level(self, level: str) -> list[UnitRef]:
        return self._by_level.get(level, [])


def _build(session: Session) -> Snapshot:
    units = {r.id: UnitRef(r.id, r.code, r.name, r.level_code, r.parent_id, r.agency_code, r.path, bool(r.active))
             for r in session.execute(select(Unit.id, Unit.code, Unit.name, Unit.level_code, Unit.parent_id,
                                             Unit.agency_code, Unit.path, Unit.active).order_by(Unit.id))}
    levels = session.execute(select(Level.code, Level.name, Level.rank)).all()
    by_level: dict[str, list[UnitRef]] = {}
    for unit in units.values():
        if unit.active:
            by_level.setdefault(unit.level_code, []).append(unit)
    return Snapshot(
        units=units,
        level_names={c: n for c, n, _ in levels},
        level_ranks={c: r for c, _, r in levels},
        desk_roles=frozenset(session.scalars(select(Role.code).where(Role.receives_dossiers.is_(True)))),
        successors=dict(session.execute(select(UnitSuccessor.predecessor_id, UnitSuccessor.successor_id)).all()),
        aliases=dict(session.execute(select(LevelAlias.level_code, LevelAlias.work_to)).all()),
        overrides=frozenset((d, bool(w)) for d, w in session.execute(select(CalendarOverride.day,
                                                                            CalendarOverride.working))),
        portal_codes=tuple(session.scalars(select(Partner.code).where(Partner.kind == "portal",
                                                                      Partner.active.is_(True))
                                           .order_by(Partner.code))),
        _by_level=by_level,
    )


_TOKEN = select(ReferenceVersion.token).where(ReferenceVersion.id == 1)
_snapshots: dict[str, tuple[int, Snapshot]] = {}  # database url -> (token, snapshot): only the latest kept
_lock = threading.Lock()


def token_column() -> Any:
    """The token as a scalar subquery, for a statement the transaction runs anyway (the hot path's case lock
    reads it along, then passes it to `snapshot`): one statement fewer per step."""
    return _TOKEN.scalar_subquery()


def snapshot(session: Session, token: int | None | object = ...) -> Snapshot:
    """The reference data this transaction sees: the token is read once per transaction (one indexed
    single-row SELECT, unless the caller read it along with its own statement), the tables only when the
    token changed."""
    memo = session.info.get(_MEMO)
    if memo is not None:
        return memo
    url = str(session.get_bind().url)
    if token is ...:
        token = session.scalar(_TOKEN)
    cached = _snapshots.get(url)
    if token is not None and cached is not None and cached[0] == token:
        snap = cached[1]
    else:
        snap = _build(session)
        if token is not None:  # no row (a reset database before its first write): never cached
            with _lock:
                _snapshots[url] = (token, snap)
    session.info[_MEMO] = snap
    return snap


def forget() -> None:
    """Drop every cached snapshot (a restored database; the test suite's reset)."""
    with _lock:
        _snapshots.clear()


def _drop_memo(session: Session, *_args: Any) -> None:
    session.info.pop(_MEMO, None)


@event.listens_for(Session, "before_flush")
def _writes_reference(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _CACHED):
            session.info.pop(_MEMO, None)
            return


@event.listens_for(Session, "do_orm_execute")
def _writes_anything(state: ORMExecuteState) -> None:
    # An INSERT, UPDATE or DELETE on a reference table, or a raw statement (it may touch anything), means the
    # token is read again; a SELECT, or DML on another table (the case-code and ledger counters), does not.
    if state.is_select:
        return
    table = getattr(state.statement, "table", None) if (state.is_insert or state.is_update or state.is_delete) else None
    if table is None or getattr(table, "name", None) in _TABLE_NAMES:
        state.session.info.pop(_MEMO, None)


event.listen(Session, "after_commit", _drop_memo)
event.listen(Session, "after_rollback", _drop_memo)
