"""A step costs a bounded number of SQL statements: receiving a case and completing each of its steps send
no more statements than the bounds below, counted at the driver (bench/sql_count.py), on SQLite and
PostgreSQL — so a query per step creeping back into the hot path fails here rather than in production.
The organisation, the calendar and the partners are read once and then only when they change: a second
case costs no more than the first, and a new unit is routed to at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, text

from bench.sql_count import counting, run_lifecycle
from engine.calendar import VN_TZ
from engine.db import Database
from engine.models import Case
from tests.conftest import World

# Measured: SQLite 18 per reception (with the search column's procedure name and the dossier checks merged
# in), 14–15 per completion; PostgreSQL one fewer (no BEGIN IMMEDIATE).
MAX_RECEIVE = 18
MAX_COMPLETE = 15  # with the bell: who may do the next step, and their notices


def test_a_case_costs_a_bounded_number_of_statements_per_step(db: Database) -> None:
    run_lifecycle(db)  # the first case reads the reference data and the process version into the caches
    life = run_lifecycle(db)
    assert len(life.completions) == 6
    assert len(life.receive) <= MAX_RECEIVE, life.receive
    for stmts in life.completions:
        assert len(stmts) <= MAX_COMPLETE, stmts
    # Every completion records its audit and projection: task_completed event, step output, work items.
    for stmts in life.completions:
        text = " ".join(stmts)
        assert "INSERT INTO events" in text and "INSERT INTO step_outputs" in text
        assert "UPDATE cases" in text and "UPDATE work_items" in text


def test_reference_data_is_read_again_once_it_changes_by_any_path(db: Database, world: World) -> None:
    run_lifecycle(db)
    with counting(db.engine) as seen:
        run_lifecycle(db)
    assert not any("FROM units" in s or "FROM calendar_overrides" in s for s in seen)  # cached, not per step
    with db.transaction() as s:
        first = s.scalar(select(Case).where(Case.code == world.receive())).due_at
    # Ten days off from today, written with plain SQL on another connection (as another process or an
    # operator would): the trigger changes the token, so the next reception's appointment moves at once.
    today = datetime.now(VN_TZ).date()
    with db.engine.begin() as conn:
        for i in range(10):
            conn.execute(text("INSERT INTO calendar_overrides (day, working) VALUES (:d, :w)"),
                         {"d": today + timedelta(days=i), "w": False})
    with db.transaction() as s:
        later = s.scalar(select(Case).where(Case.code == world.receive())).due_at
    assert later.astimezone(VN_TZ).date() >= first.astimezone(VN_TZ).date() + timedelta(days=7)
