"""Report speed on PostgreSQL with 1,000,000 cases: `python -m bench.reports [--cases N] [--keep]`.

Creates the database motcua_bench_reports (dropped at the end unless --keep), loads the demo province and the
shipped procedures, bulk-loads cases with COPY (three years of receipts, a realistic mix of channels, timings,
open, paused, withdrawn and refused cases), then times the yearly province report (the summary, the table per
unit, the monthly on-time rate) and a commune's report. Target: yearly province summary ≤ 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, select, text

from engine import catalog, org, reports, schema
from engine.db import Database
from engine.demo import create_demo
from engine.models import ProcessVersion, Unit, User

ADMIN_URL = os.environ.get("MOTCUA_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NAME = "motcua_bench_reports"
COLUMNS = ("code", "lookup_secret", "procedure_id", "process_version_id", "receiving_unit_id", "current_unit_id",
           "channel", "status_code", "applicant_name", "applicant_id_number", "applicant_address",
           "applicant_phone", "applicant_email", "data", "received_at", "due_at", "original_due_at",
           "clock_started_at", "resolved_at", "returned_at", "timing", "result", "supplement_count",
           "apology_count", "created_at", "version")


def _create(admin_url: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{NAME}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}"'))
        conn.execute(text(f'CREATE DATABASE "{NAME}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + NAME


def _drop(admin_url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{NAME}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}"'))
    admin.dispose()


def _rows(n: int, units: list[tuple[int, str]], versions: list[tuple[int, int]], seed: int = 7):  # noqa: ANN202
    """Cases received from 2023-01-01 to 2025-12-31; about 4 % still open, 1 % paused, 0.5 % withdrawn,
    1 % refused at intake; resolved ones 60 % early, 30 % on time, 10 % late."""
    rnd = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    span = 3 * 365 * 24 * 3600
    now = datetime(2026, 1, 5, tzinfo=UTC)
    seq: dict[tuple[int, str], int] = {}
    for i in range(n):
        unit_id, agency = units[i % len(units)]
        proc_id, pv_id = versions[rnd.randrange(len(versions))]
        received = start + timedelta(seconds=rnd.randrange(span))
        day = received.strftime("%y%m%d")
        seq[(unit_id, day)] = seq.get((unit_id, day), 0) + 1
        code = f"{agency}-{day}-{seq[(unit_id, day)]:05d}"
        due = received + timedelta(days=rnd.choice((4, 7, 10, 30)))
        channel = rnd.choices(("desk", "online", "post"), (70, 25, 5))[0]
        r = rnd.random()
        status, resolved, timing, result, returned, pv = 10, None, None, "approved", None, pv_id
        if r < 0.01:
            status, result, pv, due = 3, "refused", None, None
        elif r < 0.015:
            status, result = 7, None
        elif r < 0.025:
            status, result = 5, None
        elif r < 0.065 and received > now - timedelta(days=60):
            status, result = 4, None
        else:
            t = rnd.random()
            if t < 0.6:
                resolved, timing = due - timedelta(days=1 + rnd.randrange(3)), "early"
            elif t < 0.9:
                resolved, timing = due - timedelta(hours=2), "on_time"
            else:
                resolved, timing = due + timedelta(days=1 + rnd.randrange(5)), "late"
            resolved = max(resolved, received + timedelta(hours=1))
            returned = resolved + timedelta(hours=3)
            if rnd.random() < 0.05:
                result = "refused"
        yield (code, "ABC123", proc_id, pv, unit_id, unit_id, channel, status, "Nguyễn Văn A", "", "", "", "",
               "{}", received, due, due, received, resolved, returned, timing, result, 0, 0, received, 1)


def _load(url: str, n: int) -> None:
    database = Database(url)
    schema.upgrade(database.engine)
    with database.transaction() as s:
        org.ensure_reference_data(s)
        create_demo(s)
        catalog.load_catalog(s)
        units = [(u.id, u.agency_code) for u in s.scalars(select(Unit).where(Unit.level_code == "commune"))]
        versions = [(pv.procedure_id, pv.id) for pv in s.scalars(select(ProcessVersion))]
    raw = database.engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in _rows(n, units, versions):
                copy.write_row(row)
        # Withdrawals are dated by their status event, as engine.public.withdraw records them.
        cur.execute("INSERT INTO events (case_id, at, kind, data) SELECT id, received_at + interval '2 days', "
                    "'status', '{\"from\": 4, \"to\": 7}'::jsonb FROM cases WHERE status_code = 7")
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    database.dispose()


def _time(fn, repeat: int = 3) -> float:  # noqa: ANN001
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = _create(ADMIN_URL)
    try:
        t0 = time.perf_counter()
        _load(url, args.cases)
        load_s = time.perf_counter() - t0
        database = Database(url)
        with database.transaction() as s:
            admin = s.scalar(select(User).where(User.username == "admin"))
            commune = s.scalar(select(User).where(User.username == "xa_a1_head"))
            now = datetime(2026, 1, 5, tzinfo=UTC)
            year = reports.filters_for(s, admin, "2025-01-01", "2025-12-31", now=now)
            month = reports.filters_for(s, admin, "2025-11-01", "2025-11-30", now=now)
            local = reports.filters_for(s, commune, "2025-01-01", "2025-12-31", now=now)
            figures = reports.summary(s, year)
            timings = [
                ("yearly province summary (API)", _time(lambda: reports.summary(s, year))),
                ("yearly province table per unit", _time(lambda: reports.table(s, year, "unit"))),
                ("yearly table per field", _time(lambda: reports.table(s, year, "field"))),
                ("yearly on-time rate per month", _time(lambda: reports.monthly_rate(s, year))),
                ("monthly province summary", _time(lambda: reports.summary(s, month))),
                ("yearly commune summary (xa_a1_head)", _time(lambda: reports.summary(s, local))),
                ("drill-down page 1 (resolved_late)", _time(lambda: reports.drill_down(s, year, "resolved_late"))),
            ]
        database.dispose()
        print(f"\nmotcua reports benchmark — PostgreSQL, {args.cases:,} cases (loaded in {load_s:.1f} s)\n")
        print(f"{'query':<42} {'median of 3':>12}")
        print("-" * 56)
        for name, seconds in timings:
            print(f"{name:<42} {seconds:>10.3f} s")
        print("-" * 56)
        print("target: yearly province summary <= 2 s:", "OK" if timings[0][1] <= 2 else "MISSED")
        print("2025 figures:", {k: v for k, v in figures.items()})
    finally:
        if not args.keep:
            _drop(ADMIN_URL)


if __name__ == "__main__":
    main()
