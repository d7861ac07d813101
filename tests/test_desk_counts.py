"""The one-stop desk sees what waits for it, counted: online dossiers waiting for acceptance and results to
return to applicants — on the reception page and as badges in the navigation. The counters are a list, so a
new kind of waiting work (supplements received) is one more entry."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from engine import desk_counts, public
from tests.conftest import World

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _online(world: World, tmp_path: Path, unit: str, name: str) -> str:
    with world.db.transaction() as s:
        case = public.submit_online(s, "ho_tro_mai_tang", unit, {"name": name, "phone": "0912000111"}, {},
                                    [public.Upload("to_khai", "to-khai.pdf", io.BytesIO(PDF)),
                                     public.Upload("giay_chung_tu", "chung-tu.pdf", io.BytesIO(PDF))],
                                    tmp_path / "docs", 10_000_000)
        return case.code


def _to_the_desk(world: World, code: str) -> int:
    """Process the case up the levels until its result waits at the receiving desk; the return step's id."""
    while True:
        item_id, unit, role = world.open_item(code)
        if (unit, role) == ("XA_A1", "clerk"):
            return item_id
        world.complete_next(code)


def _counts(world: World, username: str) -> dict[str, int]:
    with world.db.transaction() as s:
        return desk_counts.desk_counts(s, world.user(s, username))


def _login(client: Any, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": username, "password": "motcua2026",
                                       "csrf_token": token}).status_code == 302


def _shown(html: str, element_id: str) -> str | None:
    found = re.search(rf'id="{element_id}"[^>]*>\s*(\d+)\s*<', html)
    return found.group(1) if found else None


def test_online_dossiers_waiting_are_counted_for_their_own_desk(world: World, tmp_path: Path) -> None:
    first = _online(world, tmp_path, "XA_A2", "Đỗ Thị Mai")
    _online(world, tmp_path, "XA_A2", "Hoàng Văn Nam")
    _online(world, tmp_path, "XA_A1", "Lý Thị Thu")
    assert _counts(world, "xa_a2_clerk")["online_waiting"] == 2
    assert _counts(world, "xa_a1_clerk")["online_waiting"] == 1
    with world.db.transaction() as s:
        public.accept_online(s, world.user(s, "xa_a2_clerk"), first)
    assert _counts(world, "xa_a2_clerk")["online_waiting"] == 1
    assert _counts(world, "xa_a2_specialist") == {}  # no desk, nothing counted


def test_results_to_return_are_counted_until_returned(world: World) -> None:
    codes = [world.receive(), world.receive()]
    assert _counts(world, "xa_a1_clerk")["results_to_return"] == 0  # received, still being processed
    returns = [_to_the_desk(world, c) for c in codes]
    assert _counts(world, "xa_a1_clerk")["results_to_return"] == 2
    assert _counts(world, "xa_a2_clerk")["results_to_return"] == 0
    world.complete("xa_a1_clerk", returns[0], {"outcome": "approve"})
    assert _counts(world, "xa_a1_clerk")["results_to_return"] == 1


def test_the_reception_page_and_the_navigation_show_the_counts(world: World, api: Any, tmp_path: Path) -> None:
    _online(world, tmp_path, "XA_A1", "Lý Thị Thu")
    _online(world, tmp_path, "XA_A1", "Trịnh Văn Quang")
    _to_the_desk(world, world.receive())
    _login(api.client, "xa_a1_clerk")
    html = api.client.get("/reception").get_data(as_text=True)
    assert _shown(html, "desk-count-online_waiting") == "2"
    assert _shown(html, "desk-count-results_to_return") == "1"
    assert "Hồ sơ trực tuyến chờ tiếp nhận" in html and "Kết quả chờ trả cho người nộp" in html
    assert _shown(html, "nav-count-public-online_inbox") == "2"
    assert _shown(html, "nav-count-desk-reception") == "1"
    # Any page carries the badges in its navigation.
    assert _shown(api.client.get("/inbox").get_data(as_text=True), "nav-count-public-online_inbox") == "2"


def test_a_new_counter_is_one_more_entry_in_the_list(world: World, tmp_path: Path) -> None:
    _online(world, tmp_path, "XA_A1", "Lý Thị Thu")
    counters = [*desk_counts.COUNTERS, desk_counts.Counter("supplements_received", lambda s, user: 3)]
    with world.db.transaction() as s:
        got = desk_counts.desk_counts(s, world.user(s, "xa_a1_clerk"), counters)
    assert got == {"online_waiting": 1, "results_to_return": 0, "supplements_received": 3}
