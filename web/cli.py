"""`motcua` — the admin command line. Thin: every command calls an engine service."""

from __future__ import annotations

import sys
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from engine import budget, catalog, org, schema, signing
from engine.calendar import VN_TZ
from engine.config import load_settings
from engine.db import Database
from engine.errors import MotcuaError


class Context:
    def __init__(self) -> None:
        self.settings = load_settings()
        budget.configure(self.settings.script_cpu_ms, self.settings.script_memory_mb)
        signing.configure(self.settings.signing_path)
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.database_url)
            self._db.keep_documents_in(self.settings.documents_path)
        return self._db


pass_ctx = click.make_pass_decorator(Context, ensure=True)


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class _Commands(click.Group):
    """A refusal the engine explains (MotcuaError) ends any command with `error: <its message>` and status 1;
    commands catch it themselves only to say more (e.g. `init` lists a diagram's problems)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except MotcuaError as e:
            fail(e.message)


@click.group(cls=_Commands)
def main() -> None:
    """motcua — administrative procedures through the one-stop desk (Bộ phận Một cửa)."""


@main.command()
@click.option("--demo", is_flag=True, help="Also create the demo province, units and accounts.")
@click.option("--levels", type=click.IntRange(2, 3), default=3, show_default=True,
              help="Demo province with 3 levels (province, district, commune) or 2 (the 2025 regime).")
@pass_ctx
def init(ctx: Context, demo: bool, levels: int) -> None:
    """Upgrade the database to the newest schema and load the shipped catalog (idempotent)."""
    from engine.demo import create_demo, demo_agencies, seed_two_level_dossier

    ctx.settings.instance_path.mkdir(parents=True, exist_ok=True)
    from engine.partners import ensure_identity

    ensure_identity(ctx.settings.instance_path, ctx.settings.agency_code)  # liên thông identity and key
    schema.upgrade(ctx.db.engine)
    try:
        with ctx.db.transaction() as s:
            org.ensure_reference_data(s)
            for line in catalog.load_catalog(s):
                click.echo(line)
            if demo:
                created = create_demo(s, levels=levels)
                click.echo(f"demo: {len(created)} unit(s)/account(s) created")
                if levels == 2:  # a dossier received at one commune, decided by another and the province
                    seeded = seed_two_level_dossier(s)
                    if seeded:
                        click.echo(f"demo: dossier {seeded} received at UBND xã Hòa An, decided by UBND xã Bình Sơn "
                                   "and the province, result waiting at Hòa An's desk")
                # A demo CA and a certificate per demo agency, so every slip and result is signed.
                for line in signing.make_demo_keys(demo_agencies(), ctx.settings.signing_path):
                    click.echo(f"demo signing: {line}")
    except MotcuaError as e:
        _print_problems(e)
        sys.exit(2)
    click.echo(f"database ready: {ctx.settings.database_url}")


def _print_problems(e: MotcuaError) -> None:
    details = e.details if isinstance(e.details, dict) else {}
    for p in details.get("problems", []):
        click.echo(f"{p['file']}:{p['line'] or 0}: {p['element_id'] or '-'}: {p['message']}")
    if not details.get("problems"):
        click.echo(f"error: {e.message}", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Serve without the in-process scheduler.")
def serve(host: str, port: int, no_scheduler: bool) -> None:
    """Serve the web app and API, with the scheduler in-process (for one machine; see README for production)."""
    from web import create_app

    app = create_app()
    if not no_scheduler:
        _start_scheduler(app)
    click.echo(f"motcua on http://{host}:{port}")
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def _start_scheduler(app: object) -> None:
    from engine.scheduler import start_background

    start_background(app.extensions["motcua_db"], app.config["MOTCUA"])  # type: ignore[attr-defined]


def _known(ctx: Context) -> tuple[set[str], set[str]]:
    """Levels and roles from the database when there is one, else the shipped defaults."""
    from engine.deploy import known_levels_roles

    try:
        with ctx.db.transaction() as s:
            levels, roles = known_levels_roles(s)
        if levels and roles:
            return levels, roles
    except Exception:  # noqa: BLE001 — no database yet: validating a file must still work
        pass
    return {c for c, _n, _r in org.DEFAULT_LEVELS}, {c for c, _n, _caps in org.DEFAULT_ROLES}


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def validate(ctx: Context, files: tuple[Path, ...]) -> None:
    """Check BPMN files; one line per problem as FILE:LINE: ELEMENT_ID: message. Exit 2 when any."""
    from engine.deploy import validate as check

    levels, roles = _known(ctx)
    forms = catalog.load_forms()
    bad = False
    for path in files:
        result = check(path.read_bytes(), str(path), levels=levels, roles=roles, forms=forms)
        for p in result.problems:
            click.echo(str(p))
        for w in result.warnings:
            click.echo(f"{path}:{w.line or 0}: {w.element_id}: warning: {w.message}")
        bad = bad or not result.valid
    sys.exit(2 if bad else 0)


@main.command(name="deploy")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--procedure", "procedure_code", help="Procedure code (default: the process id).")
@pass_ctx
def deploy_cmd(ctx: Context, file: Path, procedure_code: str | None) -> None:
    """Validate FILE and store it as a new immutable version of its procedure."""
    from engine.deploy import deploy

    try:
        with ctx.db.transaction() as s:
            pv = deploy(s, file.read_bytes(), str(file), forms=catalog.load_forms(), procedure_code=procedure_code)
            click.echo(f"deployed {pv.procedure.code} version {pv.version}")
            for w in pv.warnings:
                click.echo(f"warning: {w['element_id']}: {w['message']}")
    except MotcuaError as e:
        _print_problems(e)
        sys.exit(2)


@main.group(name="org")
def org_group() -> None:
    """Org units (đơn vị)."""


@org_group.command(name="add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--level", required=True, help="Level code, e.g. province, district, commune.")
@click.option("--parent", help="Parent unit code.")
@click.option("--agency-code", help="Agency code used in case codes (default: CODE).")
@pass_ctx
def org_add(ctx: Context, code: str, name: str, level: str, parent: str | None, agency_code: str | None) -> None:
    with ctx.db.transaction() as s:
        unit = org.add_unit(s, code, name, level, parent, agency_code)
        click.echo(f"unit {unit.code} ({unit.level_code}) added")


@org_group.command(name="agency-code")
@click.argument("code")
@click.argument("agency_code")
@click.option("--from", "valid_from", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="First day the re-issued code applies (YYYY-MM-DD); earlier receptions keep the old code.")
@pass_ctx
def org_agency_code(ctx: Context, code: str, agency_code: str, valid_from: datetime) -> None:
    """Re-issue unit CODE's agency code from a date (QĐ 20/2020 as amended after the 2025 restructuring)."""
    from engine.case_code_template import reissue_agency_code

    with ctx.db.transaction() as s:
        unit = org.unit_by_code(s, code)
        reissue_agency_code(s, unit, agency_code, valid_from.date())
        click.echo(f"unit {unit.code}: agency code {agency_code} from {valid_from:%d/%m/%Y}")


