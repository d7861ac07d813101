"""Engine throughput: the full life of the three-level procedure (receive + every task) through the
service layer, with a large number of cases already in the database, measured beside the engine floor
in the same run: bare SpiffWorkflow plus engine/workflow.py's state save/load around every step (start,
dump, load, complete, dump), no database. The ratio motcua/floor is what holds from machine to machine.

    python -m bench.engine [--filler 10000] [--runs 150] [--backends sqlite,postgresql]

Prints a table; figures go to docs/performance.md. Not part of the test suite."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text

from engine import cases, catalog, org, schema, workflow
from engine.db import Database
from engine.deadlines import calendar_for, script_engine
from engine.demo import create_demo
from engine.models import Case, Event, Procedure, ProcessVersion, Unit, User, WorkItem

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


def lifecycle(database: Database, receive_ms: list[float], complete_ms: list[float],
              cpu_s: list[float] | None = None) -> None:
    """One case through the service layer; wall times per call into the lists, and this thread's CPU time
    for the timed calls (the client side only: PostgreSQL's own CPU is in its server process) into cpu_s."""
    cpu_s = [] if cpu_s is None else cpu_s
    with database.transaction() as s:
        users = {u.username: u for u in s.scalars(select(User))}
    t0, c0 = time.perf_counter(), time.thread_time()
    with database.transaction() as s:
        clerk = s.merge(users["xa_a1_clerk"], load=False)
        case = cases.receive(s, clerk, PROCEDURE, {"name": "Nguyễn Văn Bench"}, {})
        case_id = case.id
    receive_ms.append((time.perf_counter() - t0) * 1000)
    cpu_s.append(time.thread_time() - c0)
    for _ in range(30):
        with database.transaction() as s:  # the harness's own look-up: kept light, not timed
            row = s.execute(select(WorkItem.id, Unit.code, WorkItem.role_code).join(Unit, Unit.id == WorkItem.unit_id)
                            .where(WorkItem.case_id == case_id, WorkItem.state == "open")).first()
            if row is None:
                return
            item_id, username = row[0], f"{row[1].lower()}_{row[2]}"
        t0, c0 = time.perf_counter(), time.thread_time()
        with database.transaction() as s:
            cases.complete_task(s, s.merge(users[username], load=False), item_id, {"outcome": "approve"})
        complete_ms.append((time.perf_counter() - t0) * 1000)
        cpu_s.append(time.thread_time() - c0)
    raise RuntimeError("case did not finish")


def api_lifecycle(database: Database) -> Callable[[], None]:
    """The same lifecycle through the JSON API in-process (Flask test client: token check, request
    validation, response building, no network): returns a function running one case."""
    from engine.config import load_settings
    from web import create_app

    settings = load_settings(database_url=database.url, instance_path=Path(tempfile.mkdtemp()) / "instance")
    client = create_app(settings, database=database).test_client()
    with database.transaction() as s:
        tokens = {u.username: org.issue_token(s, u) for u in s.scalars(select(User))}

    def post(path: str, user: str, body: dict) -> dict:
        resp = client.post(path, json=body, headers={"Authorization": f"Bearer {tokens[user]}"})
        if resp.status_code not in (200, 201):
            raise RuntimeError(f"{path}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        return resp.get_json()

    def one() -> None:
        body = {"procedure": PROCEDURE, "applicant": {"name": "Nguyễn Văn Bench"}, "data": {}}
        tasks = post("/api/v1/cases", "xa_a1_clerk", body)["tasks"]
        while tasks:
            user = f"{tasks[0]['unit'].lower()}_{tasks[0]['role']}"
            done = post(f"/api/v1/tasks/{tasks[0]['id']}/complete", user, {"data": {"outcome": "approve"}})
            tasks = done["case"]["tasks"]

    return one


def floor_lifecycle(database: Database) -> Callable[[], int]:
    """The engine floor: the same diagram run start → every user task → end in memory, its state dumped
    after each step and loaded before the next as motcua does, with the same sandboxed script engine.
    Returns a function running one case and answering its number of tasks."""
    with database.transaction() as s:
        pv = s.scalar(select(ProcessVersion).join(Procedure, Procedure.id == ProcessVersion.procedure_id)
                      .where(Procedure.code == PROCEDURE).order_by(ProcessVersion.version.desc()).limit(1))
        blob, key = pv.spec_json, f"floor-pv{pv.id}"
        engine = script_engine(calendar_for(s))
    now = datetime.now(UTC)
    workflow.use_clock(lambda: now)
    seed = {"name": "Nguyễn Văn Bench", "case_code": "BENCH", "received_at": now.isoformat(), "procedure": PROCEDURE}

    def one() -> int:
        state = workflow.dump(workflow.start(key, blob, dict(seed), engine))
        steps = 0
        while True:
            wf = workflow.load(key, blob, state, engine)
            ready = workflow.ready_user_tasks(wf)
            if not ready:
                if not workflow.is_completed(wf):
                    raise RuntimeError("floor: case did not finish")
                return steps
            workflow.complete_task(wf, ready[0], {"outcome": "approve"})
            workflow.next_timer_due(wf)
            workflow.workflow_data(wf)
            state = workflow.dump(wf)
            steps += 1

    return one


def writes_floor_lifecycle(database: Database, state_bytes: int) -> Callable[[], None]:
    """The database floor: what any implementation keeping motcua's guarantees must send per case at least,
    with no ORM and no Python around it — 7 durable transactions through the raw driver: the reception inserts
    the case, its first step and an audit event; each of the 6 steps locks the case with its step, writes the
    workflow state (`state_bytes`, the size of the real state) with the version bumped, completes the step,
    inserts the next and one audit event. Answers a function running one case; the rows stay (like motcua's)."""
    raw = database.engine.raw_connection()
    driver = raw.driver_connection
    sqlite = database.is_sqlite
    mark = "?" if sqlite else "%s"
    lock = "" if sqlite else " FOR UPDATE OF c, w"  # SQLite's BEGIN IMMEDIATE already holds the write lock
    with database.transaction() as s:
        proc_id, unit_id = s.execute(select(Procedure.id, Unit.id).where(Procedure.code == PROCEDURE)
                                     .where(Unit.level_code == "commune").limit(1)).one()
    state, counter = "x" * state_bytes, iter(range(10**9))

    def sql(statement: str) -> str:
        return statement.replace("?", mark)

    def run(cur: Any, statement: str, params: tuple) -> Any:
        cur.execute(sql(statement), params)
        return cur

    def transaction(work: Callable[[Any], Any]) -> Any:
        cur = driver.cursor()
        if sqlite:
            cur.execute("BEGIN IMMEDIATE")
        result = work(cur)
        driver.commit()
        return result

    def new_item(cur: Any, case_id: int, now: datetime) -> int:
        return run(cur, "INSERT INTO work_items (case_id, task_uuid, task_bpmn_id, name, unit_id, role_code, "
                   "level_code, state, supplement, created_at, due_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                   (case_id, "00000000-0000-0000-0000-000000000001", "step", "Bước", unit_id, "specialist",
                    "district", "open", False, now, now + timedelta(days=5))).fetchone()[0]

    def event(cur: Any, case_id: int, now: datetime, kind: str) -> None:
        run(cur, "INSERT INTO events (case_id, at, kind, data) VALUES (?,?,?,?)",
            (case_id, now, kind, '{"outcome": "approve"}'))

    def receive(cur: Any) -> tuple[int, int]:
        now, n = datetime.now(UTC), next(counter)
        case_id = run(cur, "INSERT INTO cases (code, lookup_secret, procedure_id, receiving_unit_id, current_unit_id, "
                      "channel, status_code, applicant_name, applicant_id_number, applicant_address, applicant_phone, "
                      "applicant_email, data, state, received_at, due_at, supplement_count, apology_count, created_at, "
                      "version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                      (f"FLOOR-{os.getpid()}-{n:09d}", "ABCDEF", proc_id, unit_id, unit_id, "desk", 4,
                       "Nguyễn Văn Bench", "", "", "", "", "{}", state, now, now + timedelta(days=30), 0, 0, now,
                       1)).fetchone()[0]
        item_id = new_item(cur, case_id, now)
        event(cur, case_id, now, "received")
        return case_id, item_id

    def step(cur: Any, item_id: int) -> int:
        now = datetime.now(UTC)
        case_id, version = run(cur, "SELECT c.id, c.version, c.state, w.state FROM cases c JOIN work_items w "
                               "ON w.case_id = c.id WHERE w.id = ?" + lock, (item_id,)).fetchone()[:2]
        if run(cur, "UPDATE cases SET state = ?, data = ?, version = ? WHERE id = ? AND version = ?",
               (state, '{"outcome": "approve"}', version + 1, case_id, version)).rowcount != 1:
            raise RuntimeError("floor: version check failed")
        run(cur, "UPDATE work_items SET state = 'completed', completed_at = ? WHERE id = ?", (now, item_id))
        event(cur, case_id, now, "task_completed")
        return new_item(cur, case_id, now)

    def one() -> None:
        _case_id, item_id = transaction(receive)
        for _ in range(6):
            item_id = transaction(lambda cur, i=item_id: step(cur, i))

    return one


