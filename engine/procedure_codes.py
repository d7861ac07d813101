"""The one rule for procedure codes, and national procedure codes (Cơ sở dữ liệu quốc gia về TTHC).

A procedure code (motcua's own) is letters of either case, digits, `_`, `.` and `-`, starting with a letter
or digit: process ids made in other modelers are often upper-case. The CLI, the JSON API, the designer and
the catalog all check codes here. A national code is the national procedure database's, e.g. `1.001776` or
`2.002913`: digit groups separated by dots.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Invalid
from engine.models import Procedure

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"
CODE_RE = re.compile(CODE_PATTERN)
HTML_PATTERN = CODE_PATTERN[1:-1]  # the same rule for an <input pattern> (implicitly anchored; valid with the v flag)
NATIONAL_CODE_PATTERN = r"^[0-9]{1,3}(\.[0-9]{1,9}){1,3}$"
NATIONAL_CODE_RE = re.compile(NATIONAL_CODE_PATTERN)
CODE_RULE = "chữ cái (hoa hoặc thường, không dấu), chữ số, '_', '.' và '-', bắt đầu bằng chữ cái hoặc chữ số"


def is_code(code: object) -> bool:
    return isinstance(code, str) and CODE_RE.fullmatch(code) is not None


def check_code(code: object, field: str = "procedure") -> str:
    """`code` when it is a valid procedure code, else a 422 naming `field`."""
    if not is_code(code):
        shown = code[:100] if isinstance(code, str) else code
        raise Invalid.of("procedure_code_invalid", code=shown, details={field: shown})
    return code  # type: ignore[return-value]


def check_national_code(code: object, field: str = "national_code") -> str | None:
    """A national procedure code (e.g. 1.001776), or None when empty; anything else is a 422 naming `field`."""
    if code is None or code == "":
        return None
    if not isinstance(code, str) or not NATIONAL_CODE_RE.fullmatch(code):
        shown = code[:40] if isinstance(code, str) else code
        raise Invalid.of("national_code_invalid", code=shown, details={field: shown})
    return code


def national_code(proc: Procedure) -> str | None:
    """The procedure's national code, kept in its catalog entry."""
    value = (proc.catalog or {}).get("national_code")
    return value if isinstance(value, str) and value else None


def set_national_code(session: Session, proc: Procedure, code: str | None) -> None:
    """Record (or clear, with None) the procedure's national code."""
    code = check_national_code(code)
    catalog = dict(proc.catalog or {})
    if code:
        catalog["national_code"] = code
    else:
        catalog.pop("national_code", None)
    proc.catalog = catalog  # a new dict: JSON columns track assignment, not mutation
    session.flush()


def label_with_national_codes(session: Session, rows: list[Any]) -> None:
    """Report rows keyed by procedure code: 'name (national code)' where there is one (page, PDF, Excel)."""
    national = {p.code: national_code(p) for p in session.scalars(select(Procedure))}
    for row in rows:
        if national.get(row.key):
            row.label = f"{row.label} ({national[row.key]})"
