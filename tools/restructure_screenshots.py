"""Regenerate the screenshots of docs/restructuring.md from the demo province:

    .venv/bin/python tools/restructure_screenshots.py [--out docs/img]

A throw-away SQLite demo (the demo province, its catalog, a few open dossiers at communes and districts) is
served on 127.0.0.1 and driven by Debian's chromium (/usr/bin/chromium) through Playwright, signed in as the
demo admin: the preview of the shipped 2025 plan (restructure-preview.png), the page after applying it
(restructure-applied.png), and the designer's preview of moving the running ncc_mai_tang cases to the
two-level version 2 (restructure-migrate-preview.png). Nothing outside the temporary folder is touched."""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

from sqlalchemy import select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine import cases, catalog, demo_restructure, org, schema  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.db import Database  # noqa: E402
from engine.demo import create_demo  # noqa: E402
from engine.deploy import deploy  # noqa: E402
from engine.models import Case, User  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "motcua2026"
APPLICANTS = ("Nguyễn Thị Hoa", "Trần Văn Bình", "Lê Thị Cúc", "Phạm Văn Dũng", "Hoàng Thị Em", "Vũ Văn Giang")


def _province(database: Database) -> None:
    """The demo province with open dossiers: some still at the commune, some at the district."""
    with database.transaction() as s:
        org.ensure_reference_data(s)
        create_demo(s)
        catalog.load_catalog(s)
    for i, name in enumerate(APPLICANTS):
        desk = ("xa_a1_clerk", "xa_b2_clerk", "xa_a2_clerk")[i % 3]
        procedure = ("ncc_mai_tang", "tro_cap_xa_hoi", "ho_tro_mai_tang")[i % 3]
        with database.transaction() as s:
            clerk = s.scalar(select(User).where(User.username == desk))
            code = cases.receive(s, clerk, procedure, {"name": name, "id_number": f"03619000{i:04d}"}).code
        for _ in range(i % 3 + 1 + i // 3):  # move some of them on to the district
            with database.transaction() as s:
                case = s.scalar(select(Case).where(Case.code == code))
                items = cases.open_items(s, case)
                if not items:
                    break
                item = items[0]
                user = s.scalar(select(User).where(User.username == f"{item.unit.code.lower()}_{item.role_code}"))
                if user is None:
                    break
                cases.complete_task(s, user, item.id, {"outcome": "approve", "so_van_ban": f"{10 + i}/UBND"})


def _serve(database: Database, instance: Path) -> tuple[str, object, threading.Thread]:
    from werkzeug.serving import make_server

    import web

    app = web.create_app(load_settings(database_url=database.url, instance_path=instance), database=database)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", server, thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="motcua-shots-") as tmp:
        instance = Path(tmp)
        database = Database(f"sqlite:///{instance / 'motcua.db'}")
        schema.upgrade(database.engine)
        _province(database)
        url, server, thread = _serve(database, instance)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
                page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN",
                                           timezone_id="Asia/Ho_Chi_Minh").new_page()
                page.goto(f"{url}/login")
                page.fill("input[name=username]", "admin")
                page.fill("input[name=password]", PASSWORD)
                page.click("main form button[type=submit]")
                page.wait_for_load_state()

                page.goto(f"{url}/admin/restructure")
                plan = (REPO / "bpmn" / "restructure-2025" / "plan.toml").read_text(encoding="utf-8")
                page.fill("#plan", plan)
                page.click("#plan-form button[type=submit]")
                page.wait_for_selector("#preview")
                page.locator("#preview").screenshot(path=str(out / "restructure-preview.png"))
                page.click("#apply-form button[type=submit]")
                page.wait_for_load_state()
                page.screenshot(path=str(out / "restructure-applied.png"))

                with database.transaction() as s:
                    admin = s.scalar(select(User).where(User.username == "admin"))
                    version = deploy(s, demo_restructure.v2_xml(), demo_restructure.V2_FILE,
                                     forms=catalog.load_forms(), procedure_code=demo_restructure.PROCEDURE,
                                     user=admin).version
                page.goto(f"{url}/designer/{demo_restructure.PROCEDURE}/migrate/{version}")
                page.fill("#map", " ".join(f"{a}={b}" for a, b in demo_restructure.MAPPING.items()))
                page.click("#map-form button[type=submit]")
                page.wait_for_selector("#migration-preview")
                page.screenshot(path=str(out / "restructure-migrate-preview.png"), full_page=True)
                browser.close()
        finally:
            server.shutdown()  # type: ignore[attr-defined]
            thread.join(timeout=5)
            database.dispose()
    for name in ("restructure-preview.png", "restructure-applied.png", "restructure-migrate-preview.png"):
        print(out / name)


if __name__ == "__main__":
    main()
