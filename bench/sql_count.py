"""SQL statements per step of the service layer's hot path: how many statements a reception and each
completion of `ncc_mai_tang` send to the database, counted at the driver (SQLAlchemy's
before_cursor_execute, so the ORM's flushes count too). tests/test_statements_per_step.py bounds them.

    python -m bench.sql_count [--backends sqlite,postgresql] [--show]

Prints the counts per step (and with --show the statements of one completion)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event, select

from engine import cases
from engine.db import Database
from engine.models import Unit, User, WorkItem

PROCEDURE = "ncc_mai_tang"


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement `engine` sends while the block runs (BEGIN of SQLite's hook included)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@dataclass
class Lifecycle:
    """The statements of one case's reception and of each of its completions, in order."""

    receive: list[str] = field(default_factory=list)
    completions: list[list[str]] = field(default_factory=list)


def run_lifecycle(database: Database, procedure: str = PROCEDURE, outcome: str = "approve") -> Lifecycle:
    """Receive a case as the demo desk and complete every step as the demo official of its unit and role,
    each call in its own transaction; counts only the service-layer calls, not the look-ups between them."""
    with database.transaction() as s:
        users = {u.username: u for u in s.scalars(select(User))}
    out = Lifecycle()
    with counting(database.engine) as seen, database.transaction() as s:
        case_id = cases.receive(s, s.merge(users["xa_a1_clerk"], load=False), procedure,
                                {"name": "Nguyễn Văn Đếm"}, {}).id
    out.receive = seen
    for _ in range(30):
        with database.transaction() as s:
            row = s.execute(select(WorkItem.id, Unit.code, WorkItem.role_code).join(Unit, Unit.id == WorkItem.unit_id)
                            .where(WorkItem.case_id == case_id, WorkItem.state == "open")).first()
        if row is None:
            return out
        with counting(database.engine) as seen, database.transaction() as s:
            user = s.merge(users[f"{row[1].lower()}_{row[2]}"], load=False)
            cases.complete_task(s, user, row[0], {"outcome": outcome})
        out.completions.append(seen)
    raise RuntimeError("case did not finish")


def main() -> None:
    from bench.engine import fresh_database

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--show", action="store_true", help="print the statements of the second completion")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        database = fresh_database(backend, "motcua_bench_sql_count")
        run_lifecycle(database)  # warm the per-process caches first
        life = run_lifecycle(database)
        counts = [len(c) for c in life.completions]
        print(f"{backend}: receive {len(life.receive)} statements; completions {counts} "
              f"(max {max(counts)}, total per case {len(life.receive) + sum(counts)})")
        if args.show:
            for stmt in life.completions[1]:
                print("   ", " ".join(stmt.split())[:160])
        database.dispose()


if __name__ == "__main__":
    main()
