"""The sweep: reminds the assignee one working day before a step is due, marks overdue steps, tells the
unit's head, and does each of these once — a second sweep at the same moment does nothing."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from engine import cases, notifications, scheduler
from engine.deploy import deploy
from engine.models import Case, Event, Notification, User, WorkItem
from tests.conftest import World, at, utc
from web.cli import main

TWO_LANES = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_bytes()


def _setup(world: World, n: int = 1) -> list[str]:
    with world.db.transaction() as s:
        deploy(s, TWO_LANES, "two_lanes.bpmn", forms={}, procedure_code="two_lanes")
    # Friday 06/03 09:00: the commune's review is due Tuesday 10/03 17:00, reminder Monday 09/03 17:00.
    return [world.receive("xa_a1_clerk", procedure="two_lanes", received_at=at("2026-03-06 09:00"),
                          now=at("2026-03-06 09:00")) for _ in range(n)]


def _inbox(world: World, username: str) -> list[tuple[str, str]]:
    with world.db.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        # Early warnings (tests/test_early_warning.py) and new-step announcements (tests/test_work_notifications.py)
        # are not this file's subject.
        return [(n.kind, n.message) for n in notifications.latest(s, user, limit=50)
                if n.kind not in ("early_warning", "new_work")]


def _events(world: World, kind: str) -> int:
    with world.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.kind == kind))


def test_reminder_then_overdue_then_escalation_each_once(world: World) -> None:
    [code] = _setup(world)
    assert scheduler.sweep(world.db, at("2026-03-09 16:59")).idle

    first = scheduler.sweep(world.db, at("2026-03-09 17:01"))
    assert first.reminded == [(code, "Xã xem xét")] and first.overdue == []
    [(kind, text)] = _inbox(world, "xa_a1_specialist")
    assert kind == "reminder" and code in text and "17:00 10/03/2026" in text
    assert _inbox(world, "xa_a1_head") == []
    assert scheduler.sweep(world.db, at("2026-03-09 17:01")).idle
    assert scheduler.sweep(world.db, at("2026-03-10 16:00")).idle  # not due yet

    due = scheduler.sweep(world.db, at("2026-03-10 17:00:02"))
    assert due.overdue == [(code, "Xã xem xét")] and due.escalated == 1
    assert [k for k, _t in _inbox(world, "xa_a1_specialist")] == ["overdue", "reminder"]
    [(kind, text)] = _inbox(world, "xa_a1_head")
    assert kind == "escalated" and code in text and "UBND xã An Phú" in text
    assert _inbox(world, "xa_a2_head") == [] and _inbox(world, "huyen_a_head") == []
    with world.db.transaction() as s:
        item = s.scalar(select(WorkItem).where(WorkItem.state == "open"))
        assert item.overdue_marked_at == utc(at("2026-03-10 17:00:02")) and item.remind_at is None

    for moment in ("2026-03-10 17:00:02", "2026-03-11 09:00", "2026-04-30 09:00"):
        assert scheduler.sweep(world.db, at(moment)).idle
    assert (_events(world, "reminder"), _events(world, "overdue"), _events(world, "escalated")) == (1, 1, 1)

    # The late step is still the specialist's; finishing it records it as late.
    world.complete_next(code, now=at("2026-03-11 08:00"))
    with world.db.transaction() as s:
        review = s.scalar(select(WorkItem).where(WorkItem.task_bpmn_id == "review"))
        assert review.timing == "late"


def test_a_claimed_step_reminds_only_its_claimant(world: World) -> None:
    [code] = _setup(world)
    with world.db.transaction() as s:
        # A second specialist at the commune, who has not claimed the step.
        from engine import org

        org.add_user(s, "xa_a1_specialist2", "XA_A1", ["specialist"], "motcua2026-x")
    item_id, _u, _r = world.open_item(code)
    with world.db.transaction() as s:
        cases.claim(s, world.user(s, "xa_a1_specialist"), item_id, now=at("2026-03-06 10:00"))
    scheduler.sweep(world.db, at("2026-03-09 17:30"))
    assert [k for k, _t in _inbox(world, "xa_a1_specialist")] == ["reminder"]
    assert _inbox(world, "xa_a1_specialist2") == []


def test_a_step_done_before_its_reminder_is_left_alone(world: World) -> None:
    [code] = _setup(world)
    world.complete_next(code, now=at("2026-03-09 10:00"))
    report = scheduler.sweep(world.db, at("2026-03-09 17:30"))
    assert report.reminded == [] and report.overdue == []
    assert _inbox(world, "xa_a1_specialist") == []


def test_batches_cover_every_due_item_and_the_session_form_works(world: World) -> None:
    codes = _setup(world, 5)
    report = scheduler.sweep(world.db, at("2026-03-11 09:00"), batch=2)
    assert sorted(c for c, _s in report.overdue) == sorted(codes)
    assert report.escalated == 5
    with world.db.transaction() as s:
        assert scheduler.sweep(s, at("2026-03-11 09:00")).idle
    with world.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "overdue")) == 5


def test_tick_prints_what_the_sweep_did(world: World) -> None:
    [code] = _setup(world)
    env = {"MOTCUA_DATABASE_URL": world.db.url}
    out = CliRunner().invoke(main, ["tick", "--now", "2026-03-10T17:30:00+07:00"], env=env)
    assert out.exit_code == 0, out.output
    assert f"overdue: {code} — Xã xem xét" in out.output
    assert "1 overdue, 1 escalated" in out.output
    out = CliRunner().invoke(main, ["tick", "--now", "2026-03-10T17:30:00+07:00"], env=env)
    assert "0 timer(s), 0 reminder(s), 0 overdue" in out.output
    bad = CliRunner().invoke(main, ["tick", "--now", "tomorrow"], env=env)
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.status_code == 2  # the sweep never moves the case itself


def test_the_bell_shows_unread_notifications_and_marks_them_read(world: World, tmp_path: Path) -> None:
    from tests.helpers import Browser

    [code] = _setup(world)
    scheduler.sweep(world.db, at("2026-03-10 17:30"))  # overdue → the specialist; escalated → the head
    web = Browser(world.db, tmp_path)
    web.login("xa_a1_head")
    html = web.get("/inbox").get_data(as_text=True)
    assert 'id="bell-count">1<' in html and code in html and "quá hạn" in html
    with world.db.transaction() as s:
        note = s.scalar(select(Notification).where(Notification.kind == "escalated"))
    opened = web.post(f"/notifications/{note.id}/read", {"open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/cases/{code}")
    assert 'id="bell-count"' not in web.get("/inbox").get_data(as_text=True)
    listing = web.get("/notifications").get_data(as_text=True)
    assert "Đôn đốc" in listing and code in listing
    # Someone else's notification: not found, and it stays unread.
    with world.db.transaction() as s:
        other = s.scalar(select(Notification).where(Notification.kind == "overdue"))
    assert web.post(f"/notifications/{other.id}/read").status_code == 404
    with world.db.transaction() as s:
        assert s.get(Notification, other.id).read_at is None
    web.login("xa_a1_specialist")
    assert web.post("/notifications/read-all", follow_redirects=True).status_code == 200
    assert 'id="bell-count"' not in web.get("/inbox").get_data(as_text=True)
