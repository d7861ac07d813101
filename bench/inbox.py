"""Inbox at scale: engine.cases.inbox and GET /inbox with 1,000,000 cases and 100,000 open work items.

    python -m bench.inbox [--cases 1000000] [--open 100000] [--backends sqlite,postgresql] [--runs 200]

Builds a dedicated database per backend (SQLite file under /tmp, PostgreSQL database motcua_bench_inbox,
dropped afterwards), bulk-loads rows (executemany on SQLite, COPY on PostgreSQL), then prints p50/p95 of the
first page and of a deep keyset page, for the query and for the whole page, and the query plan (EXPLAIN)
showing ix_work_items_inbox is used. The measured official (xa_a1_specialist) has a fifth of the open items."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, text

from engine import cases, catalog, org, schema
from engine.config import load_settings
from engine.db import Database
from engine.demo import create_demo
from engine.models import Procedure, Unit, User, WorkItem

PG_ADMIN = os.environ.get("MOTCUA_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_NAME = "motcua_bench_inbox"
USER = "xa_a1_specialist"
BATCH = 20_000
ROLES = ("clerk", "specialist", "head", "leader")
CASE_COLS = ("id", "code", "lookup_secret", "procedure_id", "receiving_unit_id", "current_unit_id", "channel",
             "status_code", "applicant_name", "applicant_id_number", "applicant_address", "applicant_phone",
             "applicant_email", "data", "received_at", "due_at", "supplement_count", "apology_count", "created_at",
             "version")
ITEM_COLS = ("id", "case_id", "task_uuid", "task_bpmn_id", "name", "unit_id", "role_code", "level_code", "form",
             "state", "supplement", "claimed_by_id", "created_at", "due_at")


def _setup(database: Database) -> None:
    schema.upgrade(database.engine)
    with database.transaction() as s:
        org.ensure_reference_data(s)
        create_demo(s)
        catalog.load_catalog(s)


def _rows(database: Database, n_cases: int, n_open: int) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """Cases spread over the communes; one work item per case: n_open open (a fifth for the measured official),
    the rest completed steps. Due dates ±30 days around now, so every time state occurs."""
    rng = random.Random(7)
    with database.transaction() as s:
        units = {u.code: u for u in s.scalars(select(Unit))}
        procs = list(s.scalars(select(Procedure.id)))
        me = s.scalar(select(User).where(User.username == USER))
    communes = [units[c] for c in ("XA_A1", "XA_A2", "XA_B1", "XA_B2")]
    everyone = list(units.values())
    now = datetime.now(UTC)
    sqlite = database.is_sqlite

    def ts(dt: datetime) -> Any:
        return dt.replace(tzinfo=None) if sqlite else dt

    case_rows: list[tuple] = []
    item_rows: list[tuple] = []
    hot = n_open // 5
    for i in range(1, n_cases + 1):
        unit = communes[i % 4]
        received = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
        case_rows.append((i, f"BENCH-{i:07d}", "ABC123", procs[i % len(procs)], unit.id, unit.id, "desk", 4,
                          f"Người nộp {i}", "", "", "", "", "{}", ts(received), ts(received + timedelta(days=20)),
                          0, 0, ts(received), 1))
        if i <= n_open:
            if i <= hot:
                owner, role = me.unit, "specialist"
            else:
                owner, role = everyone[rng.randrange(len(everyone))], ROLES[rng.randrange(4)]
            state, due = "open", now + timedelta(minutes=rng.randint(-30 * 24 * 60, 30 * 24 * 60))
        else:
            owner, role, state = unit, "clerk", "completed"
            due = received + timedelta(days=3)
        item_rows.append((i, i, f"00000000-0000-0000-0000-{i:012d}", "commune_review", "Kiểm tra hồ sơ, bản khai",
                          owner.id, role, owner.level_code, "xa_tham_tra", state, False, None, ts(received), ts(due)))
        if len(case_rows) == BATCH or i == n_cases:
            yield case_rows, item_rows
            case_rows, item_rows = [], []


def _load(database: Database, table: str, cols: tuple[str, ...], rows: list[tuple]) -> None:
    if database.is_sqlite:
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
        with database.engine.begin() as conn:
            for k in range(0, len(rows), BATCH):
                conn.exec_driver_sql(sql, rows[k:k + BATCH])
        return
    raw = database.engine.raw_connection()
    try:
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _finish_pg(database: Database) -> None:
    with database.engine.begin() as conn:
        for table in ("cases", "work_items"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    # VACUUM, not only ANALYZE: a table filled by COPY has no visibility map until autovacuum gets to it, at a
    # moment of its choosing (sometimes in the middle of a run), and until then every index-only scan reads the
    # heap too. A table in service has been vacuumed; the bench measures that state, every run the same.
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _pct(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _deep_cursor(database: Database, user_id: int, depth: int) -> str:
    with database.transaction() as s:
        user = s.get(User, user_id)
        item = s.scalar(select(WorkItem).where(WorkItem.unit_id == user.unit_id, WorkItem.role_code == "specialist",
                                               WorkItem.state == "open")
                        .order_by(WorkItem.due_at, WorkItem.id).offset(depth).limit(1))
        return f"{item.due_at.isoformat()}|{item.id}"


def _explain(database: Database, user_id: int, cursor: str) -> str:
    """The plan of the exact SQL cases.inbox sends for a deep page."""
    captured: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if "FROM work_items" in statement and "ORDER BY work_items.due_at" in statement:
            captured.append((statement, params))

    event.listen(database.engine, "before_cursor_execute", grab)
    try:
        with database.transaction() as s:
            cases.inbox(s, s.get(User, user_id), after=cursor, limit=50)
    finally:
        event.remove(database.engine, "before_cursor_execute", grab)
    statement, params = captured[-1]
    raw = database.engine.raw_connection()
    try:
        cur = raw.cursor()
        if database.is_sqlite:
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            return "\n".join(str(row[-1]) for row in cur.fetchall())
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        return "\n".join(row[0] for row in cur.fetchall())
    finally:
        raw.close()


def _measure(database: Database, instance: Path, runs: int, depth: int) -> dict[str, tuple[float, float]]:
    from web import create_app

    with database.transaction() as s:
        user_id = s.scalar(select(User.id).where(User.username == USER))
    deep = _deep_cursor(database, user_id, depth)
    out: dict[str, tuple[float, float]] = {}
    for label, after in (("first page", None), (f"deep page (item {depth:,})", deep)):
        samples = []
        with database.transaction() as s:
            user = s.get(User, user_id)
            for _ in range(runs):
                s.expunge_all()
                t0 = time.perf_counter()
                page = cases.inbox(s, user, after=after, limit=50)
                samples.append((time.perf_counter() - t0) * 1000)
                assert len(page.items) == 50
        out[f"query, {label}"] = _pct(samples)
    app = create_app(load_settings(database_url=database.url, instance_path=instance), database=database)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/login", data={"username": USER, "password": "motcua2026"})
    for label, after in (("first page", None), (f"deep page (item {depth:,})", deep)):
        url = "/inbox" + (f"?after={after.replace('+', '%2B')}" if after else "")
        samples = []
        with _Breakdown(database, app) as parts:
            for _ in range(max(20, runs // 4)):
                parts.start()
                t0 = time.perf_counter()
                r = client.get(url)
                samples.append((time.perf_counter() - t0) * 1000)
                parts.stop()
                assert r.status_code == 200 and r.get_data(as_text=True).count("data-item=") == 50, r.status_code
        out[f"GET /inbox, {label}"] = _pct(samples)
        out[f"_parts, {label}"] = parts.medians()  # type: ignore[assignment]
    out["_explain"] = _explain(database, user_id, deep)  # type: ignore[assignment]
    return out


class _Breakdown:
    """Where a page's time goes (median per page): SQL statements sent and their time at the driver, and the
    template's render time (Flask's signals); the rest is Flask, the login check and building the rows. Only
    reported: the page's figure above is the whole GET (the listeners add microseconds)."""

    def __init__(self, database: Database, app: Any) -> None:
        self.engine, self.app = database.engine, app
        self.now: dict[str, float] = {"statements": 0, "SQL ms": 0.0, "template ms": 0.0}
        self.samples: list[dict[str, float]] = []
        self._t: dict[str, float] = {}

    def _sql_start(self, *_a: Any) -> None:
        self._t["sql"] = time.perf_counter()

    def _sql_end(self, *_a: Any) -> None:
        self.now["statements"] += 1
        self.now["SQL ms"] += (time.perf_counter() - self._t["sql"]) * 1000

    def _render_start(self, *_a: Any, **_k: Any) -> None:
        self._t["render"] = time.perf_counter()

    def _render_end(self, *_a: Any, **_k: Any) -> None:
        self.now["template ms"] += (time.perf_counter() - self._t["render"]) * 1000

    def __enter__(self) -> _Breakdown:
        from flask import before_render_template, template_rendered

        event.listen(self.engine, "before_cursor_execute", self._sql_start)
        event.listen(self.engine, "after_cursor_execute", self._sql_end)
        before_render_template.connect(self._render_start, self.app)
        template_rendered.connect(self._render_end, self.app)
        return self

    def __exit__(self, *_exc: Any) -> None:
        from flask import before_render_template, template_rendered

        event.remove(self.engine, "before_cursor_execute", self._sql_start)
        event.remove(self.engine, "after_cursor_execute", self._sql_end)
        before_render_template.disconnect(self._render_start, self.app)
        template_rendered.disconnect(self._render_end, self.app)

    def start(self) -> None:
        self.now = dict.fromkeys(self.now, 0.0)

    def stop(self) -> None:
        self.samples.append(dict(self.now))

    def medians(self) -> dict[str, float]:
        return {k: statistics.median(s[k] for s in self.samples) for k in self.now}


