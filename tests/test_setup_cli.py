"""`motcua init` prepares a database (idempotently) with the shipped procedures, and the org/user/token
commands give an operator everything the API needs."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from engine.db import Database
from engine.models import Procedure, ProcessVersion, Unit, User
from web.cli import main


def run(env: dict, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_init_twice_then_org_user_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    env = {"MOTCUA_DATABASE_URL": url, "MOTCUA_INSTANCE_PATH": str(tmp_path)}
    first = run(env, "init", "--demo")
    assert "deployed version 1" in first
    second = run(env, "init", "--demo")
    assert "up to date (version 1)" in second and "0 unit(s)/account(s) created" in second
    db = Database(url)
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(ProcessVersion)) == s.scalar(
            select(func.count()).select_from(Procedure)) >= 3
        assert s.scalar(select(func.count()).select_from(User)) >= 30
    run(env, "org", "add", "XA_A3", "--name", "UBND xã An Hòa", "--level", "commune", "--parent", "HUYEN_A",
        "--agency-code", "000.33.31.H99")
    out = run(env, "user", "add", "xa_a3_clerk", "--unit", "XA_A3", "--role", "clerk")
    assert "password:" in out
    token = run(env, "user", "token", "xa_a3_clerk").strip()
    assert token.startswith("mc_")
    with db.transaction() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "XA_A3"))
        assert unit.parent.code == "HUYEN_A" and unit.path.endswith(f"/{unit.id}/")
    bad = CliRunner().invoke(main, ["org", "add", "X", "--name", "x", "--level", "galaxy"], env=env)
    assert bad.exit_code != 0 and "Cấp «galaxy» không tồn tại" in bad.output
