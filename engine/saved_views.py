"""Saved views: a named filter of the inbox or the case search, kept on the server, private to its owner or
shared with the owner's unit. Only the filters each list understands are stored, each checked like the
list checks it, so a saved view always opens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session

from engine import inputs
from engine.errors import Invalid, NotFound
from engine.models import Procedure, SavedView, User, utcnow

# kind -> filter -> allowed values (None: free text within the length)
FILTERS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "inbox": {"procedure": None, "claimed": ("me", "none"), "state": ("overdue", "due_soon", "in_time", "waiting")},
    "cases": {"q": None},
}
TEXT_MAX = 200


def _filters(check: inputs.Checker, kind: str, filters: Any) -> dict[str, str]:
    if not isinstance(filters, dict):
        check.add("filters", "phải là một đối tượng {tên: giá trị}")
        return {}
    allowed = FILTERS.get(kind, {})
    out: dict[str, str] = {}
    for key, value in filters.items():
        field = f"filters.{key}"
        if key not in allowed:
            check.add(field, f"không phải bộ lọc của {kind}: {', '.join(allowed)}")
            continue
        text = check.text(field, value, Procedure.code if key == "procedure" else None, max_length=TEXT_MAX)
        choices = allowed[key]
        if text and choices is not None and text not in choices:
            check.add(field, f"phải là một trong {', '.join(choices)}")
        elif text:
            out[key] = text
    return out


def create(session: Session, user: User, kind: Any, name: Any, filters: Any, shared: Any = False,
           now: datetime | None = None) -> SavedView:
    check = inputs.Checker()
    if kind not in FILTERS:
        check.add("kind", f"phải là một trong {', '.join(FILTERS)}")
    label = check.text("name", name, SavedView.name, required=True)
    clean = _filters(check, str(kind), filters) if kind in FILTERS else {}
    if not isinstance(shared, bool):
        check.add("shared", "phải là true hoặc false")
    check.done()
    if not clean:
        raise Invalid.of("saved_view_empty", details={"filters": "trống"})
    row = SavedView(owner_id=user.id, unit_id=user.unit_id, kind=kind, name=label, filters=clean,
                    shared=bool(shared), created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row


def _visible_statement(of_kind: bool) -> Select:
    q = select(SavedView).where(or_(SavedView.owner_id == bindparam("user_id"),
                                    (SavedView.unit_id == bindparam("unit_id")) & SavedView.shared.is_(True)))
    if of_kind:
        q = q.where(SavedView.kind == bindparam("kind"))
    return q.order_by(SavedView.kind, SavedView.name, SavedView.id)


# Built once: the inbox and the case search show the saved views on every view, and building the statement
# cost more than running it.
_VISIBLE = {of_kind: _visible_statement(of_kind) for of_kind in (False, True)}


def visible(session: Session, user: User, kind: str | None = None) -> list[SavedView]:
    """My views and those shared with my unit, by name."""
    return list(session.scalars(_VISIBLE[bool(kind)], {"user_id": user.id, "unit_id": user.unit_id, "kind": kind}))


def delete(session: Session, user: User, view_id: Any) -> None:
    """Only the owner deletes a view (a shared one too)."""
    view_id = inputs.integer("id", view_id, SavedView.id)
    row = session.get(SavedView, view_id) if view_id is not None else None
    if row is None or row.owner_id != user.id:
        raise NotFound.of("saved_view_not_found", id=view_id)
    session.delete(row)
    session.flush()
