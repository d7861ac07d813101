"""Server-side validation of task data against the step's form (a @bpmn-io/form-js schema).

The browser validates too, but the server is the rule: required fields, types and allowed values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from engine import vn_numbers
from engine.errors import Invalid

# Keys that would break the workflow state or shadow a sandbox function.
RESERVED_KEYS = {"typename", "add_working_days", "working_days_from_now", "now"}
VALUE_TYPES = {"textfield", "textarea", "number", "select", "radio", "checkbox", "checklist", "datetime",
               "taglist"}


def fields(schema: dict) -> list[dict]:
    """Input components of a form, including those nested in groups."""
    out: list[dict] = []
    for comp in schema.get("components", []):
        if comp.get("type") in VALUE_TYPES and comp.get("key"):
            out.append(comp)
        out.extend(fields(comp)) if comp.get("components") else None
    return out


def _allowed(comp: dict) -> set[str] | None:
    values = comp.get("values")
    return {str(v.get("value")) for v in values} if values else None


def validate(schema: dict | None, data: Any) -> dict:
    """Cleaned data for the form, or Invalid with {field: message} details."""
    if not isinstance(data, dict):
        raise Invalid.of("form_data_object")
    bad = [k for k in data if not isinstance(k, str) or k.startswith("_") or k in RESERVED_KEYS]
    if bad:
        raise Invalid.of("form_reserved_keys", details={k: "tên dành riêng" for k in bad})
    if schema is None:
        return dict(data)
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for comp in fields(schema):
        key, kind = comp["key"], comp["type"]
        label = comp.get("label") or key
        value = data.get(key)
        required = bool((comp.get("validate") or {}).get("required"))
        if value is None or value == "" or value == []:
            if required:
                errors[key] = f"{label}: bắt buộc nhập"
            continue
        try:
            clean[key] = _coerce(kind, value, comp)
        except ValueError as e:
            errors[key] = f"{label}: {e}"
    if errors:
        raise Invalid.of("form_has_errors", details=errors)
    # Values the form does not name (e.g. computed by the page) pass through unchanged.
    return {**{k: v for k, v in data.items() if k not in clean}, **clean}


def _coerce(kind: str, value: Any, comp: dict) -> Any:
    allowed = _allowed(comp)
    if kind in {"textfield", "textarea"}:
        text = str(value)
        limit = (comp.get("validate") or {}).get("maxLength")
        if limit and len(text) > int(limit):
            raise ValueError(f"tối đa {limit} ký tự")
        return text
    if kind == "number":
        # `1.800.000` is 1800000 đồng, never 1.8; what reads two ways is refused (engine.vn_numbers).
        number = vn_numbers.parse(value, whole=vn_numbers.is_whole(comp))
        bounds = comp.get("validate") or {}
        if "min" in bounds and number < Decimal(str(bounds["min"])):
            raise ValueError(f"phải ≥ {bounds['min']}")
        if "max" in bounds and number > Decimal(str(bounds["max"])):
            raise ValueError(f"phải ≤ {bounds['max']}")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind in {"select", "radio"}:
        if allowed is not None and str(value) not in allowed:
            raise ValueError(f"'{value}' không thuộc các giá trị cho phép {sorted(allowed)}")
        return str(value)
    if kind in {"checklist", "taglist"}:
        items = value if isinstance(value, list) else [value]
        if allowed is not None and not {str(v) for v in items} <= allowed:
            raise ValueError(f"các giá trị phải thuộc {sorted(allowed)}")
        return [str(v) for v in items]
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        if str(value).lower() in {"true", "on", "1", "yes"}:
            return True
        if str(value).lower() in {"false", "off", "0", "no"}:
            return False
        raise ValueError("phải là có hoặc không")
    if kind == "datetime":
        text = str(value)
        try:
            (date if len(text) <= 10 else datetime).fromisoformat(text)
        except ValueError:
            raise ValueError("phải là một ngày (YYYY-MM-DD)") from None
        return text
    return value
