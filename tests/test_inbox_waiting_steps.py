"""Steps waiting for the applicant (a supplement request) in the inbox: shown as "Chờ bổ sung" (not green "Trong
hạn" with no deadline), counted apart, and listed after every timed step on every page, with a page cursor
that neither loses nor repeats a step on SQLite and PostgreSQL, through the engine, the JSON API and the page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from engine import cases
from engine.models import Case, UserRole, WorkItem
from tests.conftest import World, at

TIMED, WAITING = 5, 2


def _desk_of_one(world: World) -> list[str]:
    """A small commune where the clerk also reviews: 7 dossiers in review, 2 of them sent back for a
    supplement (their waiting step returns to the clerk with no deadline)."""
    with world.db.transaction() as s:
        clerk = world.user(s, "xa_a1_clerk")
        s.add(UserRole(user_id=clerk.id, role_code="specialist"))
    codes = [world.receive(procedure="ho_tro_mai_tang", received_at=at(f"2026-03-{2 + i:02d} 09:00"))
             for i in range(TIMED + WAITING)]
    for code in codes[:WAITING]:
        item_id, _unit, _role = world.open_item(code)
        world.complete("xa_a1_clerk", item_id, {"outcome": "supplement", "giay_to_can_bo_sung": "Giấy chứng tử"},
                       now=at("2026-03-10 10:00"))
    return codes


def _pages(world: World, limit: int, **kw: Any) -> list[list[WorkItem]]:
    pages, after = [], None
    with world.db.transaction() as s:
        user = world.user(s, "xa_a1_clerk")
        for _ in range(20):
            page = cases.inbox(s, user, after=after, limit=limit, **kw)
            pages.append(page.items)
            if page.next is None:
                break
            after = page.next
    return pages


def test_waiting_steps_come_after_every_timed_step_on_every_page(world: World) -> None:
    codes = _desk_of_one(world)
    for limit in (2, 3, TIMED, TIMED + WAITING):
        pages = _pages(world, limit)
        items = [i for p in pages for i in p]
        assert len(items) == len({i.id for i in items}) == TIMED + WAITING, limit  # none lost, none twice
        assert all(len(p) <= limit for p in pages)
        dues = [i.due_at for i in items]
        timed = [d for d in dues if d is not None]
        assert dues[:TIMED] == sorted(timed) and len(timed) == TIMED, limit  # timed first, by due date
        assert all(d is None for d in dues[TIMED:]), limit  # then the waiting ones
        waiting = {i.case.code for i in items[TIMED:]}
        assert waiting == set(codes[:WAITING])
    assert len(_pages(world, 2)) == 4  # 2 + 2 + (1 timed, 1 waiting) + 1 waiting


def test_waiting_steps_are_their_own_time_state(world: World) -> None:
    codes = _desk_of_one(world)
    now = at("2026-03-10 11:00")
    with world.db.transaction() as s:
        user = world.user(s, "xa_a1_clerk")
        counts = cases.inbox_counts(s, user, now=now)
        waiting = cases.inbox(s, user, time_state="waiting", now=now).items
        in_time = cases.inbox(s, user, time_state="in_time", now=now).items
        states = {cases.time_state(i.due_at, now, now) for i in waiting}
    assert counts["waiting"] == WAITING and counts["total"] == TIMED + WAITING
    assert counts["overdue"] + counts["due_soon"] + counts["in_time"] == TIMED
    assert {i.case.code for i in waiting} == set(codes[:WAITING]) and states == {"waiting"}
    assert not any(i.due_at is None for i in in_time)


def test_the_api_cursor_walks_past_the_waiting_steps(world: World, api: Any) -> None:
    _desk_of_one(world)
    seen, after = [], None
    for _ in range(10):
        query = f"limit=3&after={quote(after)}" if after else "limit=3"
        body = api.get(f"/api/v1/tasks?{query}", "xa_a1_clerk").get_json()
        seen += [(t["id"], t["due_at"]) for t in body["items"]]
        after = body["next"]
        if not after:
            break
    assert len(seen) == len({i for i, _ in seen}) == TIMED + WAITING
    assert [d is None for _, d in seen] == [False] * TIMED + [True] * WAITING
    # A cursor that is neither kind is a 422 naming it.
    bad = api.get("/api/v1/tasks?after=yesterday|x", "xa_a1_clerk")
    assert bad.status_code == 422 and "after" in bad.get_json()["details"]


def test_the_inbox_page_says_cho_bo_sung(world: World, api: Any) -> None:
    from tests.test_pages_officials import Browser

    codes = _desk_of_one(world)
    web = Browser(world.db, api.app.config["MOTCUA"].instance_path.parent)
    web.login("xa_a1_clerk")
    html = web.get("/inbox").get_data(as_text=True)
    assert re.search(r'id="count-waiting">2<', html)
    with world.db.transaction() as s:
        ids = {s.scalar(select(WorkItem.id).join(Case).where(Case.code == c, WorkItem.state == "open"))
               for c in codes[:WAITING]}
    for item_id in ids:
        row = re.search(rf'<tr class="row-waiting" data-item="{item_id}".*?</td>', html, re.S)
        assert row and '<span class="pill pill-waiting">Chờ bổ sung</span>' in row.group(0)
        assert "Trong hạn" not in row.group(0)
    rows = re.findall(r'<tr class="row-(\w+)[^"]*" data-item', html)
    assert rows[-WAITING:] == ["waiting"] * WAITING and "waiting" not in rows[:-WAITING]
