"""`motcua demo restructure-2025`: the shipped 2025 plan on the demo province — districts abolished (their
steps go to the province), the two communes of each district merged, the Sở renamed — then `ncc_mai_tang`
version 2 (xã → tỉnh) deployed beside version 1 and its open cases moved onto it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import catalog, migrate_cases, restructure
from engine.db import Database
from engine.deploy import deploy
from engine.models import Procedure, ProcessVersion, User
from engine.resources import shipped
from engine.restructure_plan import Plan, parse_toml

FOLDER = ("bpmn", "restructure-2025")
PROCEDURE = "ncc_mai_tang"
V2_FILE = "ncc_mai_tang.v2.bpmn"
# The district's appraisal is the province's first step in the two-level diagram.
MAPPING = {"district_appraise": "province_review"}


def plan() -> Plan:
    return parse_toml(shipped(*FOLDER, "plan.toml").read_bytes())


def v2_xml() -> bytes:
    return shipped(*FOLDER, V2_FILE).read_bytes()


@dataclass
class DemoResult:
    preview: dict[str, Any]
    applied: restructure.ApplyResult | None
    version: int | None
    migration: dict[str, Any] | None


def _deployed_v2(s: Any) -> ProcessVersion | None:
    sha = hashlib.sha256(v2_xml()).hexdigest()
    return s.scalar(select(ProcessVersion).join(Procedure).where(Procedure.code == PROCEDURE,
                                                                 ProcessVersion.bpmn_sha256 == sha))


def run(database: Database, dry_run: bool = False, by: str = "admin", now: datetime | None = None) -> DemoResult:
    """Preview only (`dry_run`), or apply the plan, deploy v2 once and migrate; running it again changes
    nothing."""
    the_plan = plan()
    with database.session() as s:
        preview = restructure.preview(s, the_plan).as_dict()
        existing = _deployed_v2(s)
        migration = None
        if existing is not None:
            migration = migrate_cases.preview(s, PROCEDURE, existing.version, None, MAPPING).as_dict()
    if dry_run:
        return DemoResult(preview, None, existing.version if existing else None, migration)
    applied = restructure.apply(database, the_plan, by=by, now=now)
    with database.transaction() as s:
        pv = _deployed_v2(s)
        if pv is None:
            user = s.scalar(select(User).where(User.username == by))
            pv = deploy(s, v2_xml(), V2_FILE, forms=catalog.load_forms(), procedure_code=PROCEDURE, user=user)
        version = pv.version
    with database.transaction() as s:
        user = s.scalar(select(User).where(User.username == by))
        migration = migrate_cases.migrate(s, user, PROCEDURE, version, None, MAPPING, now=now).as_dict()
    return DemoResult(preview, applied, version, migration)
