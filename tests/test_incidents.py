"""A case stuck because its next step's level has no unit on its path is listed for the administrator (API,
page, `motcua cases stuck`); once the unit is added, a retry (API, page or `motcua case retry`) routes the step
and the work item appears — on SQLite and PostgreSQL. Nobody but an administrator sees or retries incidents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.deploy import deploy
from engine.models import Case, Level, WorkItem
from tests.conftest import World, at
from tests.helpers import csrf_token, login
from web.cli import main

TWO_LANES = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_bytes()
# The second step is done at the village (thôn) level, below the commune that receives the case.
VILLAGE_STEP = TWO_LANES.replace(b'value="district"', b'value="village"')


@pytest.fixture
def stuck(world: World) -> str:
    """A case whose second step is at a level with no unit under XA_A1 yet: its code."""
    with world.db.transaction() as s:
        s.add(Level(code="village", name="Cấp thôn", rank=4))
        s.flush()
        deploy(s, VILLAGE_STEP, "xac_minh_thon.bpmn", forms={}, procedure_code="xac_minh_thon")
    code = world.receive("xa_a1_clerk", procedure="xac_minh_thon", received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"))
    world.complete_next(code, {"outcome": "approve"}, now=at("2026-03-06 10:00"))
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.error and not s.scalars(select(WorkItem).where(WorkItem.case_id == case.id,
                                                                   WorkItem.state == "open")).all()
    return code


def _cli(world: World, tmp_path: Path, *args: str) -> Any:
    env = {"MOTCUA_DATABASE_URL": world.db.url, "MOTCUA_INSTANCE_PATH": str(tmp_path / "instance")}
    return CliRunner().invoke(main, list(args), env=env)


def test_stuck_case_listed_fixed_and_retried_through_the_api(world: World, api: Any, stuck: str,
                                                             tmp_path: Path) -> None:
    listed = api.get("/api/v1/incidents", "admin").get_json()["items"]
    [incident] = [i for i in listed if i["code"] == stuck]
    assert incident["kind"] == "routing" and incident["open_steps"] == 0
    assert "Cấp thôn".lower() in incident["error"] and "motcua org add" in incident["error"]
    # Retrying before the fix says what is still wrong, and changes nothing.
    early = api.post(f"/api/v1/cases/{stuck}/retry", "admin")
    assert early.status_code == 409 and "cấp thôn" in early.get_json()["message"]
    # The fix: the village unit is added under the commune.
    added = _cli(world, tmp_path, "org", "add", "THON_1", "--name", "Thôn Đông", "--level", "village",
                 "--parent", "XA_A1")
    assert added.exit_code == 0, added.output
    resp = api.post(f"/api/v1/cases/{stuck}/retry", "admin")
    assert resp.status_code == 200, resp.get_json()
    [task] = resp.get_json()["new_tasks"]
    assert (task["unit"], task["role"], task["name"]) == ("THON_1", "specialist", "Huyện thẩm định")
    assert resp.get_json()["case"]["error"] is None
    assert [i["code"] for i in api.get("/api/v1/incidents", "admin").get_json()["items"]] == []
    again = api.post(f"/api/v1/cases/{stuck}/retry", "admin")
    assert again.status_code == 409
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == stuck))
        assert [w.unit.code for w in s.scalars(select(WorkItem).where(WorkItem.case_id == case.id,
                                                                      WorkItem.state == "open"))] == ["THON_1"]


def test_only_administrators_see_and_retry_incidents(api: Any, stuck: str) -> None:
    for user in ("xa_a1_clerk", "xa_a1_head", "designer"):
        assert api.get("/api/v1/incidents", user).status_code == 403, user
        assert api.post(f"/api/v1/cases/{stuck}/retry", user).status_code == 403, user
    assert api.post("/api/v1/cases/KHONG-CO/retry", "admin").status_code == 404


def test_the_command_line_lists_and_retries(world: World, stuck: str, tmp_path: Path) -> None:
    out = _cli(world, tmp_path, "cases", "stuck")
    assert out.exit_code == 0 and stuck in out.output and "1 stuck case(s)" in out.output
    failed = _cli(world, tmp_path, "case", "retry", stuck)
    assert failed.exit_code != 0 and "cấp thôn" in failed.output
    assert _cli(world, tmp_path, "org", "add", "THON_1", "--name", "Thôn Đông", "--level", "village",
                "--parent", "XA_A1").exit_code == 0
    done = _cli(world, tmp_path, "case", "retry", stuck)
    assert done.exit_code == 0, done.output
    assert "Huyện thẩm định → THON_1 (specialist)" in done.output
    assert "0 stuck case(s)" in _cli(world, tmp_path, "cases", "stuck").output


def test_the_admin_page_lists_and_retries(world: World, api: Any, stuck: str, tmp_path: Path) -> None:
    client = api.client
    login(client, "admin")
    page = client.get("/admin/incidents").get_data(as_text=True)
    assert f'data-code="{stuck}"' in page and "Xử lý lại" in page
    assert _cli(world, tmp_path, "org", "add", "THON_1", "--name", "Thôn Đông", "--level", "village",
                "--parent", "XA_A1").exit_code == 0
    resp = client.post(f"/admin/incidents/{stuck}/retry", data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Thôn Đông" in html and 'id="no-incidents"' in html


def test_a_failed_timer_is_fired_again_on_retry(world: World, api: Any) -> None:
    """The scheduler recorded a timer failure (e.g. the database went away mid-sweep) and would retry in five
    minutes; the administrator retries now and the timer's step appears at once."""
    from engine import scheduler
    from tests.bpmn import deploy_test_diagram

    proc = deploy_test_diagram(world.db, "timer_escalation")
    code = world.receive("xa_a1_clerk", procedure=proc, received_at=at("2026-03-06 09:00"),
                         now=at("2026-03-06 09:00"))
    with world.db.transaction() as s:  # what scheduler._fire_timers writes when a timer raises
        case = s.scalar(select(Case).where(Case.code == code))
        case.error, case.next_timer_at = "timer: database connection lost", at("2026-03-09 17:05")
    [incident] = api.get("/api/v1/incidents", "admin").get_json()["items"]
    assert (incident["code"], incident["kind"]) == (code, "script")
    resp = api.post(f"/api/v1/cases/{code}/retry", "admin")
    assert resp.status_code == 200, resp.get_json()
    assert [(t["name"], t["role"]) for t in resp.get_json()["new_tasks"]] == [("Lãnh đạo đôn đốc xử lý", "head")]
    assert scheduler.sweep(world.db, at("2026-03-09 17:10")).timers == []  # fired once, not again
