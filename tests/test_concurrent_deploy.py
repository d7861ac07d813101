"""Two designers deploy the same procedure at the same moment: never a 500. PostgreSQL lets both read the same
latest version, so one wins and the other gets a 409 naming the version that won and who deployed it;
SQLite serialises the two requests, so both land as consecutive versions. Real threads, real databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from engine import org
from engine.db import Database
from engine.models import Procedure, ProcessDraft, ProcessVersion
from tests.helpers import Browser

DIAGRAM = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_text(encoding="utf-8")
XML = {"Content-Type": "application/xml"}


@contextmanager
def meet_before(database: Database, prefix: str) -> Iterator[None]:
    """On PostgreSQL, hold each of two threads just before its first statement starting with `prefix` until
    both got there: both have read the same state, so exactly one write can win. (SQLite's BEGIN IMMEDIATE
    keeps the second request out of the database altogether; there is no such moment to meet at.)"""
    if database.is_sqlite:
        yield
        return
    barrier, held = threading.Barrier(2), threading.local()

    def hold(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(prefix) and not getattr(held, "done", False):
            held.done = True
            barrier.wait(timeout=30)

    event.listen(database.engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        event.remove(database.engine, "before_cursor_execute", hold)


def _second_designer(database: Database) -> None:
    with database.transaction() as s:
        org.add_user(s, "designer2", "TINH", ["designer"], password="motcua2026", full_name="Trần Thị Thiết Kế")


def _deploy_both(api: Any, code: str) -> list[Any]:
    tokens = {u: api.token(u) for u in ("designer", "designer2")}

    def deploy(user: str) -> Any:
        body = DIAGRAM.replace('name="Thủ tục thử hai cấp"', f'name="Bản của {user}"')
        client = api.app.test_client()
        return client.post(f"/api/v1/processes?procedure={code}", data=body.encode("utf-8"),
                           headers={**XML, "Authorization": f"Bearer {tokens[user]}"})

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(deploy, ("designer", "designer2")))


def _versions(database: Database, code: str) -> list[int]:
    with database.transaction() as s:
        return list(s.scalars(select(ProcessVersion.version).join(Procedure)
                              .where(Procedure.code == code).order_by(ProcessVersion.version)))


def _check(database: Database, responses: list[Any], code: str, first: int) -> None:
    statuses = sorted(r.status_code for r in responses)
    assert 500 not in statuses, [r.get_json() for r in responses]
    if database.is_sqlite:
        assert statuses == [201, 201]
        assert sorted(r.get_json()["version"] for r in responses) == [first, first + 1]
        assert _versions(database, code)[-2:] == [first, first + 1]
        return
    assert statuses == [201, 409], [r.get_json() for r in responses]
    won = next(r.get_json() for r in responses if r.status_code == 201)
    lost = next(r.get_json() for r in responses if r.status_code == 409)
    assert won["version"] == first
    assert lost["error"] == "conflict"
    assert lost["details"]["version"] == first
    winner = "designer" if responses[0].status_code == 201 else "designer2"
    assert lost["details"]["deployed_by"] == winner
    assert f"phiên bản {first}" in lost["message"]
    assert ("Thiết kế quy trình" if winner == "designer" else "Trần Thị Thiết Kế") in lost["message"]
    assert _versions(database, code)[-1] == first  # nothing half-stored for the loser


def test_concurrent_deploys_of_a_deployed_procedure(db: Database, api: Any) -> None:
    _second_designer(db)
    first = api.post("/api/v1/processes?procedure=race", "designer", data=DIAGRAM.encode(), headers=XML)
    assert first.status_code == 201 and first.get_json()["version"] == 1
    with meet_before(db, "INSERT INTO PROCESS_VERSIONS"):
        responses = _deploy_both(api, "race")
    _check(db, responses, "race", 2)


def test_concurrent_first_deploys_of_a_new_procedure(db: Database, api: Any) -> None:
    _second_designer(db)
    with meet_before(db, "INSERT INTO PROCEDURES"):
        responses = _deploy_both(api, "race_new")
    _check(db, responses, "race_new", 1)
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Procedure).where(Procedure.code == "race_new")) == 1


def test_concurrent_deploys_from_the_designer_page(db: Database, tmp_path: Path) -> None:
    """The editor saves the draft then deploys it; the second designer is told the draft was just deployed."""
    _second_designer(db)
    pages = []
    for user in ("designer", "designer2"):
        page = Browser(db, tmp_path / user)
        assert page.login(user).status_code == 302
        page.get("/designer/race_page")
        pages.append(page)
    with db.transaction() as s:  # a draft both designers have open
        s.add(ProcessDraft(procedure_code="race_page", bpmn_xml=DIAGRAM, forms={}))

    def deploy(i: int) -> Any:
        body = DIAGRAM.replace('name="Thủ tục thử hai cấp"', f'name="Bản {i}"')
        return pages[i].client.post("/designer/race_page/deploy", json={"bpmn": body, "forms": {}},
                                    headers={"X-CSRFToken": pages[i].token})

    with meet_before(db, "UPDATE PROCESS_DRAFTS"), ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(deploy, (0, 1)))
    statuses = sorted(r.status_code for r in responses)
    assert 500 not in statuses, [r.get_data(as_text=True)[:500] for r in responses]
    if db.is_sqlite:
        assert statuses == [200, 200] and _versions(db, "race_page") == [1, 2]
        return
    assert statuses == [200, 409], [r.get_json() for r in responses]
    lost = next(r.get_json() for r in responses if r.status_code == 409)
    assert "vừa được" in lost["message"] and "phiên bản 1" in lost["message"], lost
    assert _versions(db, "race_page") == [1]
