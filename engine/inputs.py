"""The one input layer at the engine boundary: whatever comes from outside (a form, a JSON body, a query
parameter, a diagram) is checked here before it reaches a query or a column.

PostgreSQL refuses what SQLite silently stores — over-length VARCHAR, NUL bytes, lone surrogates, NaN in
JSONB, year 0001, integers beyond 64 bits — so without this layer the same request is a 500 on one backend
and junk in the other. Every check collects all bad fields and raises one `Invalid` whose `details` name
each of them (HTTP 422), identical on both backends. Lengths come from the SQLAlchemy columns, never from a
number typed twice.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger

from engine.errors import Invalid

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1
# Text columns have no length of their own; a note or a comment longer than this is not a note.
MAX_TEXT = 20_000
MAX_PARAM = 1_000_000  # the catch-all for query strings and forms; each field's own limit is its column's
MAX_JSON_DEPTH = 32
MAX_KEY = 200
# A reason an official writes for the applicant (an apology, a stop): one limit for every such letter.
REASON_MAX = 1000
YEAR_MIN, YEAR_MAX = 1900, 2100
MULTILINE_OK = frozenset("\n\t\r")


def column_length(column: Any) -> int | None:
    """The VARCHAR length of a mapped column (`Case.applicant_name`), None for Text and non-strings."""
    col = column.property.columns[0] if hasattr(column, "property") else column
    return getattr(col.type, "length", None)


def _column_int_max(column: Any) -> int:
    col = column.property.columns[0] if hasattr(column, "property") else column
    # BigInteger ids are 64-bit on PostgreSQL; plain Integer columns overflow at 2^31 there.
    return INT64_MAX if isinstance(col.type, BigInteger) else INT32_MAX


# Unicode category Cc is exactly C0 + DEL + C1; a regex finds them at C speed in a long text.
_BAD_SINGLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_MULTI = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as text, or None: lone surrogates and control characters (NUL, ESC, …;
    new lines and tabs only where the field has several lines)."""
    found = (_BAD_MULTI if multiline else _BAD_SINGLE).search(value)
    if found is None:
        return None
    ch = found.group()
    if "\ud800" <= ch <= "\udfff":
        return "chứa ký tự Unicode không hợp lệ"
    return "chứa ký tự NUL không được phép" if ch == "\x00" else "chứa ký tự điều khiển không được phép"


