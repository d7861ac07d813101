"""The printable legal slips of the one-stop desk (Thông tư 01/2018/TT-VPCP, Điều 9 and its annex), as PDFs.

Everything a slip says is worked out here from the case, its procedure and its audit events; the Jinja2
templates in `slips/` (or the province's copy named by MOTCUA_SLIPS_PATH) only lay it out, so a province
can reword or restyle a slip without touching code. Fonts ship in `slips/fonts/` and are embedded in every
PDF. Slips 01–05 are A5 portrait, the ledger (06) A4 landscape, as the circular prints them.
"""

from __future__ import annotations

import os
import tomllib
import unicodedata
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
import segno
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import ledger
from engine.calendar import VN_TZ
from engine.config import load_settings
from engine.control_slip import CHANNELS, TIMING, control_rows
from engine.errors import Invalid, NotFound
from engine.ledger import LedgerRow
from engine.models import Case, Event, ProcessVersion, Unit, User, utcnow
from engine.resources import shipped
from engine.status import Status

SLIPS = {"01": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", "02": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
         "03": "Phiếu từ chối tiếp nhận giải quyết hồ sơ", "04": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
         "05": "Phiếu kiểm soát quá trình giải quyết hồ sơ", "06": "Sổ theo dõi hồ sơ"}

SHIPPED_PATH = shipped("slips")  # package data: the wheel carries the templates and fonts
PATH_ENV = "MOTCUA_SLIPS_PATH"

# Where a supplement request keeps what is missing and why: the paused event (if the engine recorded
# it), else the form fields of the step that asked for it (the shipped forms use these keys).
MISSING_KEYS = ("missing_documents", "missing", "giay_to_can_bo_sung")
REASON_KEYS = ("reason", "ly_do", "y_kien_ra_soat", "comment")


# --- where the templates live -----------------------------------------------------------------


def slips_path() -> Path:
    """The province's slips folder (MOTCUA_SLIPS_PATH) or the shipped one."""
    custom = os.environ.get(PATH_ENV, "").strip()
    if custom:
        path = Path(custom).expanduser().resolve()
        if not path.is_dir():
            raise Invalid(f"{PATH_ENV}={custom} is not a folder")
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
            raise Invalid(f"{file}: {e}") from e
        merged.update(data.get("default", {}))
        if unit is not None:
            merged.update(data.get("units", {}).get(unit.code, {}))
    name = unit.name if unit else ""
    return {k: v.replace("{unit}", name).replace("{UNIT}", name.upper()) if isinstance(v, str) else v
            for k, v in merged.items()}


# --- formatting (Asia/Ho_Chi_Minh) ------------------------------------------------------------


def _local(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=VN_TZ)).astimezone(VN_TZ)


def fmt_dt(value: datetime | str | None) -> str:
    """hh:mm dd/mm/yyyy, as the circular writes a moment."""
    local = _local(value)
    return local.strftime("%H:%M %d/%m/%Y") if local else ""


def fmt_long_dt(value: datetime | str | None) -> str:
    """'09 giờ 30 phút, ngày 12/03/2026', the wording of Mẫu 01 and 04."""
    local = _local(value)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}" if local else ""


def fmt_date(value: datetime | str | None) -> str:
    local = _local(value)
    return local.strftime("%d/%m/%Y") if local else ""


def fmt_days(value: Decimal | float | int | None) -> str:
    """Working days with a decimal comma and no trailing zeros: 24, 0,5."""
    if value is None:
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return text.replace(".", ",")


def place_date(place: str, value: datetime | None) -> str:
    """'An Phú, ngày 12 tháng 03 năm 2026' — the place-and-date line under the national motto."""
    local = _local(value)
    if local is None:
        return ""
    return f"{place + ', ' if place else ''}ngày {local:%d} tháng {local:%m} năm {local:%Y}"


def qr_svg(data: str) -> Markup:
    """The QR code as inline SVG (vector, sharp when printed); sized by the stylesheet."""
    svg = segno.make(data, error="m").svg_inline(scale=1, border=2, omitsize=True)
    return Markup(svg)


def lookup_url(case: Case, base_url: str | None = None) -> str:
    base = (base_url or load_settings().public_base_url).rstrip("/")
    # The code only: a secret in a URL lands in access logs and browser histories; it is printed beside the
    # QR code for the citizen to type (docs/security.md).
    return f"{base}/tra-cuu?{urlencode({'code': case.code})}"


# --- which slips a case has -------------------------------------------------------------------


def _accepted(case: Case) -> bool:
    """Received as complete and being (or been) processed: it has a process version and a workflow."""
    return (case.process_version_id is not None and case.result != "incomplete"
            and case.status_code != Status.NOT_RECEIVED)


def _events(session: Session, case: Case, *kinds: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.case_id == case.id, Event.kind.in_(kinds))
                                .order_by(Event.at, Event.id)))


