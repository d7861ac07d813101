"""Report speed on PostgreSQL at 1,000,000 cases: `python -m bench.reports [--cases N] [--fresh] [--drop]`.

Uses the database motcua_bench_reports, kept between runs (loading takes minutes): it is (re)built only when
missing, holding another number of cases, or with --fresh, and brought to the newest schema otherwise; --drop
removes it afterwards. The load: the demo
province and the shipped procedures, cases by COPY (three years of receipts, a realistic mix of channels,
timings, open, paused, withdrawn and refused cases) and six completed steps per resolved case (for the
per-step table). Then it times, median of 3, every query of the /reports page for the province's year (the
province leader, tinh_leader) and the whole page through the Flask app, with EXPLAIN ANALYZE of the table's
query. Target: the whole page ≤ 2 s. On a busy machine the ratios hold better than the times: --compare runs
the per-step statement of before reports13 and today's in turn, --against DIR the whole page with another
source tree and this one in turn.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, event, select, text

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
        # Six completed steps per resolved case, spread over its processing time (the per-step table).
        cur.execute("INSERT INTO work_items (case_id, task_uuid, task_bpmn_id, name, unit_id, role_code, level_code, "
                    "state, supplement, created_at, due_at, completed_at, timing) "
                    "SELECT c.id, md5(c.id::text || '-' || k), 'step_' || k, 'Bước ' || k, c.receiving_unit_id, "
                    "'specialist', 'commune', 'completed', false, "
                    "c.received_at + (c.resolved_at - c.received_at) * (k - 1) / 6, "
                    "c.received_at + (c.resolved_at - c.received_at) * k / 6 + interval '4 hours', "
                    "c.received_at + (c.resolved_at - c.received_at) * k / 6, "
                    "CASE WHEN c.timing = 'late' AND k = 6 THEN 'late' ELSE 'on_time' END "
                    "FROM cases c CROSS JOIN generate_series(1, 6) AS k WHERE c.resolved_at IS NOT NULL")
        # Withdrawals are dated by their status event, as engine.public.withdraw records them.
        cur.execute("INSERT INTO events (case_id, at, kind, data) SELECT id, received_at + interval '2 days', "
                    "'status', '{\"from\": 4, \"to\": 7}'::jsonb FROM cases WHERE status_code = 7")
        raw.commit()
        # VACUUM as autovacuum would soon after such a load: index-only scans need the visibility map.
        raw.driver_connection.autocommit = True
        cur.execute("VACUUM (ANALYZE)")
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


def _loaded(admin_url: str, n: int) -> str | None:
    """The kept database's URL when it holds the demo data and exactly `n` cases, else None."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": NAME})
    admin.dispose()
    if not exists:
        return None
    url = admin_url.rsplit("/", 1)[0] + "/" + NAME
    probe = create_engine(url)
    try:
        with probe.connect() as conn:
            count = conn.scalar(text("SELECT count(*) FROM cases"))
            steps = conn.scalar(text("SELECT count(*) FROM work_items"))
    except Exception:  # noqa: BLE001 — a half-built database is rebuilt
        return None
    finally:
        probe.dispose()
    return url if count == n and steps else None


def _explain(database: Database, run) -> str:  # noqa: ANN001
    """EXPLAIN ANALYZE of the statement `run` sends that reads the cases (captured at the driver)."""
    captured: list[tuple[str, object]] = []

    def grab(_conn, _cur, statement, params, _ctx, _many) -> None:  # noqa: ANN001
        if "FROM cases" in statement:
            captured.append((statement, params))

    event.listen(database.engine, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(database.engine, "before_cursor_execute", grab)
    statement, params = captured[0]
    raw = database.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        return "\n".join(row[0] for row in cur.fetchall())
    finally:
        raw.close()


def _page(url: str, path: str) -> tuple[float, int]:
    """Median seconds of GET `path` through the Flask app, signed in as the province leader, and its status."""
    import tempfile
    from pathlib import Path

    from engine.config import load_settings
    from web import create_app

    app = create_app(load_settings(database_url=url, instance_path=Path(tempfile.mkdtemp())))
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"username": USER, "password": "motcua2026"})
    status = client.get(path).status_code
    return _time(lambda: client.get(path)), status