@main.group(name="user")
def user_group() -> None:
    """Users and API tokens."""


@user_group.command(name="add")
@click.argument("username")
@click.option("--unit", required=True)
@click.option("--role", "roles", required=True, multiple=True, help="Repeat for several roles.")
@click.option("--password", help="Default: a generated one, printed once.")
@click.option("--name", "full_name", default="")
@click.option("--email")
@pass_ctx
def user_add(ctx: Context, username: str, unit: str, roles: tuple[str, ...], password: str | None,
             full_name: str, email: str | None) -> None:
    with ctx.db.transaction() as s:
        _user, generated = org.add_user(s, username, unit, list(roles), password, full_name, email)
    click.echo(f"user {username} added" + (f"; password: {generated}" if generated else ""))


@user_group.command(name="token")
@click.argument("username")
@click.option("--days", type=int, default=None, help="Valid for this many days (default MOTCUA_TOKEN_DAYS, 90).")
@pass_ctx
def user_token(ctx: Context, username: str, days: int | None) -> None:
    """Print a new API bearer token for USERNAME."""
    with ctx.db.transaction() as s:
        click.echo(org.issue_token(s, org.user_by_username(s, username), days or ctx.settings.token_days))


@user_group.command(name="revoke-token")
@click.argument("username")
@pass_ctx
def user_revoke_token(ctx: Context, username: str) -> None:
    """Revoke every API token of USERNAME and sign USERNAME out of every browser."""
    from engine import sessions

    with ctx.db.transaction() as s:
        user = org.user_by_username(s, username)
        tokens, browsers = org.revoke_tokens(s, user), sessions.end_all(s, user)
    click.echo(f"{username}: {tokens} token(s) revoked, {browsers} browser session(s) ended")


@main.group(name="calendar")
def calendar_group() -> None:
    """The working-day calendar."""


@calendar_group.command(name="due")
@click.option("--from", "start", required=True, help="ISO date-time of receipt, e.g. 2026-02-13T09:00")
@click.option("--days", required=True, help="Working days, decimal allowed.")
@pass_ctx
def calendar_due(ctx: Context, start: str, days: str) -> None:
    """Print the due date-time (ISO 8601, +07:00) of DAYS working days from receipt."""
    from engine.deadlines import calendar_for, configure_hours

    try:
        received = datetime.fromisoformat(start)
        amount = Decimal(days)
    except (ValueError, InvalidOperation):
        fail("--from must be ISO 8601 and --days a number", 2)
    configure_hours(ctx.settings.working_hours)
    try:
        with ctx.db.transaction() as s:
            cal = calendar_for(s)
    except SQLAlchemyError:  # no database yet: holidays without the admin's overrides
        from engine.calendar import WorkCalendar, WorkingHours

        cal = WorkCalendar({}, WorkingHours.parse(ctx.settings.working_hours))
    received = received if received.tzinfo else received.replace(tzinfo=VN_TZ)
    click.echo(cal.add_working_days(received, amount).astimezone(VN_TZ).isoformat())


@main.group(name="db")
def db_group() -> None:
    """Schema migrations (developers)."""


@db_group.command(name="upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    schema.upgrade(ctx.db.engine)
    click.echo("schema at head")


@db_group.command(name="revision")
@click.argument("message")
@pass_ctx
def db_revision(ctx: Context, message: str) -> None:
    schema.revision(ctx.db.engine, message)


def _load_plugins() -> None:
    """Commands owned by other modules (scheduler and calendar overrides, slips) register themselves."""
    from web import cli_incidents, cli_lienthong, cli_ops, cli_restructure, cli_slips, cli_time

    for module in (cli_time, cli_slips, cli_incidents, cli_ops, cli_lienthong, cli_restructure):
        module.register(main)


_load_plugins()
