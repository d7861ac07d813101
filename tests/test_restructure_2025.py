"""The 2025 reform on the demo province, end to end (both backends): open cases at every step of every shipped
procedure, some paused for a supplement, one with a running timer; `motcua demo restructure-2025` applies the
shipped plan, deploys ncc_mai_tang v2 (xã → tỉnh) and moves its open cases; then nothing is lost, every step
sits with someone who can do it, history reads true, the yearly figures stay, and every case can finish."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from click.testing import CliRunner
from sqlalchemy import func, select

from engine import cases, control_slip, demo_restructure, reports, scheduler
from engine.db import Database
from engine.models import Case, Event, Unit, User, UserRole, WorkItem
from tests.bpmn import deploy_test_diagram
from tests.conftest import World, at

PROCEDURES = ("ncc_mai_tang", "tro_cap_xa_hoi", "ho_tro_mai_tang")
BEFORE = at("2025-06-16 09:00")  # the cases were received and worked on before 1 July 2025
APPLY_AT = at("2025-06-30 20:00")


def actor(s, unit_id: int, role: str) -> User:  # noqa: ANN001
    """Someone at the unit holding the role (the test fails when nobody does)."""
    user = s.scalar(select(User).join(UserRole).where(User.unit_id == unit_id, UserRole.role_code == role,
                                                      User.active.is_(True)).order_by(User.id).limit(1))
    assert user is not None, (unit_id, role)
    return user


def step(db: Database, code: str, data: dict, now: datetime) -> bool:
    """Complete the case's first open step as whoever holds it; False when nothing is open."""
    with db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        items = cases.open_items(s, case)
        if not items:
            return False
        item = items[0]
        cases.complete_task(s, actor(s, item.unit_id, item.role_code), item.id, data, now=now)
        return True


def build_province(world: World) -> dict[str, list[str]]:
    """Open cases at every step of every shipped procedure, received at both districts' communes."""
    made: dict[str, list[str]] = {}
    for proc in PROCEDURES:
        for depth in range(7):
            desk = "xa_a1_clerk" if depth % 2 == 0 else "xa_b2_clerk"
            code = world.receive(desk, procedure=proc, received_at=BEFORE)
            done = 0
            while done < depth and step(world.db, code, {"outcome": "approve"}, BEFORE):
                done += 1
            made.setdefault(proc, []).append(code)
        paused = world.receive("xa_a2_clerk", procedure=proc, received_at=BEFORE)
        step(world.db, paused, {"outcome": "supplement"}, BEFORE)
        made.setdefault("paused", []).append(paused)
    timer_proc = deploy_test_diagram(world.db, "timer_escalation")
    made["timer"] = [world.receive("xa_a1_clerk", procedure=timer_proc, received_at=at("2025-06-27 09:00"))]
    return made


def open_steps(db: Database) -> Counter:
    with db.transaction() as s:
        rows = s.execute(select(Case.code, WorkItem.task_bpmn_id).join(Case, Case.id == WorkItem.case_id)
                         .where(WorkItem.state == "open")).all()
    return Counter(rows)


def yearly(db: Database) -> tuple[dict, dict]:
    with db.transaction() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        f = reports.filters_for(s, admin, "2025-01-01", "2025-12-31", now=at("2025-12-31 12:00"))
        total = reports.summary(s, f)
        rows = reports.table(s, f, "unit")
        per_unit = {k: sum(r.figures[k] for r in rows) for k in reports.FIGURES}
        return total, per_unit


