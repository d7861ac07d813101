"""The case code — mã hồ sơ: the deployment's template (engine.case_code_template), `<agency>-YYMMDD-XXXX` by
default, numbered per agency per local day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine import case_code_template
from engine.models import Unit


def next_case_code(session: Session, agency_code: str | Unit, received_at: datetime) -> str:
    """The next code for a unit (its agency code valid that day) or a bare agency code. An atomic upsert, so
    concurrent receptions on PostgreSQL never get the same number."""
    return case_code_template.next_code(session, agency_code, received_at)
