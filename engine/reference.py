"""Reference data cached in each process: the unit tree, levels, roles, successors and level aliases of
restructurings, the calendar overrides and the portal partners — what routing, visibility checks and due
dates read on every step, and what changes only when an administrator edits the organisation. Read on demand
and kept under the same token (`Snapshot.derived`): who may do a step of a unit and role (engine.work_notices),
a procedure's code, name and catalog entry, its latest deployed version, and a unit's agency code on a day.

Database triggers (migrations 0014_perf and 0015_perf13) give `reference_versions.token` a fresh random value
on every write to those tables (for users, to the columns the cached data is made of), by any path (ORM, Core,
raw SQL, another process or node). A transaction reads the token
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
    AgencyCode,
    CalendarOverride,
    Delegation,
    Level,
    LevelAlias,
    Partner,
    Procedure,
    ProcessVersion,
    ReferenceVersion,
    Role,
    Unit,
    UnitSuccessor,
    User,
    UserRole,
)

_MEMO = "motcua_reference"
_CACHED = (Unit, Level, Role, UnitSuccessor, LevelAlias, CalendarOverride, Partner, User, UserRole, Delegation,
           Procedure, ProcessVersion, AgencyCode)
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
    # What callers derive from the covered tables on demand (key -> value), valid as long as this snapshot: a
    # write to any of those tables gives a new token, hence a new, empty dict.
    derived: dict[Any, Any] = field(default_factory=dict)

    def active_at_level(self, level: str) -> list[UnitRef]:
        return self._by_level.get(level, [])


_DERIVED_MAX = 20_000


def remember(session: Session, key: Any, build: Any) -> Any:
    """`derived[key]` of the snapshot this transaction sees, built by `build()` on first use. The transaction's
    own pending writes to covered tables are flushed first (as a query would), so it sees them and their new
    token; and a value is not kept when such a write went out while building: it read uncommitted state."""
    if any(isinstance(o, _CACHED) for o in (*session.new, *session.dirty, *session.deleted)):
        session.flush()
    snap = snapshot(session)
    try:
        return snap.derived[key]
    except KeyError:
        pass
    value = build()
    if session.info.get(_MEMO) is snap:
        if len(snap.derived) >= _DERIVED_MAX:  # bounded: a full dict is emptied, not grown
            snap.derived.clear()
        snap.derived[key] = value
    return value


@dataclass(frozen=True)
class ProcedureRef:
    """A procedure as messages name it, with its latest deployed version (None before the first deploy)."""

    id: int
    code: str
    name: str
    active: bool
    latest_version_id: int | None
    catalog: dict  # the catalog entry (cut-off hour, limits chosen by the dossier); read-only


def procedure(session: Session, procedure_id: int) -> ProcedureRef | None:
    """The procedure `procedure_id` from the snapshot (read once per token)."""
    return remember(session, ("procedure", procedure_id), lambda: _procedure(session, procedure_id))


def procedure_by_code(session: Session, code: str) -> ProcedureRef | None:
    pid = remember(session, ("procedure_code", code),
                   lambda: session.scalar(select(Procedure.id).where(Procedure.code == code)))
    return None if pid is None else procedure(session, pid)


def active_procedures(session: Session) -> list[Any]:
    """(code, name) of every active procedure by name, for the filters of lists (read once per token)."""
    return remember(session, ("active_procedures",), lambda: session.execute(
        select(Procedure.code, Procedure.name).where(Procedure.active.is_(True)).order_by(Procedure.name)).all())


def _procedure(session: Session, procedure_id: int) -> ProcedureRef | None:
    latest = (select(ProcessVersion.id).where(ProcessVersion.procedure_id == Procedure.id)
              .order_by(ProcessVersion.version.desc()).limit(1).scalar_subquery())
    row = session.execute(select(Procedure.id, Procedure.code, Procedure.name, Procedure.active, latest,
                                 Procedure.catalog).where(Procedure.id == procedure_id)).first()
    return ProcedureRef(row[0], row[1], row[2], bool(row[3]), row[4], row[5] or {}) if row else None


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
