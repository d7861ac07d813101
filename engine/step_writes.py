"""Writing a step's case row and work items with a few prebuilt Core statements instead of the ORM's unit of
work, which cost about a quarter of a completion (per-object bookkeeping, statement building, the version
check's machinery).

Nothing is weakened: the case is written by `UPDATE cases … WHERE id = :id AND version = :version` with the
version bumped, and no matching row is the same Conflict the ORM's StaleDataError gave; a step's row is written
by id (it is locked with its case); new steps are inserted with RETURNING id. The ORM objects in hand are then
marked as holding what the database holds (as after the ORM's own write), so later reads
in the transaction and the caller's answer see the same values. Whatever else the step changed (documents, a
supplement, anything not plainly columns of these two tables) goes through the ordinary flush afterwards."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import BigInteger, bindparam, column, func, insert, inspect, select, text, update
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.dml import Insert

from engine import audit
from engine.errors import Conflict
from engine.models import _SEARCHED, Case, Event, Notification, StepOutput, WorkItem

_CASES, _ITEMS = Case.__table__, WorkItem.__table__
_COLUMNS = {cls: {p.key: p.columns[0] for p in inspect(cls).column_attrs} for cls in (Case, WorkItem)}
_statements: dict[tuple[type, frozenset[str]], Any] = {}  # built once per set of changed columns


def _update_of(cls: type, keys: frozenset[str]) -> Any:
    stmt = _statements.get((cls, keys))
    if stmt is None:
        columns = _COLUMNS[cls]
        table = _CASES if cls is Case else _ITEMS
        stmt = update(table).where(table.c.id == bindparam("_id"))
        if cls is Case:  # the version check: a concurrent writer of the case makes this match no row
            stmt = stmt.where(table.c.version == bindparam("_version"))
        stmt = stmt.values({columns[k].name: bindparam(k) for k in sorted(keys)})
        _statements[(cls, keys)] = stmt
    return stmt


def _changes(obj: Any) -> dict[str, Any] | None:
    """The changed column values of a loaded object, or None when it must go through the ORM flush (a changed
    relationship, an expired attribute, a search column to refold)."""
    state = inspect(obj)
    columns = _COLUMNS[type(obj)]
    out: dict[str, Any] = {}
    for key, old in state.committed_state.items():
        if key not in columns:
            return None
        new = state.dict.get(key)
        if new is not old and new != old:
            out[key] = new
    if type(obj) is Case and (state.dict.get("search_text") is None or any(k in out for k in _SEARCHED)):
        return None  # models._keep_search_text refolds it on the ORM's write
    return out


def _write_case(session: Session, case: Case, values: dict[str, Any]) -> None:
    version = case.version
    params = {**values, "_id": case.id, "_version": version, "version": version + 1}
    result = session.connection().execute(_update_of(Case, frozenset(params) - {"_id", "_version"}), params)
    if result.rowcount != 1:
        raise Conflict.of("case_changed_meanwhile")
    case.__dict__["version"] = version + 1
    _written(session, case)


def _write_item(session: Session, item: WorkItem, values: dict[str, Any]) -> None:
    session.connection().execute(_update_of(WorkItem, frozenset(values)), {**values, "_id": item.id})
    _written(session, item)


def _written(session: Session, obj: Any) -> None:
    """The object now holds what its row holds: no pending change, not dirty (what the ORM does after its own
    write of the object; SQLAlchemy's `set_committed_value` would leave the object flagged as modified, and the
    commit would run a flush over it for nothing)."""
    state = inspect(obj)
    state._commit_all(state.dict, session.identity_map)


_INSERT_ITEM = insert(_ITEMS).returning(_ITEMS.c.id)
_ITEM_DEFAULTS = {key: (col.default.arg if col.default is not None else None)
                  for key, col in _COLUMNS[WorkItem].items() if key != "id"}


def _insert_values(item: WorkItem) -> dict[str, Any]:
    return {key: item.__dict__.get(key, default) for key, default in _ITEM_DEFAULTS.items()}


def _inserted(session: Session, item: WorkItem, values: dict[str, Any], new_id: int) -> None:
    """The new step's row exists now with id `new_id`: the object becomes persistent in the session."""
    session.expunge(item)
    for key, value in values.items():
        item.__dict__[key] = value
    item.__dict__["id"] = new_id
    make_transient_to_detached(item)
    session.add(item)


