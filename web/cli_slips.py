"""`motcua slip CODE NN` and `motcua ledger`: print the legal slips (Thông tư 01/2018/TT-VPCP) as PDFs."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click
from sqlalchemy import select


def register(main: click.Group) -> None:
    from web.cli import Context, fail, pass_ctx

    @main.command(name="slip")
    @click.argument("code")
    @click.argument("nn")
    @click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
                  help="PDF file to write (default: <CODE>_mau<NN>.pdf); '-' writes to standard output.")
    @click.option("--base-url", help="Public address printed in the QR code (default: MOTCUA_PUBLIC_URL).")
    @pass_ctx
    def slip(ctx: Context, code: str, nn: str, out: Path | None, base_url: str | None) -> None:
        """Write slip NN (01–05; 01–06 in the TT 03/2025 set) of case CODE as a PDF. `motcua slip CODE list` shows
        the slips it has."""
        from engine import slip_sets, slips
        from engine.models import Case

        with ctx.db.transaction() as s:
            case = s.scalar(select(Case).where(Case.code == code))
            if case is None:
                fail(f"case {code} not found")
            if nn.lower() == "list":
                titles = slip_sets.titles(s)
                for n in slips.available_slips(s, case):
                    click.echo(f"{n}  {titles[n]}")
                return
            pdf = slips.render_slip(s, case, nn, base_url=base_url or ctx.settings.public_base_url)
        _write(pdf, out or Path(f"{code}_mau{nn.zfill(2)}.pdf"))

    @main.command(name="ledger")
    @click.option("--unit", "unit_code", required=True, help="Receiving unit code, e.g. XA_A1.")
    @click.option("--from", "start", required=True, help="First day, YYYY-MM-DD.")
    @click.option("--to", "end", required=True, help="Last day, YYYY-MM-DD (inclusive).")
    @click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="PDF file to write.")
    @click.option("--text", "as_text", is_flag=True,
                  help="Print the rows (number, code, received, sent, back, returned, lead, note) instead.")
    @pass_ctx
    def ledger(ctx: Context, unit_code: str, start: str, end: str, out: Path | None, as_text: bool) -> None:
        """Write the Sổ theo dõi hồ sơ (Mẫu 06) of the cases a unit (and the units under it) received in a period."""
        from engine import ledger, slips
        from engine.models import Unit
        from engine.reports import Filters, Period

        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            fail("--from and --to must be dates like 2026-03-31", 2)
        with ctx.db.transaction() as s:
            unit = s.scalar(select(Unit).where(Unit.code == unit_code))
            if unit is None:
                fail(f"unit {unit_code} not found")
            rows = ledger.rows(s, Filters(Period(first, last), root=unit))
            label = f"Từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y}"
            if as_text:
                for r in rows:
                    if r.heading:  # a new book: a merged desk's closed book keeps its own numbers
                        click.echo(f"# {r.heading}")
                    click.echo("\t".join([str(r.number or ""), r.case.code, _t(r.received_at), _t(r.sent_at),
                                          _t(r.back_at), _t(r.returned_at), r.lead, r.note]))
                return
            pdf = slips.render_ledger(rows, label, unit=unit)
        _write(pdf, out or Path(f"so_theo_doi_{unit_code}_{first:%Y%m%d}_{last:%Y%m%d}.pdf"))


def _t(moment: datetime | None) -> str:
    from engine.calendar import VN_TZ

    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if moment else ""


def _write(pdf: bytes, out: Path) -> None:
    if str(out) == "-":
        sys.stdout.buffer.write(pdf)
        return
    out.write_bytes(pdf)
    click.echo(f"{out} ({len(pdf) // 1024} KB)")
