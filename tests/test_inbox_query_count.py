"""The inbox costs the same number of SQL statements for a full page of fifty steps as for one — with rows
claimed by different colleagues, rows past their early-warning threshold and the header's counts — in the
page (/inbox) and in the API (/api/v1/tasks); and it never reads a case's workflow state or form data.
Statements are counted at the driver (before_cursor_execute), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import time_machine

from engine import cases
from engine.db import Database
from engine.models import User, UserRole, utcnow
from tests.conftest import World
from tests.test_pages_officials import Browser, text
from tests.test_query_counts import statements

VIEWER = "xa_a1_specialist"  # the first step of ncc_mai_tang is the commune specialist's


def _receive(world: World, n: int) -> list[str]:
    return [world.receive() for _ in range(n)]


def _claim_every_other(db: Database, world: World, codes: list[str]) -> None:
    """Half the steps are claimed, each by a different colleague of the viewer's unit."""
    items = [world.open_item(code)[0] for code in codes[::2]]
    with db.transaction() as s:
        unit_id = world.user(s, VIEWER).unit_id
        for n, (code, item_id) in enumerate(zip(codes[::2], items, strict=True)):
            colleague = User(username=f"dong_nghiep_{code[-4:]}_{n}", full_name=f"Chuyên viên {n:02}",
                             password_hash="-", unit_id=unit_id, role_links=[UserRole(role_code="specialist")])
            s.add(colleague)
            s.flush()
            cases.claim(s, colleague, item_id)


def _workflow_columns(seen: list[str]) -> list[str]:
    """Statements reading a case's workflow state or its form data (neither is shown in an inbox)."""
    return [st for st in seen if re.search(r"\bcases(_\d+)?\.(state|data)\b", st)]


def test_inbox_page_costs_as_many_statements_for_fifty_rows_as_for_one(db: Database, world: World,
                                                                        tmp_path: Path) -> None:
    first = _receive(world, 1)
    _claim_every_other(db, world, first)
    web = Browser(db, tmp_path)
    web.login(VIEWER)
    # Two thirds of each step's working time used: every row in time carries the early-warning mark.
    later = utcnow() + timedelta(days=2)

    def page() -> str:
        with time_machine.travel(later, tick=False):
            resp = web.get("/inbox")
        assert resp.status_code == 200
        return text(resp)

    one = statements(db, page)
    assert page().count("data-item=") == 1
    rest = _receive(world, 59)
    _claim_every_other(db, world, rest)
    full = statements(db, page)
    html = page()
    assert html.count("data-item=") == 50 and 'rel="next"' in html  # a full page, and a next one
    assert html.count("Chuyên viên ") >= 25  # claimed rows name who claimed them
    assert 'id="count-total">60<' in html  # the header counts every open step, not just the page
    assert 'data-warn="' in html
    # At most one more: the steps waiting for the applicant are a second range read only when the timed ones
    # do not fill the page; a look-up per row would add dozens.
    assert abs(len(full) - len(one)) <= 1, (len(one), len(full))
    assert not _workflow_columns(full), _workflow_columns(full)


def test_inbox_api_costs_as_many_statements_for_fifty_tasks_as_for_one(db: Database, world: World,
                                                                       api: Any) -> None:
    def tasks() -> dict:
        resp = api.get("/api/v1/tasks?limit=50", VIEWER)
        assert resp.status_code == 200
        return resp.get_json()

    _claim_every_other(db, world, _receive(world, 1))
    one = statements(db, tasks)
    _claim_every_other(db, world, _receive(world, 59))
    full = statements(db, tasks)
    page = tasks()
    assert len(page["items"]) == 50 and page["next"]
    assert sum(1 for t in page["items"] if t["claimed_by"]) >= 25
    assert {t["procedure"] for t in page["items"]} == {"ncc_mai_tang"}
    # At most one more: the steps waiting for the applicant are a second range read only when the timed ones
    # do not fill the page; a look-up per row would add dozens.
    assert abs(len(full) - len(one)) <= 1, (len(one), len(full))
    assert not _workflow_columns(full), _workflow_columns(full)
