"""What the JSON API adds to the service layer: the same full lifecycle of ncc_mai_tang (receive + every task)
called directly (engine.cases, as bench.engine does) and through /api/v1 in-process (Flask test client: bearer
token check, request validation, the answer's JSON, the access log; no network), interleaved one case of each
at a time so that a change in the machine's load hits both alike.

    python -m bench.api [--filler 10000] [--runs 150] [--backends sqlite,postgresql]

Prints per backend: cases/s each way, the ratio API/service in wall time and in this process's CPU time (on a
shared machine CPU time moves less with the neighbours' load), and the API's own cost per request. Target:
ratio ≤ 1.5. Not part of the test suite."""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench.engine import PROCEDURE, add_filler, api_lifecycle, fresh_database, lifecycle


def measure(backend: str, filler: int, runs: int) -> dict:
    database = fresh_database(backend, "motcua_bench_api")
    try:
        add_filler(database, filler)
        api_one = api_lifecycle(database)
        for _ in range(5):  # warm caches (spec parse, statement cache, each user's snapshot)
            lifecycle(database, [], [])
            api_one()
        receive_ms: list[float] = []
        complete_ms: list[float] = []
        api_wall = api_cpu = service_cpu = 0.0
        for _ in range(runs):
            c0 = time.process_time()
            lifecycle(database, receive_ms, complete_ms)
            service_cpu += time.process_time() - c0
            t0, c0 = time.perf_counter(), time.process_time()
            api_one()
            api_wall += time.perf_counter() - t0
            api_cpu += time.process_time() - c0
        service_wall = (sum(receive_ms) + sum(complete_ms)) / 1000  # the harness's own look-ups left out
        requests = len(receive_ms) + len(complete_ms)
        return {"backend": backend, "runs": runs, "steps": len(complete_ms) // runs,
                "service": runs / service_wall, "api": runs / api_wall, "ratio": api_wall / service_wall,
                "cpu_ratio": api_cpu / service_cpu, "per_request_ms": (api_wall - service_wall) / requests * 1000,
                "load": os.getloadavg()[0]}
    finally:
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filler", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    # The access log line of every request is still formatted and written (its cost is the API's), to nowhere:
    # web.jsonlog writes to whatever sys.stderr is.
    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115
    try:
        rows = [measure(b, args.filler, args.runs) for b in args.backends.split(",") if b]
    finally:
        sys.stderr.close()
        sys.stderr = stderr
    print(f"\nFull lifecycle of {PROCEDURE} (receive + every task), service layer vs JSON API in-process, "
          f"{args.filler:,} cases pre-loaded\n")
    print("| backend | runs | tasks/case | service cases/s | API cases/s | API/service (wall) | API/service (CPU) "
          "| API's own ms/request | load average |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {r['runs']} | {r['steps']} | {r['service']:.1f} | {r['api']:.1f} "
              f"| ×{r['ratio']:.2f} | ×{r['cpu_ratio']:.2f} | {r['per_request_ms']:.2f} | {r['load']:.1f} |")
    for r in rows:
        print(f"api {r['backend']}: the lifecycle through the API costs ×{r['ratio']:.2f} the service layer's "
              f"(CPU ×{r['cpu_ratio']:.2f}; target ≤ ×1.5)")


if __name__ == "__main__":
    main()
