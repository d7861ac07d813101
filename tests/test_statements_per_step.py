"""A step costs a bounded number of SQL statements: receiving a case and completing each of its steps send
no more statements than the bounds below, counted at the driver (bench/sql_count.py), on SQLite and
PostgreSQL — so a query per step creeping back into the hot path fails here rather than in production.
The organisation, the calendar and the partners are read once and then only when they change: a second
case costs no more than the first, and a new unit is routed to at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bench.sql_count import counting, run_lifecycle
from engine.calendar import VN_TZ
from engine.db import Database
from engine.models import Case
from tests.conftest import World

# Measured: SQLite 9 per reception and 8 per completion (with the bell's notices: who may do the next step
# comes from the reference cache; the step, its case and the case's open steps are locked and read in one
# statement). PostgreSQL 5 and 2 (3 for the last, which asks for result documents): no BEGIN IMMEDIATE, and
# the case, the step, the next step, the step output, its events and the bell's notices in one statement
# (engine.step_writes). Was 18 and 15 before perf13.
MAX_RECEIVE = {"sqlite": 9, "postgresql": 5}
MAX_COMPLETE = {"sqlite": 8, "postgresql": 2}
MAX_LAST = {"sqlite": 7, "postgresql": 3}


def test_a_case_costs_a_bounded_number_of_statements_per_step(db: Database) -> None:
    run_lifecycle(db)  # the first case reads the reference data and the process version into the caches
    life = run_lifecycle(db)
    assert len(life.completions) == 6
    backend = db.engine.dialect.name
    assert len(life.receive) <= MAX_RECEIVE[backend], life.receive
    for stmts in life.completions[:-1]:
        assert len(stmts) <= MAX_COMPLETE[backend], stmts
    assert len(life.completions[-1]) <= MAX_LAST[backend], life.completions[-1]
    # Every completion records its audit and projection: task_completed event, step output, work items; each
    # one opening a step tells its people (the bell).
    for stmts in life.completions:
        text = " ".join(stmts)
        assert "INSERT INTO events" in text and "INSERT INTO step_outputs" in text
        assert "UPDATE cases" in text and "UPDATE work_items" in text
    for stmts in life.completions[:-1]:
        assert "INSERT INTO notifications" in " ".join(stmts)


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


def test_who_is_told_of_a_step_follows_people_and_delegations_changed_by_any_path(db: Database, world: World) -> None:
    """Who may do a step is cached per process with the reference data: a holder of the role given it with
    plain SQL on another connection, and a deputy named that way, are told of the very next step; a holder
    made inactive the same way is not told any more."""
    from engine.models import Notification, User

    def bell(username: str) -> int:
        with db.transaction() as s:
            uid = s.scalar(select(User.id).where(User.username == username))
            return len(list(s.scalars(select(Notification.id).where(Notification.user_id == uid,
                                                                    Notification.kind == "new_work"))))

    world.receive()  # the cache now holds who works at XA_A1 as specialist
    assert bell("xa_a1_head") == 0 and bell("xa_a1_specialist") == 1
    today = datetime.now(VN_TZ).date()
    with db.engine.begin() as conn:
        ids = dict(conn.execute(text("SELECT username, id FROM users WHERE username IN "
                                     "('xa_a1_head', 'xa_a1_specialist', 'xa_a1_clerk')")).all())
        conn.execute(text("INSERT INTO delegations (delegator_id, deputy_id, unit_id, starts, until, procedures, "
                          "created_by_id, created_at) SELECT :a, :d, unit_id, :s, :u, '[]', :a, :now FROM users "
                          "WHERE id = :a"), {"a": ids["xa_a1_specialist"], "d": ids["xa_a1_head"], "s": today,
                                             "u": today + timedelta(days=2), "now": datetime.now(VN_TZ)})
        conn.execute(text("INSERT INTO user_roles (user_id, role_code) VALUES (:u, 'specialist')"),
                     {"u": ids["xa_a1_clerk"]})
    world.receive()
    assert bell("xa_a1_head") == 1  # the deputy named with plain SQL
    assert bell("xa_a1_clerk") == 1  # the role given with plain SQL
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET active = :f WHERE id = :u"), {"f": False, "u": ids["xa_a1_specialist"]})
    world.receive()
    assert bell("xa_a1_specialist") == 2  # inactive now: not told of the third case
    assert bell("xa_a1_clerk") == 2


def test_procedure_and_agency_code_changed_by_any_path_are_used_at_once(db: Database, world: World) -> None:
    """A procedure's name and a unit's re-issued agency code are cached per process too: renamed and re-issued
    with plain SQL on another connection, the next reception's case code, search column and bell use them."""
    from engine.models import Notification

    world.receive()  # cached now
    today = datetime.now(VN_TZ).date()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE procedures SET name = 'Trợ cấp mai táng (tên mới)' WHERE code = 'ncc_mai_tang'"))
        conn.execute(text("INSERT INTO agency_codes (unit_id, code, valid_from) SELECT id, 'H99.1', :d FROM units "
                          "WHERE code = 'XA_A1'"), {"d": today})
    code = world.receive()
    assert code.startswith("H99.1"), code
    with db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert "ten moi" in case.search_text
        messages = list(s.scalars(select(Notification.message).where(Notification.case_id == case.id)))
    assert messages and all("(tên mới)" in m for m in messages), messages


def test_a_rolled_back_role_is_seen_by_its_own_transaction_only(db: Database, world: World) -> None:
    """A role given in a transaction (not yet flushed) counts for who may do a step in that transaction, even
    with the answer cached before; when that transaction rolls back, the cache does not keep it."""
    from engine import reference, work_notices
    from engine.models import Unit, UserRole

    world.receive()  # who works at XA_A1 as specialist is cached now

    def specialists(s: Session, unit_id: int) -> set[int]:
        return {t.user_id for t in work_notices.who_may_do(s, unit_id, ["specialist"], "ncc_mai_tang")}

    class Undo(Exception):
        pass

    try:
        with db.transaction() as s:
            clerk, unit_id = world.user(s, "xa_a1_clerk"), s.scalar(select(Unit.id).where(Unit.code == "XA_A1"))
            reference.snapshot(s)
            s.add(UserRole(user_id=clerk.id, role_code="specialist"))  # pending: the next query flushes it
            assert clerk.id in specialists(s, unit_id)
            raise Undo
    except Undo:
        pass
    with db.transaction() as s:
        assert world.user(s, "xa_a1_clerk").id not in specialists(s, unit_id)
