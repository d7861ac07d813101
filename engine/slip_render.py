"""Slips as PDFs: the Jinja2 templates in `slips/` (or the province's copy named by MOTCUA_SLIPS_PATH) lay
out the facts of engine.slip_data, so a province can reword or restyle a slip without touching code.
Fonts ship in `slips/fonts/` and are embedded in every PDF. Slips 01–05 are A5 portrait, the ledger (06)
A4 landscape, as the circular prints them."""

from __future__ import annotations

import os
import tomllib
import unicodedata
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import segno
from markupsafe import Markup
from sqlalchemy.orm import Session

from engine.errors import Invalid
from engine.ledger import LedgerRow
from engine.models import Case, Unit, utcnow
from engine.resources import shipped
from engine.slip_data import SLIPS, local_moment, slip_facts

SHIPPED_PATH = shipped("slips")  # package data: the wheel carries the templates and fonts
PATH_ENV = "MOTCUA_SLIPS_PATH"


# --- where the templates live -----------------------------------------------------------------


def slips_path() -> Path:
    """The province's slips folder (MOTCUA_SLIPS_PATH) or the shipped one."""
    custom = os.environ.get(PATH_ENV, "").strip()
    if custom:
        path = Path(custom).expanduser().resolve()
        if not path.is_dir():
            raise Invalid.of("slip_folder", name=PATH_ENV, path=str(custom))
        return path
    return SHIPPED_PATH


def _nfc(value: Any) -> Any:
    # Text typed on some systems arrives decomposed (NFD); the embedded font draws precomposed letters best.
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else ("" if value is None else value)


@lru_cache(maxsize=8)
def _environment(path: Path) -> jinja2.Environment:
    """Templates from the province's folder first, then the shipped ones (a province may override one file)."""
    loader = jinja2.FileSystemLoader([str(path), str(SHIPPED_PATH)] if path != SHIPPED_PATH else [str(path)])
    env = jinja2.Environment(loader=loader, autoescape=True, finalize=_nfc, undefined=jinja2.ChainableUndefined,
                             trim_blocks=True, lstrip_blocks=True, auto_reload=True)
    env.filters.update(dt=fmt_dt, date=fmt_date, long_dt=fmt_long_dt, days=fmt_days)
    return env


def _asset_uri(path: Path, name: str) -> str:
    """A file of the province's folder when it has one, else the shipped file (fonts, stylesheet)."""
    own = path / name
    return (own if own.exists() else SHIPPED_PATH / name).as_uri()


def agency_settings(unit: Unit | None, path: Path | None = None) -> dict[str, Any]:
    """agency.toml: [default] overlaid by [units.<CODE>], the shipped file under the province's."""
    path = path or slips_path()
    merged: dict[str, Any] = {}
    for file in dict.fromkeys([SHIPPED_PATH / "agency.toml", path / "agency.toml"]):
        if not file.exists():
            continue
        try:
            with file.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as e:
            raise Invalid.of("file_error", file=file, error=str(e)) from e
        merged.update(data.get("default", {}))
        if unit is not None:
            merged.update(data.get("units", {}).get(unit.code, {}))
    name = unit.name if unit else ""
    return {k: v.replace("{unit}", name).replace("{UNIT}", name.upper()) if isinstance(v, str) else v
            for k, v in merged.items()}


# --- formatting (Asia/Ho_Chi_Minh) ------------------------------------------------------------


def fmt_dt(value: datetime | str | None) -> str:
    """hh:mm dd/mm/yyyy, as the circular writes a moment."""
    local = local_moment(value)
    return local.strftime("%H:%M %d/%m/%Y") if local else ""


def fmt_long_dt(value: datetime | str | None) -> str:
    """'09 giờ 30 phút, ngày 12/03/2026', the wording of Mẫu 01 and 04."""
    local = local_moment(value)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}" if local else ""


def fmt_date(value: datetime | str | None) -> str:
    local = local_moment(value)
    return local.strftime("%d/%m/%Y") if local else ""


def fmt_days(value: Decimal | float | int | None) -> str:
    """Working days with a decimal comma and no trailing zeros: 24, 0,5."""
    if value is None:
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return text.replace(".", ",")


