"""The unit competent to decide a dossier (NĐ 118/2025 Điều 14, 17: tiếp nhận không phụ thuộc địa giới).

Any desk in the province receives any dossier; the desk records which unit is competent to decide it. The
choice is among the active units of the procedure's competent level — the deepest level its lanes name
outside the desk (for a commune-level procedure: the applicant's commune) — in the receiving desk's own
province. Without a choice a commune-level procedure goes to the commune the applicant's address names
("Thôn 3, xã Bình Sơn"), when it names exactly one; otherwise the receiving unit stays competent (the
pre-2025 behaviour), so a three-level deployment works unchanged. How lanes then resolve is engine.routing's
rule.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import reference
from engine.errors import Invalid
from engine.folding import fold
from engine.models import ProcessVersion, Unit

if TYPE_CHECKING:
    from engine.case_records import VersionInfo  # what reception passes (the cached version)

RETURN_CHANNELS = ("desk", "post", "online")
# How a unit's name starts before the place's own name ("UBND xã Bình Sơn" → "xã Bình Sơn"), folded.
_AUTHORITY = re.compile(r"^(ubnd|uy ban nhan dan)\s+")


def competent_level(session: Session, version: ProcessVersion | VersionInfo) -> str | None:
    """The deepest level named by the version's non-desk steps (where the dossier is first decided)."""
    snap = reference.snapshot(session)
    levels = {n.get("level") for n in (version.nodes or {}).values()
              if n.get("kind") == "user_task" and n.get("level") and n.get("role") not in snap.desk_roles}
    if not levels:
        return None
    return max(levels, key=lambda code: snap.level_ranks.get(code, 0))


def _province_root(unit: Unit) -> str:
    return unit.path.strip("/").split("/")[0] if unit.path.strip("/") else str(unit.id)


def choices(session: Session, version: ProcessVersion | VersionInfo, receiving: Unit) -> list[Unit]:
    """The units a desk at `receiving` may name as competent for this process version."""
    level = competent_level(session, version)
    if level is None:
        return []
    root = _province_root(receiving)
    rows = session.scalars(select(Unit).where(Unit.level_code == level, Unit.active.is_(True),
                                              Unit.path.startswith(f"/{root}/")).order_by(Unit.name, Unit.code))
    return list(rows)


def _commune_level(session: Session, level: str | None) -> bool:
    """Whether `level` is the deployment's lowest (the communes'): only there does residence decide."""
    ranks = reference.snapshot(session).level_ranks
    return level is not None and bool(ranks) and ranks.get(level) == max(ranks.values())


def decided_by_residence(session: Session, version: ProcessVersion | VersionInfo) -> bool:
    """A commune-level procedure: without the desk's choice the applicant's commune decides it."""
    return _commune_level(session, competent_level(session, version))


def _words(text: str) -> str:
    """Lower-case words without diacritics, one space apart ("Xã Bình Sơn," → "xa binh son")."""
    return re.sub(r"[^a-z0-9]+", " ", fold(text)).strip()


def named_in_address(session: Session, version: ProcessVersion | VersionInfo, receiving: Unit,
                     address: str | None) -> Unit | None:
    """The commune the applicant's address names ("Thôn 3, xã Bình Sơn" → UBND xã Bình Sơn), for a
    commune-level procedure, when exactly one of the choices is named; None when none or several are."""
    if not address or not decided_by_residence(session, version):
        return None
    words = f" {_words(address)} "
    named = []
    for unit in choices(session, version, receiving):
        place = _AUTHORITY.sub("", _words(unit.name))
        if " " in place and f" {place} " in words:  # "xa binh son", never a bare "binh son"
            named.append(unit)
    return named[0] if len(named) == 1 else None


def choose(session: Session, version: ProcessVersion | VersionInfo, receiving: Unit, code: str | None,
           address: str | None = None) -> Unit | None:
    """The competent unit named by `code` (a unit code), checked. Without a code: the commune the applicant's
    `address` names for a commune-level procedure (NĐ 118: decided where the applicant lives), else None —
    the receiving unit is competent. An unknown unit, one outside the province or not at the competent
    level is a 422 naming competent_unit."""
    if code is None or code == "":
        named = named_in_address(session, version, receiving, address)
        return named if named is not None and named.id != receiving.id else None
    if not isinstance(code, str) or len(code) > 64 or "\x00" in code:
        raise Invalid.of("competent_unit_code", details={"competent_unit": "invalid"})
    allowed = choices(session, version, receiving)
    for unit in allowed:
        if unit.code == code:
            return unit
    level = competent_level(session, version) or "?"
    raise Invalid.of("competent_unit_wrong_level",
                     code=code, level=level, unit=receiving.name,
                     details={"competent_unit": code, "allowed": [u.code for u in allowed]})


def check_return_channel(value: str | None) -> str | None:
    """desk | post | online, or None (the desk that received the dossier)."""
    if value in (None, ""):
        return None
    if value not in RETURN_CHANNELS:
        raise Invalid.of("return_channel_choice",
                         choices=", ".join(RETURN_CHANNELS), details={"return_channel": str(value)[:32]})
    return value
