"""`motcua org restructure PLAN.toml`, `motcua cases migrate`, `motcua demo restructure-2025`: thin calls into
engine.restructure, engine.migrate_cases and engine.demo_restructure; a preview prints before anything moves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


def _print_preview(pv: dict[str, Any]) -> None:
    click.echo(f"kế hoạch {pv['plan_sha256'][:12]} — hiệu lực {pv['effective']}"
               + (" — ĐÃ ÁP DỤNG" if pv.get("applied") else ""))
    for line in pv["units"]:
        click.echo(f"  đơn vị {line}")
    for case in pv["cases"]:
        click.echo(f"  {case['code']}")
        for mv in case["moves"]:
            where = f"{mv['from_unit']} → {mv['to_unit'] or '?'} ({mv['role']})"
            click.echo(f"    {mv['step']}: {where}" + (f"  VẤN ĐỀ: {mv['problem']}" if mv["problem"] else ""))
        if case.get("receiving_to"):
            click.echo(f"    hồ sơ trực tuyến chờ tiếp nhận → {case['receiving_to']}")
    for p in pv["problems"]:
        click.echo(f"  VẤN ĐỀ: {p}")
    for w in pv["warnings"]:
        click.echo(f"  lưu ý: {w}")
    click.echo(f"{len(pv['cases'])} hồ sơ, {pv['items']} bước sẽ chuyển; "
               + ("không có vấn đề" if pv["ok"] else "CÓ VẤN ĐỀ — chưa áp dụng được"))


def _print_migration(mp: dict[str, Any]) -> None:
    for c in mp["cases"]:
        state = "chuyển được" if c["can_migrate"] else "KHÔNG chuyển được: " + "; ".join(c["why"])
        click.echo(f"  {c['code']} (v{c['from_version']}, chờ {', '.join(c['waiting']) or '—'}): {state}")
    click.echo(f"{mp['movable']} hồ sơ chuyển được sang phiên bản {mp['to_version']}, {mp['blocked']} không")


def register(main: click.Group) -> None:
    from engine import migrate_cases, restructure
    from engine.demo_restructure import run as run_demo
    from engine.errors import MotcuaError
    from engine.models import User
    from engine.restructure_plan import parse_toml
    from web.cli import Context, fail, pass_ctx

    org_group = main.commands["org"]
    cases_group = main.commands["cases"]

    @org_group.command(name="restructure")  # type: ignore[attr-defined]
    @click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", "mode", flag_value="dry-run", default=True, help="Preview only (default).")
    @click.option("--apply", "mode", flag_value="apply", help="Apply in batches (resumable, idempotent).")
    @click.option("--as", "username", default="admin", show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print the preview as JSON.")
    @pass_ctx
    def org_restructure(ctx: Context, plan_file: Path, mode: str, username: str, as_json: bool) -> None:
        """Merge units, abolish a level, rename, move users — as a plan (TOML)."""
        plan = parse_toml(plan_file.read_bytes())
        with ctx.db.session() as s:
            pv = restructure.preview(s, plan).as_dict()
        if as_json:
            click.echo(json.dumps(pv, ensure_ascii=False, indent=2))
        else:
            _print_preview(pv)
        if mode == "apply":
            r = restructure.apply(ctx.db, plan, by=username)
            click.echo("đã áp dụng trước đó; không thay đổi gì" if r.already_applied else
                       f"đã áp dụng: {r.cases_moved} hồ sơ, {r.items_moved} bước, {r.batches} đợt")

    @cases_group.command(name="migrate")  # type: ignore[attr-defined]
    @click.option("--procedure", help="Procedure code.")
    @click.option("--to-version", type=int, help="Target version number.")
    @click.option("--dry-run", "mode", flag_value="dry-run", default=True, help="Preview only (default).")
    @click.option("--apply", "mode", flag_value="apply")
    @click.option("--case", "codes", multiple=True, help="Only these cases (repeatable).")
    @click.option("--map", "pairs", multiple=True, help="OLD_ID=NEW_ID for a step the new version renamed.")
    @click.option("--revert", "revert_code", help="Put CODE back on its previous version.")
    @click.option("--as", "username", default="admin", show_default=True)
    @pass_ctx
    def cases_migrate(ctx: Context, procedure: str | None, to_version: int | None, mode: str, codes: tuple[str, ...],
                      pairs: tuple[str, ...], revert_code: str | None, username: str) -> None:
        """Move running cases to another version of their diagram (preview first)."""
        from sqlalchemy import select

        with ctx.db.transaction() as s:
            user = s.scalar(select(User).where(User.username == username))
            if revert_code:
                case = migrate_cases.revert(s, user, revert_code)
                click.echo(f"{case.code}: đã trả về phiên bản trước")
                return
            if not procedure or to_version is None:
                fail("--procedure và --to-version là bắt buộc (hoặc --revert CODE)")
            mapping = migrate_cases.parse_mapping(list(pairs))
            if mode == "apply":
                mp = migrate_cases.migrate(s, user, procedure, to_version, list(codes) or None, mapping)
            else:
                mp = migrate_cases.preview(s, procedure, to_version, list(codes) or None, mapping)
            _print_migration(mp.as_dict())
            if mode == "apply":
                click.echo("đã chuyển các hồ sơ chuyển được")

    demo_group = main.commands.get("demo")
    if demo_group is None:
        @main.group(name="demo")
        def demo_group() -> None:
            """Demo scenarios on the demo province."""

    @demo_group.command(name="restructure-2025")  # type: ignore[attr-defined]
    @click.option("--dry-run", is_flag=True, help="Preview the plan and the migration only.")
    @pass_ctx
    def demo_restructure(ctx: Context, dry_run: bool) -> None:
        """The 2025 reform on the demo province: districts abolished, communes merged, ncc_mai_tang v2."""
        try:
            result = run_demo(ctx.db, dry_run=dry_run)
        except MotcuaError as e:
            fail(e.message)
            return
        _print_preview(result.preview)
        if result.applied is not None:
            r = result.applied
            click.echo("kế hoạch đã áp dụng trước đó" if r.already_applied else
                       f"đã áp dụng: {r.cases_moved} hồ sơ, {r.items_moved} bước")
        if result.version:
            click.echo(f"ncc_mai_tang phiên bản {result.version} (xã → tỉnh)")
        if result.migration:
            _print_migration(result.migration)
