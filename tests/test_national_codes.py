"""Procedures carry their national code (Cơ sở dữ liệu quốc gia về TTHC, e.g. 1.001776) in the catalog, the
deploy API and GET /api/v1/procedures; catalog pages and reports show it. One procedure-code rule — letters
of either case, digits, '_', '.', '-' — for the CLI, the API and the designer."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine import catalog, designer, procedure_codes, reports
from engine.errors import Invalid
from engine.models import Procedure
from engine.resources import shipped
from tests.conftest import World, at
from web.cli import main

BPMN = (Path(__file__).resolve().parent.parent / "bpmn" / "ncc_mai_tang.bpmn").read_bytes()
XML = {"Content-Type": "application/xml"}


def test_deploy_api_takes_upper_case_codes_and_the_national_code(api: Any) -> None:
    r = api.post("/api/v1/processes?procedure=NCC.Mai-Tang_2&national_code=1.001776", "designer", data=BPMN,
                 headers=XML)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["procedure"] == "NCC.Mai-Tang_2" and r.get_json()["national_code"] == "1.001776"
    listed = {p["code"]: p for p in api.get("/api/v1/procedures", "xa_a1_clerk").get_json()}
    assert listed["NCC.Mai-Tang_2"]["national_code"] == "1.001776"
    assert listed["ncc_mai_tang"]["national_code"] is None
    page = api.client.get("/thu-tuc").get_data(as_text=True)
    assert "1.001776" in page


@pytest.mark.parametrize("bad", ["Bad Code!", "-leading", "mã_có_dấu", "a" * 101])
def test_one_rule_refuses_the_same_codes_everywhere(api: Any, bad: str) -> None:
    r = api.post("/api/v1/processes", "designer", data=BPMN, headers=XML, query_string={"procedure": bad})
    assert r.status_code == 422
    with pytest.raises(Invalid) as e:
        designer.check_code(bad)
    assert "procedure" in e.value.details
    assert not procedure_codes.is_code(bad)


def test_bad_national_code_is_refused(api: Any) -> None:
    r = api.post("/api/v1/processes?procedure=x_y&national_code=abc", "designer", data=BPMN, headers=XML)
    assert r.status_code == 422 and "national_code" in r.get_data(as_text=True)
    with pytest.raises(Invalid) as e:
        procedure_codes.check_national_code("1.00a")
    assert "national_code" in e.value.details


def test_cli_deploys_upper_case_and_refuses_what_the_api_refuses(tmp_path: Path) -> None:
    env = {"MOTCUA_DATABASE_URL": f"sqlite:///{tmp_path}/m.db", "MOTCUA_INSTANCE_PATH": str(tmp_path)}
    assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
    file = tmp_path / "p.bpmn"
    file.write_bytes(BPMN)
    ok = CliRunner().invoke(main, ["deploy", str(file), "--procedure", "NCC_Upper.1"], env=env)
    assert ok.exit_code == 0 and "deployed NCC_Upper.1 version 1" in ok.output
    bad = CliRunner().invoke(main, ["deploy", str(file), "--procedure", "Bad Code!"], env=env)
    assert bad.exit_code != 0 and "procedure" in bad.output


def test_catalog_toml_carries_the_national_code(world: World, tmp_path: Path) -> None:
    root = tmp_path / "shipped"
    for part in ("processes", "bpmn"):
        shutil.copytree(shipped() / part, root / part)
    toml = root / "processes" / "ncc_mai_tang.toml"
    toml.write_text('national_code = "1.010810"\n' + toml.read_text(encoding="utf-8"), encoding="utf-8")
    with world.db.transaction() as s:
        catalog.load_catalog(s, root)
        proc = s.scalar(select(Procedure).where(Procedure.code == "ncc_mai_tang"))
        assert procedure_codes.national_code(proc) == "1.010810"
    code = world.receive("xa_a1_clerk", received_at=at("2026-03-02 09:00"), now=at("2026-03-02 09:00"))
    assert code
    with world.db.transaction() as s:
        f = reports.filters_for(s, world.user(s, "admin"), "2026-03-01", "2026-03-31",
                                now=at("2026-03-02 09:00") + timedelta(hours=1))
        rows = {r.key: r.label for r in reports.table(s, f, "procedure")}
        assert rows["ncc_mai_tang"].endswith("(1.010810)")
        # The report's Excel export carries it too.
        import io

        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(reports.excel_table(s, f, "procedure"))).active
        cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
        assert any(c.endswith("(1.010810)") for c in cells), cells
    toml.write_text('national_code = "abc"\n' + toml.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    with world.db.transaction() as s, pytest.raises(Invalid) as e:
        catalog.load_catalog(s, root)
    assert "ncc_mai_tang.toml" in e.value.message and "national_code" in e.value.details


def test_designer_page_takes_upper_case_codes_and_refuses_what_the_api_refuses(world: World, tmp_path: Path) -> None:
    import html

    from tests.helpers import Browser

    web = Browser(world.db, tmp_path)
    web.login("designer")
    page = web.get("/designer").get_data(as_text=True)
    assert f'pattern="{html.escape(procedure_codes.HTML_PATTERN)}"' in page  # the browser checks the same rule
    r = web.post("/designer/new", {"code": "NCC.Upper-1", "name": "Thủ tục mã chữ hoa", "deadline_days": "5",
                                   "levels": ["commune"]})
    assert r.status_code == 302 and "NCC.Upper-1" in r.headers["Location"]
    r = web.post("/designer/new", {"code": "Bad Code!", "name": "Thủ tục sai mã", "deadline_days": "5",
                                   "levels": ["commune"]})
    assert r.status_code == 422 and "Bad Code!" in r.get_data(as_text=True)
