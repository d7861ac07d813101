"""Numbers the Vietnamese way: `.` groups thousands, `,` is the decimal mark (1.800.000 đ; 2,5).

A clerk types `1.800.000` for one million eight hundred thousand đồng; read as an English decimal it was
stored as 1.8. So a whole-đồng field reads dots as thousands separators and refuses what fits no grouping
(`1.8`); a field that allows decimals takes `,` (or a lone `.` not followed by exactly three digits) as the
decimal mark and refuses `1.800`, which could be either."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

GROUPED = re.compile(r"^\d{1,3}(\.\d{3})+$")
PLAIN = re.compile(r"^\d+$")
DECIMAL_COMMA = re.compile(r"^(\d{1,3}(\.\d{3})+|\d+),\d+$")
DECIMAL_DOT = re.compile(r"^\d+\.\d+$")


class Ambiguous(ValueError):
    """A number that reads two ways; the message says how to write it."""


def parse(value: Any, whole: bool) -> Decimal:
    """The number a person meant by `value` (a JSON number or text); ValueError with a Vietnamese message."""
    if isinstance(value, bool):
        raise ValueError("phải là một số")
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError("phải là một số")
        if whole and number != number.to_integral_value():
            raise Ambiguous(f"phải là số nguyên (đồng); {value} có phần lẻ — viết 1.800.000 hoặc 1800000")
        return number
    text = re.sub(r"\s+|đ$|đồng$", "", str(value).strip().lower()).strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("-+")
    if PLAIN.match(text):
        return sign * Decimal(text)
    if GROUPED.match(text):
        if not whole and text.count(".") == 1:
            raise Ambiguous(f"«{value}» không rõ là số nguyên hay số thập phân — viết {text.replace('.', '')} "
                            f"hoặc {text.replace('.', ',')}")
        return sign * Decimal(text.replace(".", ""))
    if whole:
        raise Ambiguous(f"«{value}» không phải số tiền nguyên đồng — dấu chấm chỉ để ngăn cách hàng nghìn "
                        "(1.800.000) hoặc viết liền (1800000)")
    if DECIMAL_COMMA.match(text):
        return sign * Decimal(text.replace(".", "").replace(",", "."))
    if DECIMAL_DOT.match(text):
        return sign * Decimal(text)
    raise ValueError("phải là một số (ví dụ 1.800.000 hoặc 2,5)")


def is_whole(comp: dict) -> bool:
    """A number field for whole units (đồng, people, days): form-js `decimalDigits: 0`."""
    digits = comp.get("decimalDigits")
    try:
        return digits is not None and int(digits) == 0
    except (TypeError, ValueError):
        return False


def fmt(number: Any, money: bool = False) -> str:
    """`1.800.000` (with ` đ` for money); decimals after a comma: `2,5`."""
    try:
        value = Decimal(str(number))
    except (InvalidOperation, ValueError):
        return str(number)
    if not value.is_finite():
        return str(number)
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole = int(value)
    frac = value - whole
    text = f"{whole:,}".replace(",", ".")
    if frac:
        text += "," + format(frac.normalize(), "f").split(".")[1]
    return f"{sign}{text}{' đ' if money else ''}"
