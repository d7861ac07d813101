"""The case code — mã hồ sơ: `<agency>-YYMMDD-XXXX`, numbered per agency per local day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.calendar import VN_TZ
from engine.errors import Conflict
from engine.models import CaseSequence


def next_case_code(session: Session, agency_code: str, received_at: datetime) -> str:
    """`<agency>-YYMMDD-XXXX`, the sequence per agency per local day. An atomic upsert, so concurrent
    receptions on PostgreSQL never get the same number."""
    day = received_at.astimezone(VN_TZ).date()
    dialect = session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(CaseSequence)
    stmt = ins.values(agency_code=agency_code, day=day, last=1).on_conflict_do_update(
        index_elements=[CaseSequence.agency_code, CaseSequence.day],
        set_={"last": CaseSequence.last + 1}).returning(CaseSequence.last)
    number = session.execute(stmt).scalar_one()
    if number > 9999:
        raise Conflict(f"more than 9999 cases received by {agency_code} on {day:%d/%m/%Y}")
    return f"{agency_code}-{day:%y%m%d}-{number:04d}"
