"""The procedure catalog shipped in processes/ (one TOML file per procedure, forms in processes/forms/)
and its BPMN in bpmn/, read as package data (engine/shipped, see engine/resources.py). Loading it deploys a
new process version only when a diagram changed."""

from __future__ import annotations

import hashlib
import json
import tomllib
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import procedure_codes
from engine.deadlines import parse_cutoff
from engine.deploy import deploy, latest_version
from engine.errors import Invalid
from engine.models import Procedure
from engine.resources import shipped

CATALOG_KEYS = ("field", "level", "fee", "online_level", "legal_basis", "where_to_submit", "description",
                "documents", "bpmn", "national_code", "cutoff", "time_limits")


def load_forms(root: Path | None = None) -> dict[str, dict]:
    """Form name (file stem without .form) -> form-js schema."""
    root = root or shipped()
    forms = {}
    for path in sorted((root / "processes" / "forms").glob("*.form.json")):
        forms[path.name.removesuffix(".form.json")] = json.loads(path.read_text(encoding="utf-8"))
    return forms


def read_entries(root: Path | None = None) -> list[dict]:
    root = root or shipped()
    entries = []
    for path in sorted((root / "processes").glob("*.toml")):
        with path.open("rb") as fh:
            entry = tomllib.load(fh)
        entry["_file"] = str(path.relative_to(root))
        entries.append(entry)
    return entries


def load_catalog(session: Session, root: Path | None = None) -> list[str]:
    """Upsert every catalog entry and deploy its diagram when new or changed; returns what it did."""
    root = root or shipped()
    forms = load_forms(root)
    done = []
    for entry in read_entries(root):
        code = entry["code"]
        try:
            procedure_codes.check_code(code, "code")
            procedure_codes.check_national_code(entry.get("national_code"))
            try:
                parse_cutoff(entry.get("cutoff"))
            except ValueError as e:
                raise Invalid.of("catalog_cutoff", value=repr(entry.get("cutoff")),
                                 details={"cutoff": entry.get("cutoff")}) from e
        except Invalid as e:
            raise Invalid.of("file_error", file=entry["_file"], error=e.message, details=e.details) from e
        catalog = {k: entry[k] for k in CATALOG_KEYS if k in entry}
        proc = session.scalar(select(Procedure).where(Procedure.code == code))
        if proc is not None:
            proc.name, proc.field = entry["name"], entry.get("field", "")
            proc.level_code, proc.catalog = entry.get("level"), catalog
            proc.deadline_days = Decimal(str(entry["deadline_days"]))
        bpmn_path = root / entry["bpmn"]
        xml = bpmn_path.read_bytes()
        latest = latest_version(session, proc.id) if proc is not None else None
        sha = hashlib.sha256(xml).hexdigest()
        if latest is not None and latest.bpmn_sha256 == sha:
            done.append(f"{code}: up to date (version {latest.version})")
            continue
        if proc is not None and _has_version(session, proc.id, sha):
            # A later version was deployed on purpose (the designer, a restructuring): the shipped file
            # is an older version already deployed, not a change, so it does not come back on top.
            done.append(f"{code}: shipped diagram already deployed; newest is version {latest.version}")
            continue
        try:
            pv = deploy(session, xml, entry["bpmn"], forms=forms, procedure_code=code,
                        catalog={"code": code, "name": entry["name"], **catalog})
        except Invalid as e:
            raise Invalid.of("file_error", file=entry["_file"], error=e.message, details=e.details) from e
        done.append(f"{code}: deployed version {pv.version}")
    return done


def _has_version(session: Session, procedure_id: int, sha: str) -> bool:
    from engine.models import ProcessVersion

    return session.scalar(select(ProcessVersion.id).where(ProcessVersion.procedure_id == procedure_id,
                                                          ProcessVersion.bpmn_sha256 == sha).limit(1)) is not None
