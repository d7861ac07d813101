"""Officials find a case by its code, the applicant's name or ID number — typed with or without diacritics
("tran thi" finds "Trần Thị", "dang van duc" finds "Đặng Văn Đức", "mai tang" finds "mai táng") — in the case
search and in the inbox, and still only among the cases of their own path. The search runs on an index on
both backends (a trigram GIN index on PostgreSQL, shown by EXPLAIN on a table of 30 000 cases)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from engine import cases, search
from engine.folding import case_search_text, fold
from engine.models import Case, Procedure, Unit
from tests.conftest import World

HOA = {"name": "Trần Thị Hoa", "id_number": "036190007788", "phone": "0912000111"}
DUC = {"name": "Đặng Văn Đức", "id_number": "036185002233", "phone": "0912000222"}
AN = {"name": "Nguyễn Văn An", "id_number": "036090001234", "phone": "0912000333"}
LAN = {"name": "Trần Thị Lan", "id_number": "036192004455", "phone": "0912000444"}  # received at another commune


@pytest.fixture
def received(world: World) -> dict[str, str]:
    return {"hoa": world.receive(applicant=HOA), "duc": world.receive(applicant=DUC, procedure="ho_tro_mai_tang"),
            "an": world.receive(applicant=AN, procedure="tro_cap_xa_hoi"),
            "lan": world.receive("xa_a2_clerk", applicant=LAN)}


def _login(client: Any, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": username, "password": "motcua2026",
                                       "csrf_token": token}).status_code == 302


def _found(world: World, username: str, q: str) -> set[str]:
    with world.db.transaction() as s:
        return {c.code for c in search.find_cases(s, world.user(s, username), q)}


def test_folding_drops_diacritics_and_d_bar() -> None:
    assert fold("  Trần   THỊ Đào ") == "tran thi dao"
    assert fold("Hỗ trợ chi phí mai táng") == "ho tro chi phi mai tang"
    assert fold("Nguyễn Ánh Dương, Đắk Lắk") == "nguyen anh duong, dak lak"


def test_case_search_finds_names_with_or_without_diacritics(world: World, received: dict[str, str]) -> None:
    hoa, duc, an = received["hoa"], received["duc"], received["an"]
    assert _found(world, "xa_a1_clerk", "tran thi") == {hoa}
    assert _found(world, "xa_a1_clerk", "Trần Thị") == {hoa}
    assert _found(world, "xa_a1_clerk", "TRAN THI HOA") == {hoa}
    assert _found(world, "xa_a1_clerk", "hoa tran") == {hoa}  # every word, in any order
    assert _found(world, "xa_a1_clerk", "dang van duc") == {duc}  # đ → d
    assert _found(world, "xa_a1_clerk", "036185002233") == {duc}  # ID number
    assert _found(world, "xa_a1_clerk", an[-9:].lower()) == {an}  # part of the case code, any case
    assert _found(world, "xa_a1_clerk", "mai tang") == {hoa, duc}  # the procedure's name, without accents
    assert _found(world, "xa_a1_clerk", "tran thi xyz") == set()
    assert _found(world, "xa_a1_clerk", "50%_") == set()  # LIKE wildcards are searched as themselves


def test_staff_still_only_find_the_cases_of_their_path(world: World, received: dict[str, str]) -> None:
    assert received["lan"] not in _found(world, "xa_a1_clerk", "tran thi lan")
    assert _found(world, "xa_a2_clerk", "tran thi") == {received["lan"]}
    assert _found(world, "xa_b1_clerk", "tran thi") == set()


def test_the_search_column_follows_every_change(world: World, received: dict[str, str]) -> None:
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == received["an"]))
        case.applicant_name = "Nguyễn Văn Ân Đạt"  # corrected at the desk
    assert _found(world, "xa_a1_clerk", "an dat") == {received["an"]}
    # Processing the case rewrites its row; the search text stays right.
    world.complete_next(received["hoa"])
    assert _found(world, "xa_a1_clerk", "tran thi hoa") == {received["hoa"]}


def test_case_search_page(world: World, api: Any, received: dict[str, str]) -> None:
    _login(api.client, "xa_a1_clerk")
    html = api.client.get("/cases?q=tran+thi").get_data(as_text=True)
    assert received["hoa"] in html and "Trần Thị Hoa" in html
    assert received["lan"] not in html and received["duc"] not in html
    bad = api.client.get("/cases?q=" + "a" * 250)  # longer than any search: said next to the field
    assert bad.status_code == 422 and 'id="cq-error"' in bad.get_data(as_text=True)


def _rows(html: str) -> set[str]:
    """The case codes of the inbox table's rows (the bell lists codes too)."""
    return set(re.findall(r'data-case="([^"]+)"', html))