def _insert_item(session: Session, item: WorkItem) -> None:
    """A new step's row by one INSERT … RETURNING id."""
    values = _insert_values(item)
    new_id = session.connection().execute(_INSERT_ITEM, {_COLUMNS[WorkItem][k].name: v
                                                         for k, v in values.items()}).scalar_one()
    _inserted(session, item, values, new_id)


def write_step(session: Session, case: Case) -> None:
    """Write what the step changed: the case (version checked), its changed and new work items by Core
    statements, anything else by the ORM's flush. Raises Conflict when another transaction wrote the case."""
    with session.no_autoflush:
        dirty = session.dirty
        case_values: dict[str, Any] = {}
        if case in dirty:
            values = _changes(case)
            if values is None:
                return _flush(session)
            case_values = values
        updates, unchanged = [], [case] if case in dirty and not case_values else []
        for obj in dirty:
            if type(obj) is WorkItem:
                values = _changes(obj)
                if values:
                    updates.append((obj, values))
                elif values is not None:
                    unchanged.append(obj)
        inserts = [obj for obj in list(session.new) if type(obj) is WorkItem and obj.case_id == case.id
                   and not inspect(obj).committed_state.keys() - _COLUMNS[WorkItem].keys()]
        if case_values and len(inserts) <= 1 and session.get_bind().dialect.name == "postgresql":
            _write_together(session, case, case_values, updates, inserts)
        else:
            if case_values:
                _write_case(session, case, case_values)
            for obj, values in updates:
                _write_item(session, obj, values)
            for obj in inserts:
                _insert_item(session, obj)
        for obj in unchanged:
            _written(session, obj)
    if session.new or session.deleted or session.dirty:
        _flush(session)


def _write_together(session: Session, case: Case, case_values: dict[str, Any],
                    updates: list[tuple[WorkItem, dict[str, Any]]], inserts: list[WorkItem]) -> None:
    """PostgreSQL: the case UPDATE (version checked), the steps' UPDATEs, the new step's INSERT, the step's
    output, its audit events and the bell's notices of the new step in ONE statement (data-modifying WITH
    clauses; each runs exactly once, whatever reads it): one round trip to the server instead of up to six. The
    statement answers how many case rows matched the version; when none did, the Conflict rolls the whole
    transaction back, events and notices included."""
    # The step's audit events (engine.audit.batched) go in the same statement, in the order they were made.
    events = audit.take_pending(session)
    event_keys = frozenset(events[0]) if events else frozenset()
    if any(frozenset(r) != event_keys for r in events):  # not one shape: written apart, in order, first
        audit.write_rows(session, events)
        events, event_keys = [], frozenset()
    outputs = audit.take_outputs(session)  # the step's own record (engine.step_outputs), held the same way
    output_keys = frozenset(outputs[0]) if outputs else frozenset()
    if any(frozenset(r) != output_keys for r in outputs):
        audit.write_outputs(session, outputs)
        outputs, output_keys = [], frozenset()
    notices = audit.take_notices(session)  # the bell's notices of the new step (engine.work_notices)
    notice_keys = frozenset(notices[0]) if notices else frozenset()
    if any(frozenset(r) != notice_keys for r in notices):
        audit.write_notices(session, notices)
        notices, notice_keys = [], frozenset()
    shape = (frozenset(case_values), tuple(frozenset(v) for _o, v in updates), bool(inserts),
             (event_keys, len(events)), (output_keys, len(outputs)), (notice_keys, len(notices)))
    stmt = _together.get(shape)
    if stmt is None:
        stmt = _together[shape] = _together_statement(*shape)
    version = case.version
    params = {"c__id": case.id, "c__version": version, "c_version": version + 1,
              **{f"c_{k}": v for k, v in case_values.items()}}
    for i, (obj, values) in enumerate(updates):
        params[f"u{i}__id"] = obj.id
        params.update({f"u{i}_{k}": v for k, v in values.items()})
    new = _insert_values(inserts[0]) if inserts else {}
    params.update({f"n_{k}": v for k, v in new.items()})
    for j, event_row in enumerate(events):
        params.update({f"e{j}_{k}": v for k, v in event_row.items()})
    for j, output_row in enumerate(outputs):
        params.update({f"o{j}_{k}": v for k, v in output_row.items()})
    for j, notice_row in enumerate(notices):
        params.update({f"b{j}_{k}": v for k, v in notice_row.items()})
    row = session.connection().execute(stmt, params).one()
    if row.matched != 1:
        raise Conflict.of("case_changed_meanwhile")
    case.__dict__["version"] = version + 1
    _written(session, case)
    for obj, _values in updates:
        _written(session, obj)
    if inserts:
        _inserted(session, inserts[0], new, row.id)