def test_the_2025_reform_moves_every_open_case_and_keeps_history(world: World) -> None:
    made = build_province(world)
    before = open_steps(world.db)
    assert sum(before.values()) >= 20
    with world.db.transaction() as s:  # the cases with a step at a unit the reform retires
        at_old_units = set(s.scalars(select(Case.code).join(WorkItem, WorkItem.case_id == Case.id)
                                     .join(Unit, Unit.id == WorkItem.unit_id)
                                     .where(WorkItem.state == "open", Unit.code != "TINH")))
    paused = made["paused"]
    with world.db.transaction() as s:
        assert all(s.scalar(select(Case.status_code).where(Case.code == c)) == 5 for c in paused)
        assert s.scalar(select(Case.next_timer_at).where(Case.code == made["timer"][0])) is not None
    totals_before = yearly(world.db)

    preview = demo_restructure.run(world.db, dry_run=True)
    assert preview.applied is None and preview.preview["ok"], preview.preview["problems"]
    assert open_steps(world.db) == before  # a dry run changes nothing

    result = demo_restructure.run(world.db, now=APPLY_AT)
    assert result.applied.cases_moved > 0 and result.version == 2
    assert result.migration["blocked"] == 0 and result.migration["movable"] > 0

    # Nothing lost or duplicated: the same steps are open, the district's appraisal now the province's review.
    after = open_steps(world.db)
    renamed = Counter()
    ncc_open = set(made["ncc_mai_tang"]) | {paused[0]}
    for (code, step_id), n in before.items():
        mapped = demo_restructure.MAPPING.get(step_id, step_id) if code in ncc_open else step_id
        renamed[(code, mapped)] += n
    assert after == renamed

    with world.db.transaction() as s:
        # Every open step at an active unit where someone holds its role.
        for item in s.scalars(select(WorkItem).where(WorkItem.state == "open")):
            assert item.unit.active, (item.case.code, item.name, item.unit.code)
            actor(s, item.unit_id, item.role_code)
        # Every moved case has its events; ncc cases their migration.
        for code in {c for c, _ in before}:
            case = s.scalar(select(Case).where(Case.code == code))
            kinds = Counter(s.scalars(select(Event.kind).where(Event.case_id == case.id)))
            moved = s.scalar(select(func.count()).select_from(Event).where(
                Event.case_id == case.id, Event.kind == "handover",
                Event.data["reason"].as_string() == "sắp xếp đơn vị hành chính"))
            if code in at_old_units:
                assert kinds["org_restructured"] == 1 and moved >= 1, (code, kinds)
            else:
                assert kinds["org_restructured"] == 0 and moved == 0, (code, kinds)
            if case.procedure.code == "ncc_mai_tang":
                assert kinds["migrated"] == 1
            assert case.code == code and case.due_at is not None
        # Mẫu 05 of a case moved from xã An Phú: the old names before the reform, the new after.
        slip = _slip(s, made["ncc_mai_tang"][0])
        assert "UBND xã An Phú" in slip and "UBND xã An Hòa" in slip and "sắp xếp đơn vị hành chính" in slip
        assert "Sở Lao động – Thương binh và Xã hội tỉnh Sông Hồng" in _slip(s, made["ncc_mai_tang"][4])
        # History is kept: old units inactive, not deleted, and found by their old codes.
        old = s.scalar(select(Unit).where(Unit.code == "HUYEN_A"))
        assert old is not None and not old.active

    assert yearly(world.db) == totals_before

    # A second run changes nothing.
    events = _count_events(world.db)
    again = demo_restructure.run(world.db, now=APPLY_AT)
    assert again.applied.already_applied and again.migration["movable"] == 0
    assert _count_events(world.db) == events and open_steps(world.db) == after

    # The running timer still fires after the reform, and its escalation goes to the merged commune's head.
    scheduler.sweep(world.db, at("2025-07-01 17:30"))
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == made["timer"][0]))
        units = {(i.task_bpmn_id, i.unit.code) for i in cases.open_items(s, case)}
        assert ("urge", "XA_AN_HOA") in units

    # Every case can be completed to the end by the people who now hold its steps.
    later = at("2025-07-02 09:00")
    for code in {c for c, _ in after}:
        for _ in range(20):
            if not step(world.db, code, {"outcome": "approve"}, later):
                break
        with world.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.code == code))
            assert not cases.open_items(s, case), code
            assert case.status_code in (9, 10), (code, case.status_code)
    with world.db.transaction() as s:  # the province's steps done after the reform carry its new name
        slip = _slip(s, made["ncc_mai_tang"][4])
        assert "Sở Lao động – Thương binh và Xã hội tỉnh Sông Hồng" in slip and "Sở Nội vụ tỉnh Sông Hồng" in slip


def _slip(s, code: str) -> str:  # noqa: ANN001
    case = s.scalar(select(Case).where(Case.code == code))
    return " | ".join(f"{r.giver} → {r.receiver}: {r.note}" for r in control_slip.control_rows(s, case))


def _count_events(db: Database) -> int:
    with db.transaction() as s:
        return s.scalar(select(func.count()).select_from(Event))


def test_demo_command_previews_then_applies(db: Database, monkeypatch) -> None:  # noqa: ANN001
    from web.cli import main

    monkeypatch.setenv("MOTCUA_DATABASE_URL", db.url)
    runner = CliRunner()
    dry = runner.invoke(main, ["demo", "restructure-2025", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "XA_A1: ngừng hoạt động → XA_AN_HOA" in dry.output
    with db.transaction() as s:
        assert s.scalar(select(Unit.active).where(Unit.code == "XA_A1")) is True
    done = runner.invoke(main, ["demo", "restructure-2025"])
    assert done.exit_code == 0, done.output
    assert "ncc_mai_tang phiên bản 2" in done.output
    with db.transaction() as s:
        assert s.scalar(select(Unit.active).where(Unit.code == "XA_A1")) is False
        assert s.scalar(select(Unit.name).where(Unit.code == "TINH")) == "Sở Nội vụ tỉnh Sông Hồng"
