"""The /reports page's "Tổng cộng" row is the sum of its table (the page does not scan the cases a second time
for it) and equals the one-query summary the API gives, for every grouping and for a narrower scope — on the
month of tests/test_reports_figures.py's scenario, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from engine import reports
from tests.conftest import World
from tests.test_pages_officials import Browser, text
from tests.test_reports_figures import EXPECTED_ALL, PERIOD, build_scenario

COUNTS = list(reports.FIGURES)


def _total_row(html: str) -> dict[str, int]:
    """The figures of the page's total row, as shown (a linked number or a plain 0)."""
    foot = html[html.index('id="report-total"'):]
    foot = foot[:foot.index("</tr>")]
    cells = re.findall(r'data-figure="(\w+)">(?:<a [^>]*>)?([^<]*)', foot)
    return {k: int(v) for k, v in cells if k in COUNTS}


def _body_rows(html: str) -> list[list[int]]:
    """The table's rows per group: the figure columns in the order of reports.FIGURES."""
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r'<td class="num">(?:<a [^>]*>)?([^<]*)', tr)
        rows.append([int(v) for v in cells[:len(COUNTS)]])
    return rows


def test_total_row_is_the_sum_of_the_table_and_the_summary(world: World, api: Any, tmp_path: Path) -> None:
    build_scenario(world, tmp_path)
    web = Browser(world.db, tmp_path)
    web.login("tinh_leader")
    expected = {k: v for k, v in EXPECTED_ALL.items() if k in COUNTS}
    for group in reports.GROUPS:
        resp = web.get(f"/reports?{PERIOD}&group={group}")
        assert resp.status_code == 200
        html = text(resp)
        total, rows = _total_row(html), _body_rows(html)
        assert total == expected, group
        assert [sum(col) for col in zip(*rows, strict=True)] == [total[k] for k in COUNTS], group
    api_summary = api.get(f"/api/v1/reports/summary?{PERIOD}", "tinh_leader").get_json()
    assert {k: api_summary[k] for k in COUNTS} == expected


def test_engine_total_equals_summary_in_every_scope(world: World, tmp_path: Path) -> None:
    build_scenario(world, tmp_path)
    with world.db.transaction() as s:
        for username in ("admin", "huyen_a_head", "huyen_b_head", "xa_a1_head"):
            f = reports.filters_for(s, world.user(s, username), "2025-03-01", "2025-03-31")
            summary = reports.summary(s, f)
            for group in reports.GROUPS:
                assert reports.total(reports.table(s, f, group)) == summary, (username, group)
        whole = reports.filters_for(s, world.user(s, "admin"), "2025-03-01", "2025-03-31")
        assert reports.total(reports.table(s, whole, "unit"))["on_time_rate"] == EXPECTED_ALL["on_time_rate"]
