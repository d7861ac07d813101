"""`motcua partner …` and `motcua outbox …` against the test database: an operator connects a partner,
reads the identity to hand over, and sends again everything a partner missed while it was down."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from engine import lienthong_outbox, partners
from engine.models import OutboxMessage
from web.cli import main


def test_partner_and_outbox_commands(db, tmp_path):
    env = {"MOTCUA_DATABASE_URL": db.url, "MOTCUA_INSTANCE_PATH": str(tmp_path / "inst"),
           "MOTCUA_AGENCY_CODE": "UBND-XA-A1"}
    runner = CliRunner()
    ident = runner.invoke(main, ["partner", "identity", "--show-key"], env=env)
    code, secret = ident.output.split()
    assert ident.exit_code == 0 and code == "UBND-XA-A1" and secret.startswith("whsec_")
    stored = json.loads((tmp_path / "inst" / "lienthong.json").read_text())
    assert stored["secret"] == secret and (tmp_path / "inst" / "lienthong.json").stat().st_mode & 0o077 == 0

    bad = runner.invoke(main, ["partner", "add", "CONG-AN", "--name", "Công an", "--url", "cutru", "--key", "x"],
                        env=env)
    assert bad.exit_code == 1 and "url" in bad.output and "key" in bad.output
    ok = runner.invoke(main, ["partner", "add", "CONG-AN", "--name", "Công an", "--url", "https://cutru.example.vn",
                              "--key", partners.new_secret()], env=env)
    assert ok.exit_code == 0, ok.output
    assert "CONG-AN\tsystem\thttps://cutru.example.vn" in runner.invoke(main, ["partner", "list"], env=env).output

    with db.transaction() as s:
        for n in range(3):
            row = lienthong_outbox.enqueue(s, "CONG-AN", "ping", {"kind": "ping", "n": n})
            row.state = "incident"
    assert "3\t" not in runner.invoke(main, ["outbox", "retry"], env=env).output
    out = runner.invoke(main, ["outbox", "retry", "--partner", "CONG-AN"], env=env)
    assert out.exit_code == 0 and "3 message(s) queued again" in out.output
    with db.transaction() as s:
        assert set(s.scalars(select(OutboxMessage.state))) == {"pending"}
    listed = runner.invoke(main, ["outbox", "list"], env=env).output.splitlines()
    assert len(listed) == 3 and all("\tpending\tCONG-AN\tping\t0" in line for line in listed)
