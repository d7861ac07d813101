"""The scheduler's sweep with up to 1,000,000 open work items: idle cost, 1,000 newly due items, flatness
from 10,000 to 1,000,000, and the query plans.

    python -m bench.sweep [--items 1000000] [--backends sqlite,postgresql] [--runs 50]

Dedicated databases: PostgreSQL `motcua_bench_sweep`, SQLite /tmp/motcua_bench_sweep.db (both recreated).
Prints a table; figures go to docs/performance.md. Not part of the test suite."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text, update

from bench.engine import fresh_database
from engine import scheduler
from engine.db import Database
from engine.models import Case, Procedure, Unit, WorkItem

NAME = "motcua_bench_sweep"
ITEMS_PER_CASE = 10
NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam


def add_items(database: Database, first_case: int, n_cases: int, batch: int = 5_000) -> None:
    """n_cases open cases with ITEMS_PER_CASE open items each, all due in the future (1–60 days), reminders
    one day before; a tenth of the cases wait on a BPMN timer, also in the future."""
    with database.transaction() as s:
        proc_id = s.scalar(select(Procedure.id).limit(1))
        if proc_id is None:
            proc = Procedure(code="bench", name="Bench", deadline_days=10)
            s.add(proc)
            s.flush()
            proc_id = proc.id
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "XA_A1"))
    rng = random.Random(first_case)
    for start in range(first_case, first_case + n_cases, batch):
        stop = min(start + batch, first_case + n_cases)
        case_rows, item_rows = [], []
        for i in range(start, stop):
            timer = NOW + timedelta(days=rng.uniform(1, 60)) if i % 10 == 0 else None
            case_rows.append({"id": i, "code": f"BENCH-{i:08d}", "lookup_secret": "X", "procedure_id": proc_id,
                              "receiving_unit_id": unit_id, "current_unit_id": unit_id, "channel": "desk",
                              "status_code": 4, "applicant_name": "Bench", "applicant_id_number": "",
                              "applicant_address": "", "applicant_phone": "", "applicant_email": "", "data": {},
                              "received_at": NOW - timedelta(days=1), "next_timer_at": timer,
                              "supplement_count": 0, "apology_count": 0, "created_at": NOW, "version": 1})
            for k in range(ITEMS_PER_CASE):
                due = NOW + timedelta(days=rng.uniform(1.5, 60))
                item_rows.append({"case_id": i, "task_uuid": f"{i:08d}-{k}", "task_bpmn_id": "review",
                                  "name": "Xem xét", "unit_id": unit_id, "role_code": "specialist",
                                  "level_code": "commune", "state": "open", "supplement": False,
                                  "created_at": NOW - timedelta(days=1), "due_at": due,
                                  "remind_at": due - timedelta(days=1)})
        with database.engine.begin() as conn:
            conn.execute(insert(Case), case_rows)
            conn.execute(insert(WorkItem), item_rows)
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE work_items"))
            conn.execute(text("VACUUM ANALYZE cases"))
    else:
        with database.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def idle_ms(database: Database, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        report = scheduler.sweep(database, NOW)
        times.append((time.perf_counter() - t) * 1000)
        assert report.idle, report.lines()
    return statistics.median(times)


def newly_due(database: Database, n: int, offset: int) -> tuple[float, int]:
    """Make n items due (the sweep's wake-up moment passed) and time the sweep that handles them."""
    with database.transaction() as s:
        ids = list(s.scalars(select(WorkItem.id).where(WorkItem.state == "open", WorkItem.remind_at.is_not(None))
                             .order_by(WorkItem.id).offset(offset).limit(n)))
        s.execute(update(WorkItem).where(WorkItem.id.in_(ids))
                  .values(due_at=NOW - timedelta(minutes=1), remind_at=NOW - timedelta(days=1))
                  .execution_options(synchronize_session=False))
    t = time.perf_counter()
    report = scheduler.sweep(database, NOW)
    ms = (time.perf_counter() - t) * 1000
    assert len(report.overdue) == n, len(report.overdue)
    return ms, len(report.notifications)


def plans(database: Database) -> list[str]:
    dialect = database.engine.dialect
    queries = {
        "items": select(WorkItem.id, WorkItem.due_at, WorkItem.remind_at)
        .where(WorkItem.state == "open", WorkItem.remind_at < NOW)
        .order_by(WorkItem.remind_at, WorkItem.id).limit(500),
        "timers": select(Case.id, Case.next_timer_at).where(Case.next_timer_at < NOW)
        .order_by(Case.next_timer_at, Case.id).limit(500),
    }
    out = []
    with database.engine.connect() as conn:
        for name, q in queries.items():
            sql = str(q.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
            rows = conn.execute(text(prefix + sql)).all()
            lines = [str(r[-1]) for r in rows]
            out += [f"{dialect.name} {name}: {line}" for line in lines]
    return out


def timer_lateness(backend: str, timers: int = 5, interval: float = 2.0) -> list[float]:
    """Real clock: the in-process scheduler (default 2 s interval) against timers due a few seconds ahead;
    lateness = the moment the sweep fired the timer minus the timer's due moment."""
    from pathlib import Path

    from engine import cases
    from engine.config import load_settings
    from engine.deploy import deploy
    from engine.models import Event, User, utcnow

    database = fresh_database(backend, NAME + "_late")
    xml = (Path(__file__).resolve().parent.parent / "tests" / "bpmn" / "timer_escalation.bpmn").read_text()
    dues = []
    for k in range(timers):
        due = utcnow() + timedelta(seconds=4 + 1.3 * k)
        dues.append(due)
        variant = xml.replace("add_working_days(received_at, 1)", repr(due.isoformat()))
        with database.transaction() as s:
            deploy(s, variant.encode(), "late.bpmn", forms={}, procedure_code=f"late{k}")
            cases.receive(s, s.scalar(select(User).where(User.username == "xa_a1_specialist")), f"late{k}",
                          {"name": "Bench"})
    settings = load_settings(database_url=database.url, instance_path="/tmp/motcua_bench_sweep_instance",
                             sweep_seconds=interval)
    sched = scheduler.start_background(database, settings)
    try:
        deadline = time.monotonic() + 30 + 1.3 * timers
        while time.monotonic() < deadline:
            with database.transaction() as s:
                fired = list(s.scalars(select(Event.at).where(Event.kind == "timer").order_by(Event.case_id)))
            if len(fired) == timers:
                break
            time.sleep(0.2)
    finally:
        sched.shutdown(wait=True)
        sched.motcua_sweeper.stop()
    database.dispose()
    return [(f - d).total_seconds() for f, d in zip(fired, dues, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--lateness-only", action="store_true")
    args = parser.parse_args()
    late = {b: timer_lateness(b) for b in args.backends.split(",") if b}
    print("\nTimer lateness with the in-process scheduler (MOTCUA_SWEEP_SECONDS=2), due → fired, seconds:")
    for b, values in late.items():
        print(f"  {b}: " + ", ".join(f"{v:.2f}" for v in values) + f" (max {max(values):.2f})")
    if args.lateness_only:
        return
    small_cases = 10_000 // ITEMS_PER_CASE
    big_cases = max(args.items // ITEMS_PER_CASE, small_cases)
    rows, plan_lines = [], []
    for backend in [b for b in args.backends.split(",") if b]:
        database = fresh_database(backend, NAME)
        add_items(database, 1, small_cases)
        idle_small = idle_ms(database, args.runs)
        due_small, _n = newly_due(database, 1_000, 0)
        t = time.perf_counter()
        add_items(database, small_cases + 1, big_cases - small_cases)
        load_s = time.perf_counter() - t
        idle_big = idle_ms(database, args.runs)
        due_big, notes = newly_due(database, 1_000, 5_000)
        plan_lines += plans(database)
        rows.append((backend, idle_small, idle_big, due_small, due_big, notes, load_s))
        database.dispose()
    print(f"\nScheduler sweep, {args.runs} idle runs (median); 1,000 newly due items = overdue mark, event, "
          f"notifications to assignee and head; open items: 10,000 then {big_cases * ITEMS_PER_CASE:,}\n")
    print("| backend | idle sweep 10k items ms | idle sweep 1M items ms | 1,000 due at 10k ms "
          "| 1,000 due at 1M ms | notifications | bulk load s |")
    print("|---|---|---|---|---|---|---|")
    for b, i1, i2, d1, d2, n, load in rows:
        print(f"| {b} | {i1:.2f} | {i2:.2f} | {d1:.0f} | {d2:.0f} | {n:,} | {load:.0f} |")
    print("\nQuery plans at 1M items:")
    for line in plan_lines:
        print("  " + line)


if __name__ == "__main__":
    main()