def place_date(place: str, value: datetime | None) -> str:
    """'An Phú, ngày 12 tháng 03 năm 2026' — the place-and-date line under the national motto."""
    local = local_moment(value)
    if local is None:
        return ""
    return f"{place + ', ' if place else ''}ngày {local:%d} tháng {local:%m} năm {local:%Y}"


def qr_svg(data: str) -> Markup:
    """The QR code as inline SVG (vector, sharp when printed); sized by the stylesheet."""
    svg = segno.make(data, error="m").svg_inline(scale=1, border=2, omitsize=True)
    return Markup(svg)


# --- the slips -----------------------------------------------------------------------------------


def _frame(nn: str, unit: Unit | None, path: Path, now: datetime) -> dict[str, Any]:
    """What every slip's page carries: its title, the agency's header lines, the fonts and stylesheet."""
    agency = agency_settings(unit, path)
    return {"nn": nn, "title": SLIPS[nn], "agency": agency, "unit": unit, "now": now,
            "fonts_css": _asset_uri(path, "fonts/fonts.css"), "slips_css": _asset_uri(path, "slips.css")}


def render_slip(session: Session, case: Case, nn: str, base_url: str | None = None,
                now: datetime | None = None) -> bytes:
    """The PDF of slip NN (01–05) for this case. NotFound when NN is unknown or makes no sense for it."""
    from engine import slip_sets

    if slip_sets.current(session) != slip_sets.TT01_2018:
        return slip_sets.render_2025(session, case, nn, base_url, now)
    nn = str(nn).strip().zfill(2)
    facts = slip_facts(session, case, nn, base_url)
    path = slips_path()
    ctx = _frame(nn, case.receiving_unit, path, now or utcnow())
    agency = ctx["agency"]
    dated = facts.pop("dated") or ctx["now"]
    ctx.update(facts, qr=qr_svg(case.code), qr_text=case.code, collect_at=agency.get("collect_at", ""),
               contact_phone=agency.get("contact_phone", ""), place_date=place_date(agency.get("place", ""), dated))
    url = facts.get("lookup_url")
    if url:  # the receipt's QR code opens the lookup page with the code filled in
        ctx.update(qr=qr_svg(url), qr_text=url, lookup_page=url.split("?", 1)[0])
    return _pdf(path, f"{nn}.html", ctx, sign_as=case.receiving_unit.agency_code)


def render_ledger(rows: list[LedgerRow], period_label: str, unit: Unit | None = None,
                  now: datetime | None = None) -> bytes:
    """Mẫu 06, the Sổ theo dõi hồ sơ for a period (rows from engine.ledger): A4 landscape."""
    from engine import slip_sets

    if slip_sets.current(slip_sets.ledger_session(rows)) != slip_sets.TT01_2018:
        return slip_sets.render_ledger_2025(rows, period_label, unit, now)
    path = slips_path()
    if unit is None:
        receiving = {r.case.receiving_unit_id for r in rows}
        unit = rows[0].case.receiving_unit if len(receiving) == 1 else None
    ctx = _frame("06", unit, path, now or utcnow())
    ctx.update(period=period_label, rows=rows, place_date=place_date(ctx["agency"].get("place", ""), ctx["now"]))
    return _pdf(path, "06.html", ctx, sign_as=unit.agency_code if unit is not None else None)


# --- HTML to PDF ------------------------------------------------------------------------------


def render_html(path: Path, template: str, ctx: dict[str, Any]) -> str:
    try:
        return _environment(path).get_template(template).render(**ctx)
    except jinja2.TemplateError as e:
        where = f"{getattr(e, 'filename', None) or template}:{getattr(e, 'lineno', None) or 0}"
        raise Invalid.of("slip_template_error", where=where, error=str(e.message or e)) from e


def _pdf(path: Path, template: str, ctx: dict[str, Any], sign_as: str | None = None) -> bytes:
    from engine.pdf import render_pdf

    # A province's own slips folder may hold its fonts, stylesheet and seal; nothing else is reachable.
    # Issued by the agency `sign_as`: signed by its key on the way out (engine.signing).
    return render_pdf(render_html(path, template, ctx), base_url=path, extra_dirs=(path,), sign_as=sign_as)