class Checker:
    """Collects every problem of one input, then raises one Invalid naming every bad field."""

    def __init__(self) -> None:
        self.details: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.details.setdefault(field, message)

    def done(self, text_code: str = "input_invalid") -> None:
        """One Invalid saying TEXTS[text_code] with the bad fields, if any were added."""
        if self.details:
            fields, details = ", ".join(self.details), dict(self.details)
            raise Invalid.of(text_code, fields=fields, details=details)

    # --- scalars --------------------------------------------------------------------------------

    def text(self, field: str, value: Any, column: Any = None, *, max_length: int | None = None,
             multiline: bool = False, required: bool = False, strip: bool = True) -> str:
        """NFC-normalised text within the column's length; numbers are accepted as their text."""
        if value is None:
            value = ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            self.add(field, "phải là một chuỗi ký tự")
            return ""
        if isinstance(value, float) and not math.isfinite(value):
            self.add(field, "phải là một chuỗi ký tự")
            return ""
        text = value if isinstance(value, str) else str(value)
        problem = text_problem(text, multiline=multiline)
        if problem:
            self.add(field, problem)
            return ""
        text = unicodedata.normalize("NFC", text)
        if strip:
            text = text.strip()
        limit = max_length or (column_length(column) if column is not None else None) or MAX_TEXT
        if len(text) > limit:
            self.add(field, f"dài quá {limit} ký tự ({len(text)})")
            return text[:limit]
        if required and not text:
            self.add(field, "bắt buộc nhập")
        return text

    def integer(self, field: str, value: Any, column: Any = None, *, low: int | None = None,
                high: int | None = None) -> int | None:
        """An integer within 64 bits, within the column (32-bit Integer), within [low, high]."""
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            self.add(field, "phải là một số nguyên")
            return None
        try:
            number = int(value) if isinstance(value, int) else int(str(value).strip(), 10)
        except (ValueError, TypeError):
            self.add(field, "phải là một số nguyên")
            return None
        top = high if high is not None else (_column_int_max(column) if column is not None else INT64_MAX)
        bottom = low if low is not None else INT64_MIN
        if not bottom <= number <= top:
            self.add(field, f"phải trong khoảng {bottom}…{top}")
            return None
        return number

    def number(self, field: str, value: Any) -> Decimal | None:
        """A finite decimal number (no NaN, no Infinity)."""
        if value is None or value == "":
            return None
        try:
            number = Decimal(str(value).strip()) if not isinstance(value, bool) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number.adjusted()) > 30:
            self.add(field, "phải là một số hữu hạn")
            return None
        return number

    def moment(self, field: str, value: Any) -> datetime | date | None:
        """A date or date-time between 1900 and 2100 (ISO 8601 text or a date object)."""
        if value is None or value == "":
            return None
        if isinstance(value, (date, datetime)):
            parsed: date | datetime = value
        else:
            text = str(value).strip()
            try:
                parsed = date.fromisoformat(text) if len(text) <= 10 else datetime.fromisoformat(text)
            except ValueError:
                self.add(field, "phải là ngày giờ ISO 8601 (YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM)")
                return None
        if not YEAR_MIN <= parsed.year <= YEAR_MAX:
            self.add(field, f"năm phải trong khoảng {YEAR_MIN}–{YEAR_MAX}")
            return None
        return parsed

    # --- JSON -----------------------------------------------------------------------------------

    def json(self, field: str, value: Any, depth: int = 0) -> Any:
        """JSON-able data made safe for JSONB: strings checked like text, numbers finite, integers within
        64 bits, keys short text, nesting at most MAX_JSON_DEPTH."""
        if depth > MAX_JSON_DEPTH:
            self.add(field, f"lồng nhau quá {MAX_JSON_DEPTH} cấp")
            return None
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            return self.text(field, value, multiline=True, strip=False)
        if isinstance(value, int):
            return self.integer(field, value)
        if isinstance(value, float):
            if not math.isfinite(value):
                self.add(field, "phải là một số hữu hạn (không nhận NaN, Infinity)")
                return None
            return value
        if isinstance(value, Decimal):
            number = self.number(field, value)
            return None if number is None else (int(number) if number == number.to_integral_value()
                                                 else float(number))
        if isinstance(value, (list, tuple)):
            return [self.json(f"{field}[{i}]", v, depth + 1) for i, v in enumerate(value)]
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    self.add(f"{field}.{k}", "tên trường phải là chuỗi ký tự")
                    continue
                name = f"{field}.{k}" if field else k
                key = self.text(name, k, max_length=MAX_KEY, strip=False)
                out[key] = self.json(name, v, depth + 1)
            return out
        self.add(field, f"kiểu dữ liệu không hỗ trợ ({type(value).__name__})")
        return None


# --- one-call helpers ---------------------------------------------------------------------------------


def text(field: str, value: Any, column: Any = None, **kw: Any) -> str:
    """One text field checked; Invalid naming it otherwise."""
    c = Checker()
    out = c.text(field, value, column, **kw)
    c.done()
    return out


def integer(field: str, value: Any, column: Any = None, **kw: Any) -> int | None:
    c = Checker()
    out = c.integer(field, value, column, **kw)
    c.done()
    return out


def json_data(field: str, value: Any) -> Any:
    c = Checker()
    out = c.json(field, value)
    c.done()
    return out


def params(values: Any) -> None:
    """Every name and value of a query string or form (a MultiDict): no NUL, no control characters other
    than new lines and tabs, no lone surrogates, within MAX_TEXT. Runs before any view reads them, so no
    query ever carries them; each engine function still checks its own fields against its columns."""
    c = Checker()
    for key in values:
        c.text(key, key, max_length=MAX_KEY, strip=False)
        for value in values.getlist(key) if hasattr(values, "getlist") else [values[key]]:
            c.text(key, value, multiline=True, strip=False, max_length=MAX_PARAM)
    c.done()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes | str) -> Any:
    """A request body as JSON: the constants NaN/Infinity refused (Python's json accepts them, PostgreSQL
    and browsers do not), nesting bounded, syntax errors a 422 instead of a silent None."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise Invalid.of("json_too_deep", max=MAX_JSON_DEPTH, details={"body": "too deeply nested"}) from None
    except ValueError as e:
        raise Invalid.of("json_syntax", error=str(e), details={"body": str(e)}) from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise Invalid.of("json_too_deep", max=MAX_JSON_DEPTH, details={"body": "too deeply nested"})
    return value


def _depth(value: Any) -> int:
    """Nesting depth without recursion (the parser already bounds it, but not below Python's limit)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_JSON_DEPTH:
            return d
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest
