"""Early warning, on SQLite and PostgreSQL: when a step has used 50 % and then 80 % of its WORKING time, the
sweep puts one warning each in the bell of whoever holds it, and the inbox marks the row; the shares are a
setting (MOTCUA_EARLY_WARNING)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from engine import early_warning
from engine.models import Notification, User, WorkItem
from engine.scheduler import sweep
from tests.conftest import at
from tests.test_pages_officials import web  # noqa: F401, F811 — the pages client fixture


def warnings_of(db, username: str) -> list[str]:
    with db.transaction() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        return [n.message for n in s.scalars(select(Notification).where(
            Notification.user_id == uid, Notification.kind == "early_warning").order_by(Notification.id))]


def test_fifty_then_eighty_per_cent_reach_the_bell_once_each(api, world, db) -> None:
    # Received Monday 07:30; the first step is due Thursday 17:00: 32 working hours (8 a day).
    code = world.receive(received_at=at("2026-11-02 07:30"))
    item_id, _unit, _role = world.open_item(code)
    api.post(f"/api/v1/tasks/{item_id}/claim", user="xa_a1_specialist")
    with db.transaction() as s:
        due = s.get(WorkItem, item_id).due_at
    assert due == at("2026-11-05 17:00")
    sweep(db, now=at("2026-11-03 11:00"))  # 11.5 of 32 working hours: under half
    assert warnings_of(db, "xa_a1_specialist") == []
    sweep(db, now=at("2026-11-04 08:00"))  # 16.5 h: past 50 % (wall-clock: 48.5 of 81.5 hours)
    sweep(db, now=at("2026-11-04 09:00"))
    assert len(warnings_of(db, "xa_a1_specialist")) == 1 and "50 %" in warnings_of(db, "xa_a1_specialist")[0]
    sweep(db, now=at("2026-11-05 10:00"))  # 26.5 h: past 80 %
    got = warnings_of(db, "xa_a1_specialist")
    assert len(got) == 2 and "80 %" in got[1] and code in got[1]
    assert warnings_of(db, "xa_a1_leader") == []


def test_an_unclaimed_step_warns_everyone_of_its_unit_and_role(world, db) -> None:
    world.receive(received_at=at("2026-11-02 07:30"))
    sweep(db, now=at("2026-11-04 09:00"))
    assert len(warnings_of(db, "xa_a1_specialist")) == 1  # 17.5 h of 32: the 50 % warning only


def test_thresholds_are_a_setting(monkeypatch) -> None:
    monkeypatch.setenv("MOTCUA_EARLY_WARNING", "30, 60,90")
    assert early_warning.thresholds() == (30, 60, 90)
    assert early_warning.level(65.0) == 60 and early_warning.level(100.0) is None
    monkeypatch.setenv("MOTCUA_EARLY_WARNING", "abc")
    assert early_warning.thresholds() == (50, 80)


def test_the_inbox_marks_the_rows_past_a_threshold(web, world, db) -> None:  # noqa: F811
    from engine.models import utcnow

    first, second = world.receive(), world.receive()
    with db.transaction() as s:
        item = s.get(WorkItem, world.open_item(first)[0])
        item.created_at, item.due_at = utcnow() - timedelta(days=14), utcnow() + timedelta(days=1)
    web.login("xa_a1_specialist")
    page = web.get("/inbox").get_data(as_text=True)
    row = re.search(rf'<tr class="([^"]*)"[^>]*data-case="{first}"', page)
    assert row and "row-warn-80" in row.group(1)
    assert "Đã dùng 80 % thời gian" in page
    other = re.search(rf'<tr class="([^"]*)"[^>]*data-case="{second}"', page)
    assert other and "row-warn" not in other.group(1)
