"""Lists cost a fixed number of SQL statements, however many rows they show: the procedures API, the desk's
online dossiers and the inbox (with its claimed-by column) each run as many statements for 20 rows as for 1.
Statements are counted at the driver with SQLAlchemy's before_cursor_execute, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, update

from engine import cases, catalog, deploy, public
from engine.db import Database
from engine.models import Procedure, User, UserRole
from tests.conftest import World
from tests.helpers import Browser, text

DIAGRAM = (Path(__file__).parent / "diagrams" / "two_lanes.bpmn").read_bytes()
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@contextmanager
def counting(database: Database) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def statements(database: Database, request: Callable[[], Any]) -> list[str]:
    request()  # warm caches that are per process, not per row (calendar, version infos)
    with counting(database) as seen:
        request()
    return seen


def test_procedures_api_does_not_query_per_procedure(db: Database, api: Any) -> None:
    with db.transaction() as s:
        s.execute(update(Procedure).values(active=False))
        pv = deploy.deploy(s, DIAGRAM, "two_lanes.bpmn", forms=catalog.load_forms(), procedure_code="p00")
        deploy.deploy(s, DIAGRAM, "two_lanes.bpmn", forms=catalog.load_forms(), procedure_code="p00")
        assert pv.version == 1

    def listing() -> Any:
        resp = api.get("/api/v1/procedures", user="xa_a1_clerk")
        assert resp.status_code == 200
        return resp.get_json()

    one = statements(db, listing)
    assert [(p["code"], p["version"]) for p in listing()] == [("p00", 2)]
    with db.transaction() as s:
        for i in range(1, 20):
            deploy.deploy(s, DIAGRAM, "two_lanes.bpmn", forms=catalog.load_forms(), procedure_code=f"p{i:02}")
    many = statements(db, listing)
    assert len(listing()) == 20 and listing()[-1] == {**listing()[-1], "code": "p19", "version": 1}
    assert len(many) == len(one), (len(one), len(many))


def test_inbox_with_claimed_by_column_does_not_query_per_row(db: Database, world: World, tmp_path: Path) -> None:
    codes = [world.receive()]
    _item, unit, role = world.open_item(codes[0])
    viewer = f"{unit.lower()}_{role}"
    web = Browser(db, tmp_path)
    web.login(viewer)
    claimed: set[str] = set()

    def claim_all() -> None:
        """Each new case's step is claimed by a different colleague, as in a busy office."""
        todo = {code: world.open_item(code)[0] for code in codes if code not in claimed}
        with db.transaction() as s:
            unit_id = world.user(s, viewer).unit_id
            for code, item_id in todo.items():
                n = len(claimed)
                colleague = User(username=f"claimer{n:02}", full_name=f"Chuyên viên Số {n:02}", password_hash="-",
                                 unit_id=unit_id, role_links=[UserRole(role_code=role)])
                s.add(colleague)
                s.flush()
                cases.claim(s, colleague, item_id)
                claimed.add(code)

    def inbox() -> str:
        resp = web.get("/inbox")
        assert resp.status_code == 200
        return text(resp)

    claim_all()
    one = statements(db, inbox)
    codes += [world.receive() for _ in range(19)]
    claim_all()
    many = statements(db, inbox)
    html = inbox()
    assert all(code in html for code in codes)
    assert html.count("Chuyên viên Số") == 20  # every row names who claimed it
    # The ~6 KB workflow state of each case stays in the database: the inbox never needs it.
    assert not [st for st in many if re.search(r"\bcases(_\d+)?\.state\b", st)], many
    assert len(many) == len(one), (len(one), len(many))


def test_online_desk_does_not_query_per_dossier(db: Database, world: World, tmp_path: Path) -> None:
    def submit(n: int) -> None:
        with db.transaction() as s:
            for i in range(n):
                public.submit_online(s, "ho_tro_mai_tang", "XA_A1", {"name": f"Người nộp {i}", "phone": "0905123456"},
                                     {}, [public.Upload("to_khai", "to-khai.pdf", io.BytesIO(PDF)),
                                          public.Upload("giay_chung_tu", "chung-tu.pdf", io.BytesIO(PDF)),
                                          public.Upload(None, "them.pdf", io.BytesIO(PDF))],
                                     tmp_path / "docs", 1 << 20)

    web = Browser(db, tmp_path)
    web.login("xa_a1_clerk")

    def desk() -> str:
        resp = web.get("/reception/online")
        assert resp.status_code == 200
        return text(resp)

    submit(1)
    one = statements(db, desk)
    submit(19)
    many = statements(db, desk)
    html = desk()
    assert html.count("to-khai.pdf, chung-tu.pdf, them.pdf") == 20  # each dossier lists its own documents
    assert len(many) == len(one), (len(one), len(many))
