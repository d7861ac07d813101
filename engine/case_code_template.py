"""Case codes as a per-deployment template (TT 01/2018 Điều 26; TT 03/2025 Điều 13 as amended by TT 04/2025).

MOTCUA_CASE_CODE_TEMPLATE names the parts: {agency} (the unit's agency e-ID code valid on the day of
receipt), {yymmdd} or {yyyymmdd} (the local day of receipt) and {seq} (the daily sequence per agency,
zero-padded to MOTCUA_CASE_CODE_SEQUENCE_DIGITS). TT 01/2018 is the default: `{agency}-{yymmdd}-{seq}` with
four digits; TT 04/2025 allows longer sequences (`…-YYMMDD-AAXXXX…`, the AA part written in the template).

Agency codes were re-issued after the 2025 restructuring: a unit's code has validity dates (AgencyCode rows),
a re-issued code applies from its date, and the old codes keep resolving to the unit for lookups.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.calendar import VN_TZ
from engine.errors import Conflict, Invalid, NotFound
from engine.models import AgencyCode, CaseSequence, Unit

TEMPLATE_ENV = "MOTCUA_CASE_CODE_TEMPLATE"
DIGITS_ENV = "MOTCUA_CASE_CODE_SEQUENCE_DIGITS"
DEFAULT_TEMPLATE = "{agency}-{yymmdd}-{seq}"
DEFAULT_DIGITS = 4
PARTS = ("agency", "yymmdd", "yyyymmdd", "seq")
CODE_MAX = 64  # Case.code


@dataclass(frozen=True)
class CodeFormat:
    template: str
    digits: int

    def render(self, agency: str, day: date, number: int) -> str:
        return self.template.format(agency=agency, yymmdd=f"{day:%y%m%d}", yyyymmdd=f"{day:%Y%m%d}",
                                    seq=f"{number:0{self.digits}d}")


def code_format(template: str | None = None, digits: int | str | None = None) -> CodeFormat:
    """The deployment's format (environment unless given), checked: the code must stay unique per agency
    and day, so the template needs {agency}, a date and {seq}; 4–9 sequence digits."""
    template = template if template is not None else os.environ.get(TEMPLATE_ENV, "").strip() or DEFAULT_TEMPLATE
    raw = digits if digits is not None else os.environ.get(DIGITS_ENV, "").strip() or DEFAULT_DIGITS
    try:
        width = int(raw)
    except (TypeError, ValueError):
        raise Invalid.of("case_code_digits_number", name=DIGITS_ENV, details={DIGITS_ENV: str(raw)}) from None
    if not 4 <= width <= 9:
        raise Invalid.of("case_code_digits_range", name=DIGITS_ENV, details={DIGITS_ENV: width})
    names = set(re.findall(r"{(\w*)}", template))
    unknown = names - set(PARTS)
    missing = [p for p in ("agency", "seq") if p not in names]
    if not names & {"yymmdd", "yyyymmdd"}:
        missing.append("yymmdd")
    if unknown or missing:
        raise Invalid.of("case_code_template_parts", name=TEMPLATE_ENV, template=repr(template),
                         unknown=", ".join(sorted(unknown)) or "—", missing=", ".join(missing) or "—",
                         details={TEMPLATE_ENV: template})
    return CodeFormat(template, width)


def agency_code_on(session: Session, unit: Unit, day: date) -> str:
    """The unit's agency code valid on `day`: the latest re-issue from that day or before, else its own.
    Kept per process under the reference token (engine.reference; agency codes and units change it)."""
    from engine import reference

    unit_id, own = unit.id, unit.agency_code
    return reference.remember(session, ("agency_code", unit_id, day), lambda: session.scalar(
        select(AgencyCode.code).where(AgencyCode.unit_id == unit_id, AgencyCode.valid_from <= day)
        .order_by(AgencyCode.valid_from.desc()).limit(1)) or own)


def reissue_agency_code(session: Session, unit: Unit, code: str, valid_from: date) -> AgencyCode:
    """Record a re-issued agency code applying from `valid_from`; earlier days keep the earlier code."""
    code = (code or "").strip()
    if not code or len(code) > 64 or not re.fullmatch(r"[A-Za-z0-9._-]+", code):
        raise Invalid.of("agency_code_chars", details={"agency_code": code[:64]})
    if session.scalar(select(AgencyCode).where(AgencyCode.unit_id == unit.id,
                                               AgencyCode.valid_from == valid_from)) is not None:
        raise Conflict.of("agency_code_exists", unit=unit.code, day=f"{valid_from:%d/%m/%Y}",
                       details={"valid_from": valid_from.isoformat()})
    row = AgencyCode(unit_id=unit.id, code=code, valid_from=valid_from)
    session.add(row)
    session.flush()
    return row


def unit_for_agency_code(session: Session, code: str) -> Unit:
    """The unit an agency code names, current or former (old slips and codes keep resolving)."""
    unit = session.scalar(select(Unit).where(Unit.agency_code == code))
    if unit is None:
        unit_id = session.scalar(select(AgencyCode.unit_id).where(AgencyCode.code == code).limit(1))
        unit = session.get(Unit, unit_id) if unit_id is not None else None
    if unit is None:
        raise NotFound.of("agency_code_unknown", code=code)
    return unit


def next_sequence(session: Session, agency: str, day: date, limit: int) -> int:
    """The next daily number of `agency` — an atomic upsert, so concurrent receptions never share one."""
    dialect = session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(CaseSequence)
    stmt = ins.values(agency_code=agency, day=day, last=1).on_conflict_do_update(
        index_elements=[CaseSequence.agency_code, CaseSequence.day],
        set_={"last": CaseSequence.last + 1}).returning(CaseSequence.last)
    number = session.execute(stmt).scalar_one()
    if number > limit:
        raise Conflict.of("case_code_day_full", limit=limit, agency=agency, day=f"{day:%d/%m/%Y}", name=DIGITS_ENV,
                          details={"agency_code": agency, "limit": limit})
    return number


def next_code(session: Session, unit: Unit | str, received_at: datetime, fmt: CodeFormat | None = None) -> str:
    """The next case code of `unit` (or of a bare agency code) for a reception at `received_at`."""
    fmt = fmt or code_format()
    day = received_at.astimezone(VN_TZ).date()
    agency = unit if isinstance(unit, str) else agency_code_on(session, unit, day)
    number = next_sequence(session, agency, day, 10 ** fmt.digits - 1)
    code = fmt.render(agency, day, number)
    if len(code) > CODE_MAX:
        raise Invalid.of("case_code_too_long", code=code, max=CODE_MAX, details={TEMPLATE_ENV: fmt.template})
    return code
