"""Time commands of `motcua`: calendar overrides, one sweep by hand (`tick`), the production scheduler."""

from __future__ import annotations

from datetime import date, datetime

import click

from engine.calendar import VN_TZ
from engine.models import utcnow


def _parse_now(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter("expected ISO 8601, e.g. 2026-03-09T17:05:00+07:00") from None
    return value if value.tzinfo else value.replace(tzinfo=VN_TZ)


def _parse_day(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise click.BadParameter("expected YYYY-MM-DD or dd/mm/yyyy")


def register(main: click.Group) -> None:
    from web.cli import Context, fail, pass_ctx

    calendar_group = main.commands["calendar"]
    assert isinstance(calendar_group, click.Group)

    @calendar_group.command(name="override")
    @click.argument("day")
    @click.option("--off", "mode", flag_value="off", help="Make DAY a day off (nghỉ).")
    @click.option("--work", "mode", flag_value="work", help="Make DAY a working day (làm bù).")
    @click.option("--remove", "mode", flag_value="remove", help="Remove the override of DAY.")
    @click.option("--note", default="", help="Why, e.g. the decision announcing the swap.")
    @pass_ctx
    def calendar_override(ctx: Context, day: str, mode: str | None, note: str) -> None:
        """Override the working-day calendar on DAY (YYYY-MM-DD or dd/mm/yyyy): --off, --work or --remove."""
        from engine.deadlines import remove_override, set_override

        if mode is None:
            fail("say --off, --work or --remove", 2)
        the_day = _parse_day(day)
        with ctx.db.transaction() as s:
            if mode == "remove":
                remove_override(s, the_day)
                click.echo(f"{the_day:%d/%m/%Y}: override removed")
            else:
                set_override(s, the_day, mode == "work", note)
                kind = "working day" if mode == "work" else "day off"
                click.echo(f"{the_day:%d/%m/%Y}: {kind}" + (f" ({note})" if note else ""))

    @calendar_group.command(name="overrides")
    @click.option("--year", type=int, help="Only this year.")
    @pass_ctx
    def calendar_overrides(ctx: Context, year: int | None) -> None:
        """List the admin's overrides."""
        from engine.deadlines import list_overrides

        with ctx.db.transaction() as s:
            for row in list_overrides(s, year):
                kind = "work" if row.working else "off "
                click.echo(f"{row.day:%d/%m/%Y} {kind} {row.note or ''}".rstrip())

    @main.command()
    @click.option("--now", "now_text", required=True, help="ISO 8601 date-time the sweep runs as of.")
    @pass_ctx
    def tick(ctx: Context, now_text: str) -> None:
        """Run one scheduler sweep as of --now and print what it did (fired timers, reminders, overdue)."""
        from engine import scheduler
        from engine.deadlines import configure_hours

        configure_hours(ctx.settings.working_hours)
        now = _parse_now(now_text)
        report = scheduler.sweep(ctx.db, now, ctx.settings)
        scheduler.deliver_outbox(ctx.db, ctx.settings, max(now, utcnow()))  # mail is sent now, whatever --now
        for line in report.lines():
            click.echo(line)

    @main.command(name="scheduler")
    @click.option("--holder", help="Name in the lease row (default: host:pid:random).")
    @pass_ctx
    def scheduler_cmd(ctx: Context, holder: str | None) -> None:
        """Run the scheduler in the foreground (production). Start one per node: a lease in the database
        keeps exactly one of them sweeping; another takes over within MOTCUA_LEASE_SECONDS if it dies."""
        from engine import scheduler
        from engine.deadlines import configure_hours
        from web.jsonlog import configure as json_logs

        json_logs()  # the same JSON lines as the web workers
        configure_hours(ctx.settings.working_hours)
        scheduler.run_forever(ctx.db, ctx.settings, holder)