_together: dict[tuple, Any] = {}


def _together_statement(case_keys: frozenset[str], item_keys: tuple[frozenset[str], ...], with_insert: bool,
                        events: tuple[frozenset[str], int], outputs: tuple[frozenset[str], int],
                        notices: tuple[frozenset[str], int]) -> Any:
    cases, items = _CASES, _ITEMS
    case_cols, item_cols = _COLUMNS[Case], _COLUMNS[WorkItem]
    written = (update(cases).where(cases.c.id == bindparam("c__id"), cases.c.version == bindparam("c__version"))
               .values({case_cols[k].name: bindparam(f"c_{k}", type_=case_cols[k].type)
                        for k in sorted(case_keys | {"version"})})
               .returning(cases.c.id).cte("written_case"))
    ctes = [written]
    for i, keys in enumerate(item_keys):
        ctes.append(update(items).where(items.c.id == bindparam(f"u{i}__id"))
                    .values({item_cols[k].name: bindparam(f"u{i}_{k}", type_=item_cols[k].type) for k in sorted(keys)})
                    .returning(items.c.id).cte(f"written_step_{i}"))
    for table, (keys, n), prefix in ((StepOutput.__table__, outputs, "o"), (Event.__table__, events, "e"),
                                     (Notification.__table__, notices, "b")):
        if n:
            ctes.append(insert(table).values([{table.c[k]: bindparam(f"{prefix}{j}_{k}", type_=table.c[k].type)
                                               for k in sorted(keys)} for j in range(n)])
                        .returning(table.c.id).cte(f"step_{table.name}"))
    matched = select(func.count()).select_from(written).scalar_subquery().label("matched")
    if with_insert:
        main = insert(items).values({item_cols[k].name: bindparam(f"n_{k}", type_=item_cols[k].type)
                                     for k in _ITEM_DEFAULTS}).returning(items.c.id, matched)
    else:
        main = select(matched)
    return _prebuilt(main.add_cte(*ctes))


def _prebuilt(stmt: Any) -> Any:
    """The statement as SQL text with its typed parameters: SQLAlchemy finds no cache key for DML in WITH
    clauses with multi-row VALUES and would compile it again on every step; text is cached by its string."""
    compiled = stmt.compile(dialect=PGDialect(paramstyle="named"))
    sql = re.sub(r"(:\w+)::(\w+)", r"CAST(\1 AS \2)", str(compiled))  # text() reads ':a::JSONB' as no parameter
    names = ["id", "matched"] if isinstance(stmt, Insert) else ["matched"]
    return text(sql).bindparams(*compiled.binds.values()).columns(*(column(n, BigInteger) for n in names))


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as e:
        raise Conflict.of("case_changed_meanwhile") from e