def available_slips(session: Session, case: Case) -> list[str]:
    """The slips (NN of SLIPS) that make sense for this case, in order."""
    kinds = {k for (k,) in session.execute(select(Event.kind).where(
        Event.case_id == case.id, Event.kind.in_(("paused", "apology"))).distinct())}
    accepted = _accepted(case)
    out = []
    if accepted:
        out.append("01")
    if case.result == "incomplete" or "paused" in kinds:
        out.append("02")
    if case.result == "refused" and not accepted:
        out.append("03")
    if "apology" in kinds:
        out.append("04")
    if accepted:
        out.append("05")
    return out


# --- shared context ---------------------------------------------------------------------------


def _user_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.full_name or user.username if user else ""


def _deadline_days(session: Session, case: Case) -> Decimal:
    version = session.get(ProcessVersion, case.process_version_id) if case.process_version_id else None
    return version.deadline_days if version is not None else case.procedure.deadline_days


def _doc_entry(case: Case, item: Any) -> dict[str, str]:
    """A document code (or {code, name, copies}) as the procedure names it; unknown codes shown as given."""
    by_code = {str(d.get("code")): d for d in case.procedure.documents if isinstance(d, dict)}
    if isinstance(item, dict):
        code = str(item.get("code") or "")
        known = by_code.get(code, {})
        return {"name": str(item.get("name") or known.get("name") or code),
                "copies": str(item.get("copies") or known.get("copies") or "")}
    known = by_code.get(str(item), {})
    return {"name": str(known.get("name") or item), "copies": str(known.get("copies") or "")}


def documents_received(case: Case) -> list[dict[str, str]]:
    """What the desk ticked at intake; a case accepted without that list had every required document."""
    codes = (case.data or {}).get("documents_received")
    if isinstance(codes, list) and codes:
        return [_doc_entry(case, c) for c in codes if c not in (None, "")]
    return [_doc_entry(case, d) for d in case.procedure.documents if isinstance(d, dict) and d.get("required")]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [v for v in value if v not in (None, "")]
    if isinstance(value, str):
        return [line.strip(" -•\t") for line in value.splitlines() if line.strip(" -•\t")]
    return []


def _base_context(session: Session, case: Case, nn: str, path: Path, now: datetime) -> dict[str, Any]:
    unit = case.receiving_unit
    agency = agency_settings(unit, path)
    return {
        "nn": nn, "title": SLIPS[nn], "agency": agency, "unit": unit, "now": now,
        "fonts_css": _asset_uri(path, "fonts/fonts.css"), "slips_css": _asset_uri(path, "slips.css"),
        "case": case, "code": case.code, "procedure": case.procedure.name,
        "applicant": {"name": case.applicant_name, "id_number": case.applicant_id_number,
                      "address": case.applicant_address, "phone": case.applicant_phone,
                      "email": case.applicant_email},
        "channel": CHANNELS.get(case.channel, case.channel),
        "qr": qr_svg(case.code), "qr_text": case.code,
    }


# --- the five slips ---------------------------------------------------------------------------


def _slip_01(session: Session, case: Case, ctx: dict[str, Any], base_url: str | None) -> None:
    book, number = ledger.number(case)
    url = lookup_url(case, base_url)
    ctx.update(
        documents=documents_received(case),
        sets=(case.data or {}).get("number_of_sets") or 1,
        deadline_days=_deadline_days(session, case),
        received_at=case.received_at, due_at=case.due_at,
        collect_at=ctx["agency"].get("collect_at", ""),
        ledger_book=book, ledger_number=number,
        clerk=_user_name(session, case.received_by_id),
        qr=qr_svg(url), qr_text=url, lookup_secret=case.lookup_secret, lookup_page=url.split("?", 1)[0],
        place_date=place_date(ctx["agency"].get("place", ""), case.received_at),
    )


def _slip_02(session: Session, case: Case, ctx: dict[str, Any]) -> None:
    if case.result == "incomplete":
        missing = _as_list((case.data or {}).get("missing_documents"))
        reason, at, officer = case.intake_note or "", case.received_at, _user_name(session, case.received_by_id)
    else:
        events = _events(session, case, "paused", "task_completed")
        paused = [i for i, e in enumerate(events) if e.kind == "paused"]
        if not paused:
            raise NotFound(f"case {case.code} has no supplement request")
        ev = events[paused[-1]]
        # The step whose outcome asked for the supplement completed just before the pause.
        asked = next((e for e in reversed(events[:paused[-1]]) if e.kind == "task_completed"), None)
        sources = [ev.data or {}, (asked.data if asked else None) or {}, case.data or {}]
        missing = next((_as_list(s.get(k)) for k in MISSING_KEYS for s in sources if _as_list(s.get(k))), [])
        reason = next((str(s[k]) for k in REASON_KEYS for s in sources if s.get(k)), "")
        at, officer = ev.at, _user_name(session, asked.actor_id if asked else None)
    ctx.update(missing=[_doc_entry(case, m) for m in missing], reason=reason, requested_at=at, officer=officer,
               contact_phone=ctx["agency"].get("contact_phone", ""), intake=case.result == "incomplete",
               place_date=place_date(ctx["agency"].get("place", ""), at))


