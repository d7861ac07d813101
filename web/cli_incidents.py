"""`motcua cases stuck` and `motcua case retry CODE`: the administrator's view of stuck cases, and
`motcua role add`: a province's own roles with what they may do."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    from web.cli import Context, fail, pass_ctx

    def admin(s: object, username: str) -> object:
        from engine import org

        user = org.user_by_username(s, username)  # type: ignore[arg-type]
        if not user.has_role("admin"):
            fail(f"user {username} is not an administrator")
        return user

    @main.group(name="cases")
    def cases_group() -> None:
        """Cases as a whole."""

    @cases_group.command(name="stuck")
    @click.option("--as", "username", default="admin", show_default=True, help="Administrator account.")
    @pass_ctx
    def stuck(ctx: Context, username: str) -> None:
        """List the cases stuck on a routing error or a failing script: code, kind, since, error."""
        from engine import incidents
        from engine.notifications import local_text

        with ctx.db.transaction() as s:
            rows = incidents.stuck_cases(s, admin(s, username))
        for i in rows:
            click.echo(f"{i.code}\t{i.kind}\t{local_text(i.since)}\t{i.error}")
        click.echo(f"{len(rows)} stuck case(s)")

    @main.group(name="case")
    def case_group() -> None:
        """One case."""

    @case_group.command(name="retry")
    @click.argument("code")
    @click.option("--as", "username", default="admin", show_default=True, help="Administrator account.")
    @pass_ctx
    def retry(ctx: Context, code: str, username: str) -> None:
        """Route again the steps of CODE that could not be routed, or fire its failed timer (after the fix)."""
        from engine import incidents

        with ctx.db.transaction() as s:
            done = incidents.retry(s, admin(s, username), code)
            steps = [f"{w.name} → {w.unit.code} ({w.role_code})" for w in done.new_steps]
        click.echo(f"{code}: retried; " + ("; ".join(steps) if steps else "no new step"))

    @main.group(name="role")
    def role_group() -> None:
        """Roles (vai trò) and what they may do."""

    @role_group.command(name="add")
    @click.argument("code")
    @click.option("--name", required=True)
    @click.option("--can", "capabilities", multiple=True,
                  type=click.Choice(["receives_dossiers", "escalation_target", "reads_reports", "designs",
                                     "releases_claims"]), help="Repeat for several capabilities.")
    @pass_ctx
    def role_add(ctx: Context, code: str, name: str, capabilities: tuple[str, ...]) -> None:
        from engine import org

        with ctx.db.transaction() as s:
            org.add_role(s, code, name, list(capabilities))
        click.echo(f"role {code} added" + (f" ({', '.join(capabilities)})" if capabilities else ""))
