"""`motcua backup FOLDER` and `motcua restore FOLDER` (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path

import click

from engine import backup


def register(main: click.Group) -> None:
    from web.cli import Context, fail, pass_ctx

    @main.command(name="backup")
    @click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
    @pass_ctx
    def backup_cmd(ctx: Context, folder: Path) -> None:
        """Copy the database and the documents (MOTCUA_INSTANCE_PATH/documents) into a new FOLDER."""
        manifest = backup.backup(ctx.db, ctx.settings, folder)
        click.echo(f"backup in {folder}: {manifest['cases']} case(s), {manifest['documents']} document(s)")

    @main.command(name="restore")
    @click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @pass_ctx
    def restore_cmd(ctx: Context, folder: Path) -> None:
        """Restore FOLDER (from `motcua backup`) into an empty database and a new MOTCUA_INSTANCE_PATH."""
        result = backup.restore(ctx.db, ctx.settings, folder)
        click.echo(f"restored: {result['cases']} case(s), {result['documents']} document(s)")
        if result["missing_documents"]:
            fail(f"{len(result['missing_documents'])} document file(s) missing: "
                 + ", ".join(result["missing_documents"][:10]))
