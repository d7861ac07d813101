"""Finding a case by its code, the applicant's name or ID number (or its procedure's name), with or without
diacritics: "tran thi" finds "Trần Thị", "mai tang" finds "mai táng". Every word typed must occur in the
case's folded `search_text` (engine.folding), in any order. The column is indexed: a GIN trigram index on
PostgreSQL answers `LIKE '%word%'`; on SQLite the narrow index is scanned instead of the table.

The officials' case search and the inbox search both filter through `matches`; staff still see only the
cases of their path (engine.routing.visible_cases) and the inbox only their own steps (engine.inbox)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import Session, aliased

from engine import inputs
from engine.folding import fold
from engine.models import Case, User
from engine.routing import visible_cases

MAX_QUERY = 200  # characters typed
MAX_WORDS = 8


def words(q: Any) -> list[str]:
    """The folded words of a query (422 naming `q` for text no database may store)."""
    text = inputs.text("q", q if q is not None else "", max_length=MAX_QUERY)
    return list(dict.fromkeys(fold(text).split()))[:MAX_WORDS]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matching_ids(q: Any) -> Select | None:
    """The ids of the cases whose folded search text holds every word of `q`; None when `q` has no word.
    A subquery on the indexed column alone, so SQLite reads the narrow index, not the wide case rows."""
    found = words(q)
    if not found:
        return None
    hit = aliased(Case)
    return select(hit.id).where(*(hit.search_text.like(_like(w), escape="\\") for w in found))


def matches(q: Any, column: Any = Case.id) -> ColumnElement[bool]:
    """A filter: `column` (a case id) is one of the cases matching `q` (always true when `q` is empty)."""
    ids = matching_ids(q)
    return true() if ids is None else column.in_(ids)


def case_search(user: User, q: Any, limit: int = 50) -> Select:
    """The statement behind `find_cases` (tests EXPLAIN it)."""
    stmt = select(Case).where(visible_cases(user), matches(q))
    return stmt.order_by(Case.received_at.desc(), Case.id.desc()).limit(max(1, min(limit, 200)))


def find_cases(session: Session, user: User, q: Any, limit: int = 50) -> list[Case]:
    """The user's visible cases matching `q`, newest first (all visible ones without a query)."""
    return list(session.scalars(case_search(user, q, limit)))
