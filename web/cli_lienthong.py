"""`motcua partner add|list|identity` and `motcua outbox list|retry|dispatch`: liên thông from the shell."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    from web.cli import Context, fail, pass_ctx

    @main.group(name="partner")
    def partner_group() -> None:
        """Partner systems (hệ thống liên thông) and this instance's identity."""

    @partner_group.command(name="add")
    @click.argument("code")
    @click.option("--name", required=True)
    @click.option("--url", "url", required=True, help="The partner's base URL, e.g. https://hotich.example.gov.vn")
    @click.option("--kind", type=click.Choice(["system", "portal"]), default="system", show_default=True)
    @click.option("--key", required=True, help="The partner's secret (whsec_…), from its `motcua partner identity`.")
    @click.option("--unit", "unit_code", default=None, help="Unit where the partner's messages create cases.")
    @pass_ctx
    def partner_add(ctx: Context, code: str, name: str, url: str, kind: str, key: str, unit_code: str | None) -> None:
        """Register a partner system."""
        from engine import partners
        from engine.errors import MotcuaError

        try:
            with ctx.db.transaction() as s:
                partners.add_partner(s, code, name, url, kind, key, unit_code)
        except MotcuaError as e:
            details = e.details if isinstance(e.details, dict) else {}
            fail(e.message + "".join(f"\n  {k}: {v}" for k, v in details.items()))
        click.echo(f"partner {code} added ({kind}, {url})")

    @partner_group.command(name="list")
    @pass_ctx
    def partner_list(ctx: Context) -> None:
        from engine import partners

        with ctx.db.transaction() as s:
            for p in partners.list_partners(s):
                click.echo(f"{p.code}\t{p.kind}\t{p.url}\t{p.name}")

    @partner_group.command(name="identity")
    @click.option("--show-key", is_flag=True, help="Also print the secret partners register as --key.")
    @pass_ctx
    def identity(ctx: Context, show_key: bool) -> None:
        """This instance's agency code (and secret) towards its partners; created if missing."""
        from engine import partners

        ident = partners.ensure_identity(ctx.settings.instance_path, ctx.settings.agency_code)
        click.echo(ident.agency_code)
        if show_key:
            click.echo(ident.secret)

    @main.group(name="outbox")
    def outbox_group() -> None:
        """Liên thông messages waiting to be delivered."""

    @outbox_group.command(name="list")
    @pass_ctx
    def outbox_list(ctx: Context) -> None:
        from sqlalchemy import select

        from engine.models import OutboxMessage

        with ctx.db.transaction() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.state != "delivered").order_by(OutboxMessage.id))
            for m in rows:
                click.echo(f"{m.id}\t{m.state}\t{m.partner_code}\t{m.message}\t{m.attempts}\t{m.last_error or ''}")

    @outbox_group.command(name="retry")
    @click.argument("outbox_id", type=int, required=False)
    @click.option("--partner", default=None, help="Every message given up on to this partner.")
    @pass_ctx
    def outbox_retry(ctx: Context, outbox_id: int | None, partner: str | None) -> None:
        """Send again a message the dispatcher gave up on (or all of one partner's)."""
        from engine import lienthong_outbox

        if (outbox_id is None) == (partner is None):
            fail("give either an outbox ID or --partner CODE")
        with ctx.db.transaction() as s:
            if partner:
                n = lienthong_outbox.retry_partner(s, partner)
            else:
                lienthong_outbox.retry(s, None, outbox_id)
        done = f"partner {partner}: {n} message(s)" if partner else f"outbox {outbox_id}:"
        click.echo(f"{done} queued again")

    @outbox_group.command(name="dispatch")
    @pass_ctx
    def outbox_dispatch(ctx: Context) -> None:
        """Deliver the due messages now (the scheduler does this every few seconds)."""
        from engine import lienthong_outbox, partners

        ident = partners.ensure_identity(ctx.settings.instance_path, ctx.settings.agency_code)
        report = lienthong_outbox.dispatch(ctx.db, ctx.settings, ident)
        click.echo(f"{len(report.delivered)} delivered, {len(report.failed)} to retry, "
                   f"{len(report.incidents)} incident(s)")