def test_inbox_search_page_and_api(world: World, api: Any, received: dict[str, str]) -> None:
    _login(api.client, "xa_a1_specialist")
    html = api.client.get("/inbox").get_data(as_text=True)
    assert 'id="f-q"' in html and _rows(html) == {received["hoa"], received["duc"], received["an"]}
    html = api.client.get("/inbox?q=tran+thi").get_data(as_text=True)
    assert _rows(html) == {received["hoa"]} and 'value="tran thi"' in html
    assert _rows(api.client.get("/inbox?q=dang+van+duc").get_data(as_text=True)) == {received["duc"]}
    resp = api.get("/api/v1/tasks?q=Tran%20Thi", user="xa_a1_specialist")
    assert resp.status_code == 200 and [t["case_code"] for t in resp.json["items"]] == [received["hoa"]]
    # The other commune's specialist has Lan's step, and only hers.
    with world.db.transaction() as s:
        page = cases.inbox(s, world.user(s, "xa_a2_specialist"), find="tran thi")
        assert [i.case.code for i in page.items] == [received["lan"]]


def _fill(world: World, n: int) -> None:
    """n cases written in bulk, their search text folded by the application's own function."""
    with world.db.transaction() as s:
        proc = s.scalar(select(Procedure).where(Procedure.code == "ncc_mai_tang"))
        unit = s.scalar(select(Unit).where(Unit.code == "XA_A1"))
        proc_id, proc_name, unit_id = proc.id, proc.name, unit.id
    # Names that share no word with the applicants searched for below.
    surnames = ["Nguyễn", "Lê", "Phạm", "Vũ", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
    given = ["Văn Minh", "Quốc Bảo", "Ngọc Ánh", "Hữu Phước", "Gia Huy", "Kim Oanh", "Minh Khôi", "Bảo Ngọc"]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        name = f"{surnames[i % 10]} {given[(i // 10) % 8]} {i}"
        code = f"000.31.31.H99-250101-F{i:06d}"
        rows.append({"code": code, "lookup_secret": "ABCDEF", "procedure_id": proc_id, "receiving_unit_id": unit_id,
                     "current_unit_id": unit_id, "channel": "desk", "status_code": 4, "applicant_name": name,
                     "applicant_id_number": f"0361{i:08d}", "data": {}, "received_at": start + timedelta(minutes=i),
                     "search_text": case_search_text(code, name, f"0361{i:08d}", proc_name)})
    with world.db.engine.begin() as conn:
        for k in range(0, n, 5000):
            conn.execute(insert(Case), rows[k:k + 5000])


def _plan(session: Any, stmt: Any) -> str:
    dialect = session.get_bind().dialect
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "postgresql":
        sql = sql.replace("%%", "%")  # the driver's escaping; text() below sends it as it stands
        return "\n".join(session.scalars(text(f"EXPLAIN {sql}")))
    return "\n".join(str(r[-1]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))


def test_the_search_uses_its_index(world: World, received: dict[str, str]) -> None:
    _fill(world, 30_000)
    with world.db.transaction() as s:
        postgres = s.get_bind().dialect.name == "postgresql"
        if postgres:
            s.execute(text("ANALYZE cases"))
        plan = _plan(s, select(Case.id).where(search.matches("tran thi hoa")))
        if postgres:
            assert "Bitmap Index Scan on ix_cases_search_text" in plan, plan
        else:  # the narrow index is read, not the wide case rows
            assert "SCAN cases_1 USING COVERING INDEX ix_cases_search_text" in plan, plan
        clerk = world.user(s, "xa_a1_clerk")
        full = _plan(s, search.case_search(clerk, "tran thi hoa"))
        print(f"\n[{s.get_bind().dialect.name}] the clerk's case search:\n{full}")
        assert "ix_cases_search_text" in full, full
        assert {c.code for c in search.find_cases(s, clerk, "tran thi hoa")} == {received["hoa"]}
        assert len(search.find_cases(s, clerk, "ngoc anh 1")) == 50  # a common name: the newest 50