def _kept(database: Database, n_cases: int, n_open: int) -> bool:
    """Whether the kept database already holds this load (then it is measured as is)."""
    try:
        with database.engine.connect() as conn:
            cases_n = conn.scalar(text("SELECT count(*) FROM cases"))
            open_n = conn.scalar(text("SELECT count(*) FROM work_items WHERE state = 'open'"))
    except Exception:  # noqa: BLE001 — missing or half-built: load it again
        return False
    return cases_n == n_cases and open_n == n_open


def run_backend(backend: str, n_cases: int, n_open: int, runs: int, keep: bool) -> dict:
    """Load (unless a kept database holds the same load) and measure one backend. The database is a fixed
    SQLite file / PostgreSQL database, dropped afterwards unless `keep`."""
    tmp = Path(tempfile.mkdtemp(prefix="motcua_bench_inbox_"))
    sqlite_path = Path(tempfile.gettempdir()) / f"{PG_NAME}.db"
    admin = None
    if backend == "sqlite":
        url = f"sqlite:///{sqlite_path}"
    else:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_NAME}):
                conn.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_NAME
    database = Database(url)
    try:
        t0 = time.perf_counter()
        load_s = None
        if not _kept(database, n_cases, n_open):
            database.dispose()
            _drop(backend, admin, sqlite_path)
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
            database = Database(url)
            _setup(database)
            for case_rows, item_rows in _rows(database, n_cases, n_open):
                _load(database, "cases", CASE_COLS, case_rows)
                _load(database, "work_items", ITEM_COLS, item_rows)
            if backend == "postgresql":
                _finish_pg(database)
            else:
                with database.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            load_s = time.perf_counter() - t0
        result = _measure(database, tmp, runs, min(15_000, n_open // 5 - 100))
        result["_load_s"] = load_s  # type: ignore[assignment]
        return result
    finally:
        database.dispose()
        if not keep:
            _drop(backend, admin, sqlite_path)
        if admin is not None:
            admin.dispose()
        for p in sorted(tmp.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        tmp.rmdir()


def _drop(backend: str, admin: Any, sqlite_path: Path) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        return
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{PG_NAME}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}"'))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--keep", action="store_true",
                    help="keep the loaded databases for the next run (which then skips loading)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if args.open // 5 < 200:
        raise SystemExit("--open must be at least 1,000 so the measured official has a deep page")
    results = {}
    for backend in [b for b in args.backends.split(",") if b]:
        print(f"loading {args.cases:,} cases and {args.open:,} open work items into {backend} …", flush=True)
        results[backend] = run_backend(backend, args.cases, args.open, args.runs, args.keep)
        load_s = results[backend]["_load_s"]
        print("  kept from an earlier run" if load_s is None else f"  loaded in {load_s:.0f} s", flush=True)
    print(f"\nInbox of {USER}: {args.open // 5:,} of {args.open:,} open items; {args.cases:,} cases; "
          f"{args.runs} query runs, {max(20, args.runs // 4)} page runs\n")
    print(f"{'backend':<11} {'measure':<40} {'p50 ms':>8} {'p95 ms':>8}")
    for backend, res in results.items():
        for key, value in res.items():
            if not key.startswith("_"):
                print(f"{backend:<11} {key:<40} {value[0]:>8.1f} {value[1]:>8.1f}")
    print("\nThe page against its query (target: page p95 ≤ 3 × query p95)")
    for backend, res in results.items():
        for label in ("first page", next(k for k in res if k.startswith("query, deep"))[len("query, "):]):
            q, page = res[f"query, {label}"][1], res[f"GET /inbox, {label}"][1]
            print(f"{backend:<11} {label:<28} query p95 {q:6.1f} ms   page p95 {page:6.1f} ms   "
                  f"page/query ×{page / q:.2f}")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print("\nWhere a page goes (median per page; the rest is Flask, the login check and building the rows)")
    for backend, res in results.items():
        for key, parts in res.items():
            if key.startswith("_parts, "):
                print(f"{backend:<11} {key[len('_parts, '):]:<28} " + "   ".join(
                    f"{name} {value:.0f}" if name == "statements" else f"{name} {value:.1f}"
                    for name, value in parts.items()))
    for backend, res in results.items():
        plan = res["_explain"]
        used = "ix_work_items_inbox" in plan
        print(f"\nEXPLAIN ({backend}, deep page) — ix_work_items_inbox used: {'yes' if used else 'NO'}\n{plan}")
    if args.json:
        Path(args.json).write_text(json.dumps({b: {k: v for k, v in r.items()} for b, r in results.items()},
                                              ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
