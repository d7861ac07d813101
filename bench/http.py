"""Concurrent officials through HTTP: gunicorn with 1, 2 and 4 workers on PostgreSQL, 20 clients each
running full lifecycles of ncc_mai_tang through the JSON API (receive, then every task completed by the
official of its unit and role). Once per lifecycle a client completes a step a second time on purpose:
that must be a 409 naming who completed it; any other non-2xx answer is an error.

    python -m bench.http [--workers 1,2,4] [--clients 20] [--seconds 20] [--filler 10000]

Loopback only; every server is stopped before the next starts. Not part of the test suite."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import select

from bench.engine import PG_ADMIN, PROCEDURE, add_filler, fresh_database
from engine import org
from engine.models import User

DB_NAME = "motcua_bench_http"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One official's desk: a keep-alive connection and the tokens of every demo user."""

    def __init__(self, port: int, tokens: dict[str, str], stats: dict, stop: threading.Event) -> None:
        self.port, self.tokens, self.stats, self.stop = port, tokens, stats, stop
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.lifecycles = 0

    def call(self, endpoint: str, path: str, user: str, body: dict, expect: tuple[int, ...]) -> dict:
        data = json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "Content-Type": "application/json"}
        t0 = time.perf_counter()
        try:
            self.conn.request("POST", path, body=data, headers=headers)
            resp = self.conn.getresponse()
            payload = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.stats["errors"].append((endpoint, "connection"))
            return {}
        ms = (time.perf_counter() - t0) * 1000
        self.stats["ms"][endpoint].append(ms)
        if resp.status not in expect:
            self.stats["errors"].append((endpoint, resp.status, payload[:200]))
            return {}
        if resp.status == 409:
            self.stats["conflicts"].append(endpoint)
        return json.loads(payload)

    def lifecycle(self) -> None:
        body = {"procedure": PROCEDURE, "applicant": {"name": "Nguyễn Văn Tải"}, "data": {}}
        case = self.call("receive", "/api/v1/cases", "xa_a1_clerk", body, (201,))
        tasks = case.get("tasks", [])
        repeated = False
        while tasks:
            task = tasks[0]
            user = f"{task['unit'].lower()}_{task['role']}"
            path = f"/api/v1/tasks/{task['id']}/complete"
            done = self.call("complete", path, user, {"data": {"outcome": "approve"}}, (200,))
            if not done:
                return
            if not repeated:  # the deliberate race loser: the same step a second time
                self.call("complete (again, 409)", path, user, {"data": {"outcome": "approve"}}, (409,))
                repeated = True
            tasks = done["case"]["tasks"]
        self.lifecycles += 1

    def run(self) -> None:
        while not self.stop.is_set():
            self.lifecycle()
        self.conn.close()


def start_server(workers: int, port: int, url: str, instance: Path) -> subprocess.Popen:
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "MOTCUA_INSTANCE_PATH": str(instance),
           "MOTCUA_SECRET_KEY": "bench-" + "0" * 32}
    log = open(instance / f"gunicorn-{workers}.log", "w")  # noqa: SIM115 — closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                             "--access-logfile", "/dev/null", "web:create_app()"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"gunicorn did not start, see {log.name}")
        time.sleep(0.3)


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else (values or [0.0])[0]


def run(workers: int, clients: int, seconds: float, url: str, tokens: dict[str, str], instance: Path) -> dict:
    port = free_port()
    proc = start_server(workers, port, url, instance)
    try:
        stats: dict = {"ms": defaultdict(list), "errors": [], "conflicts": []}
        warm = threading.Event()
        warm.set()
        for _ in range(workers * 2):  # every worker restores the spec and fills its caches first
            Client(port, tokens, {"ms": defaultdict(list), "errors": [], "conflicts": []}, warm).lifecycle()
        stop = threading.Event()
        desks = [Client(port, tokens, stats, stop) for _ in range(clients)]
        threads = [threading.Thread(target=d.run) for d in desks]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    requests = sum(len(v) for v in stats["ms"].values())
    return {"workers": workers, "lifecycles": sum(d.lifecycles for d in desks), "wall": wall,
            "requests": requests, "ms": stats["ms"], "errors": stats["errors"], "conflicts": len(stats["conflicts"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--filler", type=int, default=10_000)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    database = fresh_database("postgresql", DB_NAME)
    add_filler(database, args.filler)
    with database.transaction() as s:
        tokens = {u.username: org.issue_token(s, u) for u in s.scalars(select(User))}
    database.dispose()
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + DB_NAME
    instance = Path(tempfile.mkdtemp(prefix="motcua-bench-http-"))
    results = [run(int(w), args.clients, args.seconds, url, tokens, instance) for w in args.workers.split(",")]
    print(f"\n{args.clients} concurrent clients, full lifecycles of {PROCEDURE} through the API, PostgreSQL, "
          f"{args.filler:,} cases pre-loaded, {args.seconds:.0f} s per run; load average before: "
          f"{load_before:.1f}, after: {os.getloadavg()[0]:.1f}\n")
    print("| workers | lifecycles/s | requests/s | errors | deliberate 409s |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['workers']} | {r['lifecycles'] / r['wall']:.1f} | {r['requests'] / r['wall']:.1f} "
              f"| {len(r['errors'])} | {r['conflicts']} |")
    print("\n| workers | endpoint | requests | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for r in results:
        for endpoint, values in r["ms"].items():
            print(f"| {r['workers']} | {endpoint} | {len(values)} | {pct(values, 50):.1f} | {pct(values, 95):.1f} |")
    by = {r["workers"]: r["lifecycles"] / r["wall"] for r in results}
    if 1 in by and 2 in by and by[1]:
        print(f"\nscaling 1 → 2 workers: ×{by[2] / by[1]:.2f}")
    for r in results:
        for e in r["errors"][:5]:
            print(f"error with {r['workers']} workers: {e}")


if __name__ == "__main__":
    main()
