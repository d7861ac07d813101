"""Time limits seen in the browser: an admin declares a day off on the calendar page, and an official whose
step went overdue finds it in the bell, opens the case from there, and the bell quiets down."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import cases
from engine.calendar import VN_TZ
from engine.deadlines import calendar_for
from engine.models import User, utcnow
from engine.scheduler import sweep


def test_admin_declares_a_day_off(page, live_server, login, shot) -> None:  # noqa: ANN001
    with live_server.db.transaction() as s:
        day = calendar_for(s).next_working_day((utcnow() + timedelta(days=20)).astimezone(VN_TZ).date())
    login("admin")
    page.goto(f"{live_server.url}/admin/calendar?year={day.year}")
    page.fill("#ov-day", day.isoformat())
    page.check("input[name=kind][value=off]")
    page.fill("#ov-note", "Nghỉ bù theo thông báo của UBND tỉnh")
    page.click("form button[type=submit]:has-text('Lưu')")
    page.wait_for_load_state()
    text = page.inner_text("main")
    assert day.strftime("%d/%m/%Y") in text and "Nghỉ bù theo thông báo của UBND tỉnh" in text
    shot(page, "calendar-admin")
    with live_server.db.transaction() as s:
        assert not calendar_for(s).is_working_day(day)


def test_overdue_step_rings_the_bell_and_opens_the_case(page, live_server, login, shot) -> None:  # noqa: ANN001
    now = utcnow()
    with live_server.db.transaction() as s:
        clerk = s.scalar(select(User).where(User.username == "xa_a1_clerk"))
        case = cases.receive(s, clerk, "ncc_mai_tang", {"name": "Lê Văn Cường"}, {},
                             received_at=now - timedelta(days=30), now=now - timedelta(days=30))
        code = case.code
    report = sweep(live_server.db, now=now)
    assert code in {c for c, _step in report.overdue}
    login("xa_a1_specialist")
    page.goto(f"{live_server.url}/inbox")
    before = int(page.inner_text("#bell-count"))
    assert before >= 1
    page.click("#bell summary")
    item = page.locator("#bell .bell-item", has_text=code).first
    assert item.is_visible()
    # Readable: the dropdown sits inside the red header, whose white text must not leak into the white card.
    assert item.evaluate("e => getComputedStyle(e).color") != "rgb(255, 255, 255)"
    shot(page, "bell")
    item.click()
    page.wait_for_url(f"**/cases/{code}")
    remaining = page.locator("#bell-count")
    assert (int(remaining.inner_text()) if remaining.count() else 0) == before - 1