USER = "tinh_leader"


# One GET of the page after a warm-up one, in a fresh process of whichever source tree is first on PYTHONPATH
# (only names every version of motcua has: create_app, load_settings).
PAGE_ONCE = """
import logging, sys, tempfile, time
from pathlib import Path
logging.disable(logging.CRITICAL)
from engine.config import load_settings
from web import create_app
app = create_app(load_settings(database_url=sys.argv[1], instance_path=Path(tempfile.mkdtemp())))
app.config["WTF_CSRF_ENABLED"] = False
client = app.test_client()
client.post("/login", data={"username": sys.argv[2], "password": "motcua2026"})
assert client.get(sys.argv[3]).status_code == 200
t0 = time.perf_counter()
client.get(sys.argv[3])
print(time.perf_counter() - t0)
"""


def _page_against(url: str, path: str, other: str, rounds: int = 3) -> str:
    """The whole page with another source tree (e.g. `git archive main | tar -x -C DIR`, compiled catalogs
    copied in) and with this one, in turn, under the same load: a ratio that a busy machine leaves standing."""
    import subprocess
    import sys
    from pathlib import Path

    here = str(Path(__file__).resolve().parent.parent)
    times: dict[str, list[float]] = {other: [], here: []}
    for _ in range(rounds):
        for tree in (other, here):
            env = {**os.environ, "PYTHONPATH": tree, "PYTHONDONTWRITEBYTECODE": "1"}
            out = subprocess.run([sys.executable, "-c", PAGE_ONCE, url, USER, path], env=env, cwd=tree,
                                 capture_output=True, text=True, check=True).stdout
            times[tree].append(float(out.strip().splitlines()[-1]))
    b, a = statistics.median(times[other]), statistics.median(times[here])
    return (f"GET /reports, in turn: {other} {b:.3f} s, this tree {a:.3f} s (×{b / a:.1f}; runs "
            f"{', '.join(f'{x:.2f}' for x in times[other])} against {', '.join(f'{x:.2f}' for x in times[here])}; "
            f"load average {os.getloadavg()[0]:.1f})")


def _steps_before(session, f) -> list[tuple]:  # noqa: ANN001
    """The per-step statement /reports ran before reports13 (main 6333b2d): every completed step of the period
    joined to its case and procedure, grouped by unit code and step, two percentile_cont each sorting the
    group again. Kept to measure the change in one run, under the same load, with the same figures."""
    from sqlalchemy import case, func

    from engine.models import Case, Procedure, WorkItem
    from engine.report_figures import _filtered
    from engine.report_steps import _round

    hours = func.extract("epoch", WorkItem.completed_at - WorkItem.created_at) / 3600.0
    late = func.coalesce(func.sum(case((WorkItem.timing == "late", 1), else_=0)), 0)
    q = select(Unit.code, WorkItem.name, func.count(), late, func.percentile_cont(0.5).within_group(hours),
               func.percentile_cont(0.9).within_group(hours)).select_from(WorkItem) \
        .join(Case, Case.id == WorkItem.case_id).join(Unit, Unit.id == WorkItem.unit_id) \
        .join(Procedure, Procedure.id == Case.procedure_id) \
        .where(WorkItem.state == "completed", WorkItem.completed_at >= f.period.start,
               WorkItem.completed_at < f.period.end).group_by(Unit.code, WorkItem.name)
    return sorted((code, step, n, n_late, _round(med), _round(p90))
                  for code, step, n, n_late, med, p90 in session.execute(_filtered(q, f)))


