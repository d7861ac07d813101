"""Exactly one scheduler is active: two `motcua scheduler` processes on the same PostgreSQL share the work
through the lease row — nothing fires twice — and when the active one is killed the other takes over
within a lease period."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.db import Database
from engine.models import Case, Event, SchedulerLease, utcnow
from tests.bpmn import deploy_test_diagram
from tests.conftest import World

LEASE_SECONDS = 3.0
SWEEP_SECONDS = 0.5
MOTCUA = str(Path(sys.executable).parent / "motcua")


def _start(db: Database, tmp_path: Path, name: str) -> subprocess.Popen:
    env = {**os.environ, "MOTCUA_DATABASE_URL": db.url, "MOTCUA_INSTANCE_PATH": str(tmp_path / name),
           "MOTCUA_SWEEP_SECONDS": str(SWEEP_SECONDS), "MOTCUA_LEASE_SECONDS": str(LEASE_SECONDS)}
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 — closed with the process
    return subprocess.Popen([MOTCUA, "scheduler", "--holder", name], env=env, stdout=log, stderr=log)


@pytest.fixture
def pg(db: Database) -> Database:
    """The lease is about several scheduler processes sharing one PostgreSQL (the test runs only there)."""
    assert not db.is_sqlite
    return db


@pytest.fixture
def procs() -> Iterator[dict[str, subprocess.Popen]]:
    running: dict[str, subprocess.Popen] = {}
    yield running
    for p in running.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def _receive_late(world: World, proc: str, n: int) -> list[str]:
    """Cases received three weeks ago: their timer and their first step are both due now."""
    past = utcnow() - timedelta(days=21)
    return [world.receive("xa_a1_clerk", procedure=proc, received_at=past) for _ in range(n)]


def _counts(db: Database, codes: list[str]) -> dict[str, dict[str, int]]:
    with db.transaction() as s:
        rows = s.execute(select(Case.code, Event.kind, func.count()).join(Case, Case.id == Event.case_id)
                         .where(Case.code.in_(codes), Event.kind.in_(("timer", "overdue", "escalated")))
                         .group_by(Case.code, Event.kind)).all()
    out: dict[str, dict[str, int]] = {c: {} for c in codes}
    for code, kind, n in rows:
        out[code][kind] = n
    return out


def _wait_done(db: Database, codes: list[str], timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        counts = _counts(db, codes)
        if all(c.get("timer") and c.get("overdue") for c in counts.values()):
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"not all cases were swept within {timeout} s: {_counts(db, codes)}")


def _holder(db: Database) -> str:
    with db.transaction() as s:
        return s.scalar(select(SchedulerLease.holder).where(SchedulerLease.name == "sweeper"))


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_two_schedulers_one_active_and_takeover(pg: Database, world: World, tmp_path: Path,
                                                procs: dict[str, subprocess.Popen]) -> None:
    proc = deploy_test_diagram(pg, "timer_escalation")
    procs["A"] = _start(pg, tmp_path, "A")
    procs["B"] = _start(pg, tmp_path, "B")
    first = _receive_late(world, proc, 10)
    _wait_done(pg, first, 60)
    more = _receive_late(world, proc, 10)  # while both run
    _wait_done(pg, more, 30)
    time.sleep(3 * SWEEP_SECONDS)  # a few more sweeps by both: still nothing twice
    once = {"timer": 1, "overdue": 1, "escalated": 1}
    assert all(c == once for c in _counts(pg, first + more).values()), _counts(pg, first + more)

    active = _holder(pg)
    assert active in ("A", "B")
    standby = "B" if active == "A" else "A"
    procs[active].kill()  # no clean shutdown: the lease must expire
    procs[active].wait(10)
    after_kill = _receive_late(world, proc, 5)
    took = _wait_done(pg, after_kill, 60)
    # Loosely: the lease period, one sweep interval and the standby's start-up slack.
    print(f"standby {standby} took over and swept in {took:.1f} s (lease {LEASE_SECONDS} s)")
    assert took <= LEASE_SECONDS + SWEEP_SECONDS + 5, took
    assert _holder(pg) == standby
    assert all(c == once for c in _counts(pg, first + more + after_kill).values())
    assert procs[standby].poll() is None
    log = (tmp_path / f"{standby}.log").read_text()
    assert "holds the lease" in log
