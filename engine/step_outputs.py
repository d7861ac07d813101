"""The case file: what each step submitted, kept whole and never changed (the legal record of the step).

`Case.data` (the workflow's data, which gateways and scripts read) is still merged from every step, and there
the LATEST completion wins for a field name two steps share: the province's `so_van_ban` replaces the
commune's there. The commune's number stays in its own `StepOutput` row, which this module inserts once when
the step completes and nothing may update or delete (checked at every flush)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from engine import audit, vn_numbers
from engine.calendar import VN_TZ
from engine.forms import fields
from engine.models import Case, Document, StepOutput, User, WorkItem


class ImmutableRecord(RuntimeError):
    """Code tried to change or delete a step's record; a programming error, never a user's."""


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, StepOutput) and (obj in session.deleted or session.is_modified(obj)):
            raise ImmutableRecord(f"step output {obj.id} is a legal record and cannot be changed")


_sha_of: dict[int, tuple[dict, str]] = {}  # id(schema) -> (schema, hash): schemas of cached process versions


def form_sha256(schema: dict | None) -> str | None:
    if schema is None:
        return None
    # The schemas come from the process-version cache and never change, so each is hashed once; the schema is
    # kept in the entry so its id cannot be reused by another object.
    hit = _sha_of.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    digest = hashlib.sha256(json.dumps(schema, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    if len(_sha_of) < 10_000:
        _sha_of[id(schema)] = (schema, digest)
    return digest


def record(session: Session, case: Case, item: WorkItem, user: User, clean: dict, schema: dict | None,
           process_version_id: int | None, now: datetime) -> None:
    """Keep what this completion submitted (called once, by engine.cases.complete_task). A Core INSERT, held
    with the step's events (engine.audit.batched): the row is append-only, so it needs none of the ORM's change
    tracking (updates and deletes of loaded rows are still refused by _append_only)."""
    row = {
        "case_id": case.id, "work_item_id": item.id, "step_bpmn_id": item.task_bpmn_id, "step": item.name,
        "form": item.form, "form_sha256": form_sha256(schema), "process_version_id": process_version_id,
        "unit_id": item.unit_id, "role_code": item.role_code, "completed_by_id": user.id, "completed_at": now,
        "timing": item.timing, "data": json.loads(json.dumps(clean, default=str))}
    if not audit.hold_output(session, row):  # within a step it goes in with the step's events (engine.audit)
        session.connection().execute(_INSERT, row)


_INSERT = insert(StepOutput.__table__)  # built once, like the other statements of the hot path


def for_case(session: Session, case: Case) -> list[StepOutput]:
    return list(session.scalars(select(StepOutput).where(StepOutput.case_id == case.id)
                                .order_by(StepOutput.completed_at, StepOutput.id)))


# --- reading the case file ------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    value: str


@dataclass
class StepFile:
    """One step of the case file as people read it: labelled, formatted rows and the step's documents."""

    output: StepOutput
    rows: list[Row] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)


def _date(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) <= 10:
        return moment.strftime("%d/%m/%Y")
    if moment.tzinfo is not None:
        moment = moment.astimezone(VN_TZ)
    return moment.strftime("%H:%M %d/%m/%Y")


def format_value(comp: dict | None, value: Any) -> str:
    """A value as the form's reader expects it: dd/mm/yyyy, 1.800.000 đ, a choice by its label, Có/Không."""
    if value is None or value == "" or value == []:
        return "—"
    kind = (comp or {}).get("type")
    labels = {str(v.get("value")): str(v.get("label") or v.get("value")) for v in (comp or {}).get("values") or []}
    if kind == "number" or (comp is None and isinstance(value, int | float) and not isinstance(value, bool)):
        label = str((comp or {}).get("label") or "").lower()
        money = "đồng" in label or (comp or {}).get("appearance", {}).get("suffixAdorner") in ("đ", "đồng")
        return vn_numbers.fmt(value, money=money)
    if kind == "checkbox" or isinstance(value, bool):
        return "Có" if value in (True, "true") else "Không"
    if kind == "datetime":
        return _date(str(value))
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    if labels:
        return labels.get(str(value), str(value))
    return str(value)


def rows_for(schema: dict | None, data: dict) -> list[Row]:
    """Labelled rows in the form's order; fields the form does not name follow (with their key as label)."""
    comps = {c["key"]: c for c in fields(schema or {})}
    out = [Row(k, str(c.get("label") or k), format_value(c, data[k])) for k, c in comps.items() if k in data]
    out += [Row(k, "Ý kiến" if k == "comment" else k, format_value(None, v))
            for k, v in data.items() if k not in comps]
    return out


def case_file(session: Session, case: Case, forms: dict[str, dict]) -> list[StepFile]:
    """Every completed step of the case with its formatted rows and documents, in order of completion."""
    outputs = for_case(session, case)
    docs: dict[int, list[Document]] = {}
    for doc in session.scalars(select(Document).where(Document.case_id == case.id,
                                                      Document.work_item_id.is_not(None)).order_by(Document.id)):
        docs.setdefault(doc.work_item_id, []).append(doc)
    return [StepFile(o, rows_for(forms.get(o.form) if o.form else None, o.data or {}), docs.get(o.work_item_id, []))
            for o in outputs]


# --- prefill -----------------------------------------------------------------------------------------


def _prefill_rules(schema: dict | None, node: dict | None) -> dict[str, list[str]]:
    """field → ["step_id.field", …] from the form (`"prefill"` on a component) and the diagram (a step's
    `prefill` property "so_tien=district_appraise.muc_de_xuat; …"); the diagram's rule wins."""
    rules: dict[str, list[str]] = {}
    for comp in fields(schema or {}):
        source = comp.get("prefill")
        if source:
            rules[comp["key"]] = [source] if isinstance(source, str) else [str(s) for s in source]
    for part in str((node or {}).get("prefill") or "").split(";"):
        target, sep, source = part.partition("=")
        if sep and target.strip() and source.strip():
            rules[target.strip()] = [s.strip() for s in source.split(",") if s.strip()]
    return rules


def prefill(session: Session, case: Case, schema: dict | None, node: dict | None) -> dict[str, Any]:
    """Starting values for a step's form from earlier steps' records (the latest completion of that step)."""
    rules = _prefill_rules(schema, node)
    if not rules:
        return {}
    latest: dict[str, dict] = {}
    for out in for_case(session, case):
        latest[out.step_bpmn_id] = out.data or {}
    values: dict[str, Any] = {}
    for target, sources in rules.items():
        for source in sources:
            step, _sep, key = source.partition(".")
            value = latest.get(step, {}).get(key)
            if value not in (None, "", []):
                values[target] = value
                break
    return values
