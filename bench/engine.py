"""Engine throughput: the full life of the three-level procedure (receive + every task) through the
service layer, with a large number of cases already in the database.

    python -m bench.engine [--filler 100000] [--runs 300] [--backends sqlite,postgresql]

Prints a table; figures go to docs/performance.md. Not part of the test suite."""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

from engine import cases, catalog, org, schema
from engine.db import Database
from engine.demo import create_demo
from engine.models import Case, Event, Procedure, Unit, User, WorkItem

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PROCEDURE = "ncc_mai_tang"


def fresh_database(backend: str, name: str) -> Database:
    if backend == "sqlite":
        path = Path(tempfile.gettempdir()) / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database = Database(f"sqlite:///{path}")
    else:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        database = Database(PG_ADMIN.rsplit("/", 1)[0] + "/" + name)
    schema.upgrade(database.engine)
    with database.transaction() as s:
        org.ensure_reference_data(s)
        create_demo(s)
        catalog.load_catalog(s)
    return database


def add_filler(database: Database, count: int, batch: int = 10_000) -> None:
    """Bulk rows shaped like real open cases (one open work item and two events each), so indexes have
    realistic sizes; inserted with Core executemany."""
    with database.transaction() as s:
        proc_id = s.scalar(select(Procedure.id).where(Procedure.code == PROCEDURE))
        units = s.execute(select(Unit.id, Unit.agency_code).where(Unit.level_code == "commune")).all()
        others = list(s.scalars(select(Unit.id)))
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    done = 0
    while done < count:
        n = min(batch, count - done)
        case_rows, ids = [], range(done + 1_000_000, done + 1_000_000 + n)
        for i in ids:
            unit_id, agency = rng.choice(units)
            received = start + timedelta(minutes=i % 500_000)
            case_rows.append({"id": i, "code": f"{agency}-F{i:09d}", "lookup_secret": "ABCDEF",
                              "procedure_id": proc_id, "receiving_unit_id": unit_id, "current_unit_id": unit_id,
                              "channel": "desk", "status_code": 4, "applicant_name": "Người nộp", "data": {},
                              "received_at": received, "due_at": received + timedelta(days=30),
                              "supplement_count": 0, "apology_count": 0, "created_at": received, "version": 1,
                              "applicant_id_number": "", "applicant_address": "", "applicant_phone": "",
                              "applicant_email": ""})
        items = [{"case_id": r["id"], "task_uuid": "00000000-0000-0000-0000-000000000000",
                  "task_bpmn_id": "filler", "name": "Bước", "unit_id": rng.choice(others), "role_code": "specialist",
                  "level_code": "district", "state": "open", "supplement": False, "created_at": r["received_at"],
                  "due_at": r["received_at"] + timedelta(days=rng.randint(1, 20))} for r in case_rows]
        events = [{"case_id": r["id"], "at": r["received_at"], "kind": k, "data": {}}
                  for r in case_rows for k in ("received", "handover")]
        with database.engine.begin() as conn:
            conn.execute(insert(Case), case_rows)
            conn.execute(insert(WorkItem), items)
            conn.execute(insert(Event), events)
        done += n
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


def lifecycle(database: Database, receive_ms: list[float], complete_ms: list[float]) -> None:
    with database.transaction() as s:
        users = {u.username: u for u in s.scalars(select(User))}
    t0 = time.perf_counter()
    with database.transaction() as s:
        clerk = s.merge(users["xa_a1_clerk"], load=False)
        case = cases.receive(s, clerk, PROCEDURE, {"name": "Nguyễn Văn Bench"}, {})
        case_id = case.id
    receive_ms.append((time.perf_counter() - t0) * 1000)
    for _ in range(30):
        with database.transaction() as s:  # the harness's own look-up: kept light, not timed
            row = s.execute(select(WorkItem.id, Unit.code, WorkItem.role_code).join(Unit, Unit.id == WorkItem.unit_id)
                            .where(WorkItem.case_id == case_id, WorkItem.state == "open")).first()
            if row is None:
                return
            item_id, username = row[0], f"{row[1].lower()}_{row[2]}"
        t0 = time.perf_counter()
        with database.transaction() as s:
            cases.complete_task(s, s.merge(users[username], load=False), item_id, {"outcome": "approve"})
        complete_ms.append((time.perf_counter() - t0) * 1000)
    raise RuntimeError("case did not finish")


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--filler", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    rows = []
    for backend in args.backends.split(","):
        database = fresh_database(backend, "motcua_bench_engine")
        t0 = time.perf_counter()
        add_filler(database, args.filler)
        fill_s = time.perf_counter() - t0
        for _ in range(5):  # warm caches (spec parse, statement cache)
            lifecycle(database, [], [])
        receive_ms: list[float] = []
        complete_ms: list[float] = []
        t0 = time.perf_counter()
        for _ in range(args.runs):
            lifecycle(database, receive_ms, complete_ms)
        wall = time.perf_counter() - t0
        steps = len(complete_ms) // args.runs
        rows.append((backend, args.filler, args.runs, steps, args.runs / wall, pct(receive_ms, 50), pct(receive_ms, 95),
                     pct(complete_ms, 50), pct(complete_ms, 95), fill_s))
        database.dispose()
    print(f"\nFull lifecycle of {PROCEDURE} (receive + every task), one process, {args.filler:,} cases pre-loaded\n")
    print("| backend | filler cases | runs | tasks/case | full cases/s | receive p50 ms | receive p95 ms "
          "| complete p50 ms | complete p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:,} | {r[2]} | {r[3]} | {r[4]:.1f} | {r[5]:.2f} | {r[6]:.2f} | {r[7]:.2f} "
              f"| {r[8]:.2f} |")


if __name__ == "__main__":
    main()
