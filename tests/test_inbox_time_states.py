"""The inbox sorts an official's work by time left: overdue, due within one working day, in time — the
counts and the filters use the same thresholds, so clicking "Quá hạn (1)" shows exactly one row."""

from __future__ import annotations

from pathlib import Path

from engine import cases
from tests.conftest import World, at
from tests.helpers import Browser

NOW = at("2026-03-16 09:00")  # a Monday


def codes(world: World, state: str | None) -> list[str]:
    with world.db.transaction() as s:
        page = cases.inbox(s, world.user(s, "xa_a1_specialist"), time_state=state, now=NOW)
        return [i.case.code for i in page.items]


def test_filters_and_counts_agree(world: World) -> None:
    late = world.receive(received_at=at("2026-03-02 09:00"), now=NOW)     # step due Thu 05/03 17:00
    soon = world.receive(received_at=at("2026-03-11 09:00"), now=NOW)     # step due Mon 16/03 17:00
    fresh = world.receive(received_at=at("2026-03-16 08:00"), now=NOW)    # step due Thu 19/03 17:00
    assert codes(world, "overdue") == [late]
    assert codes(world, "due_soon") == [soon]
    assert codes(world, "in_time") == [fresh]
    assert codes(world, None) == [late, soon, fresh]
    with world.db.transaction() as s:
        counts = cases.inbox_counts(s, world.user(s, "xa_a1_specialist"), now=NOW)
    assert counts == {"overdue": 1, "due_soon": 1, "in_time": 1, "waiting": 0, "total": 3}


def test_inbox_page_filters_by_time_state(world: World, tmp_path: Path) -> None:
    code = world.receive()
    web = Browser(world.db, tmp_path)
    web.login("xa_a1_specialist")
    assert f'data-case="{code}"' in web.get("/inbox?state=in_time").get_data(as_text=True)
    overdue = web.get("/inbox?state=overdue").get_data(as_text=True)
    # The bell announces the new step; the inbox table has no row of it.
    assert f'data-case="{code}"' not in overdue and 'aria-current="true"' in overdue
    assert f'data-case="{code}"' in web.get("/inbox?state=bogus").get_data(as_text=True)  # unknown: everything