def _compare_steps(session, f, repeat: int = 3) -> str:  # noqa: ANN001
    """Before and after, interleaved (one of each in turn), with identical figures asserted."""
    after = sorted((r.unit_code, r.step, r.count, r.late, r.median_hours, r.p90_hours)
                   for r in reports.steps(session, f))
    assert _steps_before(session, f) == after, "the per-step table must keep its figures"
    before_s, after_s = [], []
    for _ in range(repeat):
        before_s.append(_time(lambda: _steps_before(session, f), 1))
        after_s.append(_time(lambda: reports.steps(session, f), 1))
    b, a = statistics.median(before_s), statistics.median(after_s)
    return (f"per-step table, interleaved: before {b:.3f} s, after {a:.3f} s (×{b / a:.1f} faster, "
            f"{len(after)} rows, same figures; load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true", help="rebuild the database even if it is loaded")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    parser.add_argument("--compare", action="store_true",
                        help="also time the per-step statement of before reports13 against today's, interleaved")
    parser.add_argument("--against", metavar="DIR",
                        help="also time the whole page with the source tree DIR and with this one, in turn")
    args = parser.parse_args()
    load_s = None
    url = None if args.fresh else _loaded(ADMIN_URL, args.cases)
    try:
        if url is None:
            url = _create(ADMIN_URL)
            t0 = time.perf_counter()
            _load(url, args.cases)
            load_s = time.perf_counter() - t0
        database = Database(url)
        schema.upgrade(database.engine)  # a kept database gets the indexes of newer migrations
        now = datetime(2026, 1, 5, tzinfo=UTC)
        with database.transaction() as s:
            leader = s.scalar(select(User).where(User.username == USER))
            commune = s.scalar(select(User).where(User.username == "xa_a1_head"))
            year = reports.filters_for(s, leader, "2025-01-01", "2025-12-31", now=now)
            month = reports.filters_for(s, leader, "2025-11-01", "2025-11-30", now=now)
            local = reports.filters_for(s, commune, "2025-01-01", "2025-12-31", now=now)
            rows = reports.table(s, year, "unit")
            assert reports.total(rows) == reports.summary(s, year), "the summary must be the sum of the table"
            timings = [
                ("yearly table per unit (page)", _time(lambda: reports.table(s, year, "unit"))),
                ("summary as the sum of the table (page)", _time(lambda: reports.total(rows))),
                ("yearly on-time rate per month (page)", _time(lambda: reports.monthly_rate(s, year))),
                ("backlog per current unit (page)", _time(lambda: reports.backlog(s, year))),
                ("per-step table (page)", _time(lambda: reports.steps(s, year))),
                ("ratings (page)", _time(lambda: reports.ratings_summary(s, year))),
                ("yearly summary, one query (API)", _time(lambda: reports.summary(s, year))),
                ("yearly table per field", _time(lambda: reports.table(s, year, "field"))),
                ("monthly province summary", _time(lambda: reports.summary(s, month))),
                ("yearly commune summary (xa_a1_head)", _time(lambda: reports.summary(s, local))),
                ("drill-down page 1 (resolved_late)", _time(lambda: reports.drill_down(s, year, "resolved_late"))),
            ]
            figures = reports.total(rows)
            compared = _compare_steps(s, year) if args.compare else None
            plan = _explain(database, lambda: reports.table(s, year, "unit"))
        database.dispose()
        page_s, status = _page(url, "/reports?from=2025-01-01&to=2025-12-31")
        against = _page_against(url, "/reports?from=2025-01-01&to=2025-12-31", args.against) if args.against else None
        with create_engine(url).connect() as conn:
            steps = conn.scalar(text("SELECT count(*) FROM work_items"))
        loaded = f"loaded in {load_s:.1f} s" if load_s is not None else "kept from an earlier run"
        print(f"\nmotcua reports benchmark — PostgreSQL, {args.cases:,} cases and {steps:,} steps ({loaded}); "
              f"load average {os.getloadavg()[0]:.1f}\n")
        print(f"{'query':<44} {'median of 3':>12}")
        print("-" * 58)
        for name, seconds in timings:
            print(f"{name:<44} {seconds:>10.3f} s")
        print(f"{'GET /reports, the whole page':<44} {page_s:>10.3f} s   (HTTP {status})")
        print("-" * 58)
        print("target: the whole /reports page for the province's year <= 2 s:", "OK" if page_s <= 2 else "MISSED")
        print("2025 figures:", figures)
        if compared:
            print(compared)
        if against:
            print(against)
        print("\nEXPLAIN ANALYZE of the yearly table per unit:\n" + plan)
    finally:
        if args.drop:
            _drop(ADMIN_URL)


if __name__ == "__main__":
    main()