def _slip_03(session: Session, case: Case, ctx: dict[str, Any]) -> None:
    ctx.update(reason=case.intake_note or "", refused_at=case.received_at,
               officer=_user_name(session, case.received_by_id),
               place_date=place_date(ctx["agency"].get("place", ""), case.received_at))


def _slip_04(session: Session, case: Case, ctx: dict[str, Any]) -> None:
    apologies = _events(session, case, "apology")
    if not apologies:
        raise NotFound(f"case {case.code} has no apology")
    ev = apologies[-1]
    data = ev.data or {}
    ctx.update(received_at=case.received_at, reason=str(data.get("reason") or ""),
               previous_due_at=_local(data.get("previous_due_at")) or case.original_due_at,
               new_due_at=_local(data.get("new_due_at")) or case.due_at, apologised_at=ev.at,
               signer=_user_name(session, ev.actor_id),
               place_date=place_date(ctx["agency"].get("place", ""), ev.at))


def _lead_and_partners(session: Session, case: Case) -> tuple[Unit | None, list[Unit]]:
    """Lead agency: the highest level the case went to; the other units coordinate."""
    units = {ev.to_unit.id: ev.to_unit for ev in _events(session, case, "handover", "received") if ev.to_unit}
    if not units:
        return case.receiving_unit, []
    lead = min(units.values(), key=lambda u: (u.level.rank, u.id))
    return lead, [u for u in units.values() if u.id != lead.id]


def _slip_05(session: Session, case: Case, ctx: dict[str, Any]) -> None:
    lead, partners = _lead_and_partners(session, case)
    ctx.update(rows=control_rows(session, case), lead=lead, partners=partners, received_at=case.received_at,
               due_at=case.due_at, case_timing=TIMING.get(case.timing or "", ""),
               place_date=place_date(ctx["agency"].get("place", ""), ctx["now"]))


def render_slip(session: Session, case: Case, nn: str, base_url: str | None = None,
                now: datetime | None = None) -> bytes:
    """The PDF of slip NN (01–05) for this case. NotFound when NN is unknown or makes no sense for it."""
    nn = str(nn).strip().zfill(2)
    if nn not in SLIPS or nn == "06":
        raise NotFound(f"slip {nn} does not exist (choose one of {', '.join(sorted(SLIPS)[:5])})")
    if nn not in available_slips(session, case):
        raise NotFound(f"slip {nn} ({SLIPS[nn]}) does not apply to case {case.code}")
    path = slips_path()
    ctx = _base_context(session, case, nn, path, now or utcnow())
    if nn == "01":
        _slip_01(session, case, ctx, base_url)
    elif nn == "02":
        _slip_02(session, case, ctx)
    elif nn == "03":
        _slip_03(session, case, ctx)
    elif nn == "04":
        _slip_04(session, case, ctx)
    else:
        _slip_05(session, case, ctx)
    return _pdf(path, f"{nn}.html", ctx, sign_as=case.receiving_unit.agency_code)


# --- the ledger (06) --------------------------------------------------------------------------


def render_ledger(rows: list[LedgerRow], period_label: str, unit: Unit | None = None,
                  now: datetime | None = None) -> bytes:
    """Mẫu 06, the Sổ theo dõi hồ sơ for a period (rows from engine.ledger): A4 landscape."""
    path = slips_path()
    if unit is None:
        receiving = {r.case.receiving_unit_id for r in rows}
        unit = rows[0].case.receiving_unit if len(receiving) == 1 else None
    now = now or utcnow()
    agency = agency_settings(unit, path)
    ctx = {"nn": "06", "title": SLIPS["06"], "agency": agency, "unit": unit, "now": now,
           "fonts_css": _asset_uri(path, "fonts/fonts.css"), "slips_css": _asset_uri(path, "slips.css"),
           "period": period_label, "rows": rows,
           "place_date": place_date(agency.get("place", ""), now)}
    return _pdf(path, "06.html", ctx, sign_as=unit.agency_code if unit is not None else None)


# --- HTML to PDF ------------------------------------------------------------------------------


def render_html(path: Path, template: str, ctx: dict[str, Any]) -> str:
    try:
        return _environment(path).get_template(template).render(**ctx)
    except jinja2.TemplateError as e:
        where = f"{getattr(e, 'filename', None) or template}:{getattr(e, 'lineno', None) or 0}"
        raise Invalid(f"slip template {where}: {e.message or e}") from e


def _pdf(path: Path, template: str, ctx: dict[str, Any], sign_as: str | None = None) -> bytes:
    from engine.pdf import render_pdf

    # A province's own slips folder may hold its fonts, stylesheet and seal; nothing else is reachable.
    return render_pdf(render_html(path, template, ctx), base_url=path, extra_dirs=(path,), sign_as=sign_as)