# The SpiffWorkflow calls both the floor and motcua's steps make (engine/workflow.py), timed where they run.
ENGINE_CALLS = ("start", "load", "dump", "ready_user_tasks", "complete_task", "next_timer_due", "workflow_data")


@contextmanager
def engine_calls_timed(into: list[float]) -> Iterator[None]:
    """While the block runs, the wall time spent inside engine/workflow.py's SpiffWorkflow calls is added to
    into[0] — to compare the same calls inside motcua's steps with the floor's tight loop."""
    originals = {name: getattr(workflow, name) for name in ENGINE_CALLS}

    def timed(call: Callable) -> Callable:
        def run(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                into[0] += time.perf_counter() - t0
        return run

    for name, call in originals.items():
        setattr(workflow, name, timed(call))
    try:
        yield
    finally:
        for name, call in originals.items():
            setattr(workflow, name, call)


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--filler", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-api", dest="api", action="store_false", help="skip the lifecycle through the API")
    args = parser.parse_args()
    rows = [measure(backend, args.filler, args.runs, args.api) for backend in args.backends.split(",")]
    report(rows, args.filler)


def measure(backend: str, filler: int, runs: int, with_api: bool) -> dict[str, Any]:
    database = fresh_database(backend, "motcua_bench_engine")
    add_filler(database, filler)
    floor_one = floor_lifecycle(database)
    api_one = api_lifecycle(database) if with_api else None
    for _ in range(5):  # warm caches (spec parse, statement cache)
        lifecycle(database, [], [])
        floor_one()
        if api_one:
            api_one()
    with database.transaction() as s:  # the size of a real workflow state, for the database floor's writes
        state_bytes = int(s.scalar(select(func.avg(func.length(Case.state))).where(Case.state.is_not(None))))
    writes_one = writes_floor_lifecycle(database, state_bytes)
    writes_one()
    receive_ms: list[float] = []
    complete_ms: list[float] = []
    floor_s = api_s = writes_s = floor_cpu = 0.0
    motcua_cpu: list[float] = []
    floor_steps = 0
    # Interleaved, one case of each at a time, so a change in the machine's load hits all of them alike.
    inside, floor_calls = [0.0], [0.0]  # time in SpiffWorkflow's calls: inside motcua's steps, in the floor
    for _ in range(runs):
        with engine_calls_timed(inside):
            lifecycle(database, receive_ms, complete_ms, motcua_cpu)
        t0, c0 = time.perf_counter(), time.thread_time()
        with engine_calls_timed(floor_calls):
            floor_steps = floor_one()
        floor_s += time.perf_counter() - t0
        floor_cpu += time.thread_time() - c0
        t0 = time.perf_counter()
        writes_one()
        writes_s += time.perf_counter() - t0
        if api_one:
            t0 = time.perf_counter()
            api_one()
            api_s += time.perf_counter() - t0
    wall = (sum(receive_ms) + sum(complete_ms)) / 1000  # the harness's look-ups between steps left out
    database.dispose()
    return {"backend": backend, "filler": filler, "runs": runs, "steps": len(complete_ms) // runs,
            "motcua": runs / wall, "receive_p50": pct(receive_ms, 50), "receive_p95": pct(receive_ms, 95),
            "complete_p50": pct(complete_ms, 50), "complete_p95": pct(complete_ms, 95), "floor": runs / floor_s,
            "floor_steps": floor_steps, "api": runs / api_s if api_one else None, "writes": runs / writes_s,
            "bound": floor_s / (floor_s + writes_s), "load": os.getloadavg()[0],
            "cpu_ratio": floor_cpu / sum(motcua_cpu), "state_bytes": state_bytes,
            "inside_ms": inside[0] / runs * 1000, "floor_calls_ms": floor_calls[0] / runs * 1000}


