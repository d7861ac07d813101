"""The counts above the inbox stop counting at a limit ("999+" in production): exact while small, "N+" past the
limit, and the total too — so a page view never counts an official's twenty thousand steps. The limit is
lowered here (the engine's `limit`, the app's INBOX_COUNT_LIMIT) instead of receiving a thousand dossiers;
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import time_machine

from engine import cases
from engine import inbox as inbox_rules
from tests.conftest import World, at
from tests.helpers import Browser

NOW = at("2026-03-16 09:00")  # a Monday
VIEWER = "xa_a1_specialist"


def _three_late_one_fresh(world: World) -> list[str]:
    late = [world.receive(received_at=at(f"2026-03-0{d} 09:00"), now=NOW) for d in (2, 3, 4)]  # due 05–09/03
    return [*late, world.receive(received_at=at("2026-03-16 08:00"), now=NOW)]  # due Thu 19/03: in time


def test_counts_are_exact_up_to_the_limit_and_bounded_past_it(world: World) -> None:
    _three_late_one_fresh(world)
    with world.db.transaction() as s:
        user = world.user(s, VIEWER)
        exact = cases.inbox_counts(s, user, now=NOW)
        bounded = cases.inbox_counts(s, user, now=NOW, limit=2)
    assert exact == {"overdue": 3, "due_soon": 0, "in_time": 1, "waiting": 0, "total": 4}
    # Past the limit a count reads limit + 1 ("more than 2"); the ones below it stay exact.
    assert bounded == {"overdue": 3, "due_soon": 0, "in_time": 1, "waiting": 0, "total": 3}
    assert [inbox_rules.count_label(n, 2) for n in bounded.values()] == ["2+", "0", "1", "0", "2+"]
    assert inbox_rules.count_label(999) == "999" and inbox_rules.count_label(1000) == "999+"


def _shown(html: str) -> dict[str, str]:
    return dict(re.findall(r'id="count-(\w+)">([^<]*)<', html))


def test_the_inbox_shows_n_plus_past_the_limit_and_every_row_behind_it(world: World, tmp_path: Path) -> None:
    codes = _three_late_one_fresh(world)
    web = Browser(world.db, tmp_path)
    with time_machine.travel(NOW, tick=False):
        web.login(VIEWER)
        exact = _shown(web.get("/inbox").get_data(as_text=True))
        web.app.config["INBOX_COUNT_LIMIT"] = 2
        page = web.get("/inbox").get_data(as_text=True)
        overdue = web.get("/inbox?state=overdue").get_data(as_text=True)
    assert exact == {"overdue": "3", "due_soon": "0", "in_time": "1", "waiting": "0", "total": "4"}
    assert _shown(page) == {"overdue": "2+", "due_soon": "0", "in_time": "1", "waiting": "0", "total": "2+"}
    # "2+ Quá hạn" leads to every overdue step, not to two of them.
    assert [c for c in codes if f'data-case="{c}"' in overdue] == codes[:3]
