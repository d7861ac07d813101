"""Who is calling: the user behind an API token or a signed-in browser, checked on every request with ONE
indexed query and without rebuilding the user's ORM objects each time.

The query reads the credential row (by the SHA-256 of the secret) joined to the user's row, unit, level and
roles. Each process keeps, per user, a detached snapshot of those objects together with the rows they were
built from; when the rows read now are the same, the snapshot is copied into the request's session
(`Session.merge(load=False)`, no SQL), otherwise a new snapshot is built from the rows just read.

Nothing is trusted from memory alone: the rows are read on every request, so a revoked token or ended
session (its row deleted), a deactivated user, a changed role, unit or level is seen by the very next request
in every process — there is no window to invalidate. What the cache saves is the ORM's work: three queries
(credential, user with unit and level, roles) and building five or more objects, the bulk of a check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Row, Select, bindparam, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached

from engine.models import Level, Role, Unit, User, UserRole

_USER, _UNIT, _LEVEL, _ROLE = (m.__table__ for m in (User, Unit, Level, Role))
# Per model, in select order, the attribute keys of its columns.
_KEYS: dict[type, list[str]] = {m: [inspect(m).get_property_by_column(c).key for c in m.__table__.c]
                                for m in (User, Unit, Level, Role)}

# (database URL, user id) → (the rows the snapshot was built from, the detached snapshot).
_snapshots: dict[tuple[str, int], tuple[tuple, User]] = {}
_queries: dict[tuple[str, ...], Select] = {}
MAX_SNAPSHOTS = 10_000  # one per active user; the oldest goes first beyond this


def lookup(session: Session, secret_hash: Column[str], digest: str,
           extra: Sequence[Column[Any]] = ()) -> tuple[Row, User] | None:
    """The credential row whose `secret_hash` column equals `digest` (with its `extra` columns, e.g. dates)
    and its user attached to `session`; None when there is no such row or the user is inactive. The
    credential's table must have a `user_id` column."""
    key = (secret_hash.table.name, secret_hash.name, *(c.name for c in extra))
    q = _queries.get(key)
    if q is None:  # built once per kind of credential: building the joins costs as much as running them
        q = _queries[key] = _query(secret_hash, extra)
    rows = session.execute(q, {"digest": digest}).all()
    if not rows:
        return None
    user_values, unit_values, level_values, _role = _split(rows[0][len(extra):])
    # A user without roles comes back as one row whose role columns are all NULL.
    roles = tuple(role for role in (_split(r[len(extra):])[3] for r in rows) if role[0] is not None)
    source = (user_values, unit_values, level_values, roles)
    user_key = (str(session.get_bind().url), user_values[_KEYS[User].index("id")])
    cached = _snapshots.get(user_key)
    if cached is None or cached[0] != source:
        if len(_snapshots) >= MAX_SNAPSHOTS:
            _snapshots.pop(next(iter(_snapshots)), None)
        cached = _snapshots[user_key] = (source, _build(source))
    snapshot = cached[1]
    if not snapshot.active:
        return None
    return rows[0], session.merge(snapshot, load=False)


def _query(secret_hash: Column[str], extra: Sequence[Column[Any]]) -> Select:
    credential = secret_hash.table
    link = UserRole.__table__
    return (select(*extra, *_USER.c, *_UNIT.c, *_LEVEL.c, *_ROLE.c)
            .select_from(credential.join(_USER, _USER.c.id == credential.c.user_id)
                         .join(_UNIT, _UNIT.c.id == _USER.c.unit_id)
                         .join(_LEVEL, _LEVEL.c.code == _UNIT.c.level_code)
                         .outerjoin(link, link.c.user_id == _USER.c.id)
                         .outerjoin(_ROLE, _ROLE.c.code == link.c.role_code))
            .where(secret_hash == bindparam("digest")).order_by(_ROLE.c.code))


def forget() -> None:
    """Drop every snapshot (tests that replace the database under a running process)."""
    _snapshots.clear()


def _split(values: Sequence[Any]) -> list[tuple]:
    """A joined row cut into the user's, the unit's, the level's and the role's columns."""
    out, at = [], 0
    for keys in _KEYS.values():
        out.append(tuple(values[at:at + len(keys)]))
        at += len(keys)
    return out


def _detached(model: type, values: tuple) -> Any:
    return model(**dict(zip(_KEYS[model], values, strict=True)))


def _build(source: tuple) -> User:
    """Detached objects as a query would have loaded them (unit and level joined, roles linked)."""
    user_values, unit_values, level_values, roles = source
    level = _detached(Level, level_values)
    unit = _detached(Unit, unit_values)
    unit.level = level
    user = _detached(User, user_values)
    user.unit = unit
    links = []
    for role_values in roles:
        role = _detached(Role, role_values)
        link = UserRole(user_id=user.id, role_code=role.code)
        link.role = role
        links.append(link)
    user.role_links = links
    for obj in (level, unit, user, *links, *(link.role for link in links)):
        make_transient_to_detached(obj)
    return user