def report(rows: list[dict[str, Any]], filler: int) -> None:
    print(f"\nFull lifecycle of {PROCEDURE} (receive + every task), one process, {filler:,} cases pre-loaded\n")
    print("| backend | filler cases | runs | tasks/case | full cases/s | receive p50 ms | receive p95 ms "
          "| complete p50 ms | complete p95 ms | floor cases/s | motcua/floor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['filler']:,} | {r['runs']} | {r['steps']} | {r['motcua']:.1f} "
              f"| {r['receive_p50']:.2f} | {r['receive_p95']:.2f} | {r['complete_p50']:.2f} | {r['complete_p95']:.2f} "
              f"| {r['floor']:.1f} | {r['motcua'] / r['floor']:.0%} |")
    targets = {"sqlite": 0.50, "postgresql": 0.35}
    for r in rows:
        if r["steps"] != r["floor_steps"]:
            print(f"WARNING {r['backend']}: motcua ran {r['steps']} tasks/case, the floor {r['floor_steps']}")
        print(f"ratio {r['backend']}: motcua {r['motcua']:.1f} cases/s / floor {r['floor']:.1f} cases/s = "
              f"{r['motcua'] / r['floor']:.0%} (target ≥ {targets.get(r['backend'], 0):.0%}); load average "
              f"{r['load']:.1f}; CPU time of this process, motcua/floor = {r['cpu_ratio']:.0%}")
        print(f"database floor {r['backend']}: the 7 transactions' minimal writes alone by the raw driver "
              f"({r['state_bytes']:,}-byte state) {r['writes']:.1f} cases/s; so no implementation keeping the "
              f"guarantees exceeds floor/(floor + writes) = {r['bound']:.0%} of the floor here")
        own = 1000 / r["motcua"] - r["inside_ms"] - 1000 / r["writes"]
        print(f"where a case's {1000 / r['motcua']:.1f} ms go {r['backend']}: SpiffWorkflow's calls "
              f"{r['inside_ms']:.1f} ms (the floor's loop runs them in {r['floor_calls_ms']:.1f} ms), the database "
              f"floor's writes {1000 / r['writes']:.1f} ms, the rest — motcua's rules, the ORM, statements beyond the "
              f"minimal ones — {own:.1f} ms")
        if r["api"]:
            print(f"api {r['backend']}: {r['api']:.1f} cases/s through the API in-process; the same lifecycle "
                  f"costs ×{r['motcua'] / r['api']:.2f} the service layer's (target ≤ ×1.5)")


if __name__ == "__main__":
    main()
