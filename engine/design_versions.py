"""What the designer lists: every procedure with its deployed versions (who, when, cases on each) and
its draft, and one version or the latest by number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import deploy as deploy_service
from engine import inputs
from engine.design_access import parse_xml
from engine.errors import NotFound
from engine.models import Case, Procedure, ProcessDraft, ProcessVersion, User


@dataclass
class VersionInfo:
    version: int
    process_id: str
    deployed_at: datetime
    deployed_by: str | None
    deployed_by_name: str | None
    cases: int
    warnings: int
    sha256: str

    def as_json(self) -> dict:
        return {"version": self.version, "process_id": self.process_id, "deployed_at": self.deployed_at.isoformat(),
                "deployed_by": self.deployed_by, "cases": self.cases, "warnings": self.warnings}


@dataclass
class ProcedureInfo:
    code: str
    name: str
    versions: list[VersionInfo] = field(default_factory=list)
    draft_updated_at: datetime | None = None
    draft_updated_by: str | None = None

    @property
    def latest(self) -> VersionInfo | None:
        return self.versions[-1] if self.versions else None

    @property
    def has_draft(self) -> bool:
        return self.draft_updated_at is not None


def _case_counts(session: Session) -> dict[int, int]:
    """Cases per process version, in one GROUP BY."""
    rows = session.execute(select(Case.process_version_id, func.count())
                           .where(Case.process_version_id.is_not(None)).group_by(Case.process_version_id))
    return {vid: n for vid, n in rows}


def list_procedures(session: Session) -> list[ProcedureInfo]:
    """Every procedure with its versions (oldest first), who deployed each and when, cases per version,
    and drafts — including drafts of procedures that have never been deployed."""
    counts = _case_counts(session)
    users = {u.id: u for u in session.scalars(select(User).where(
        User.id.in_(select(ProcessVersion.deployed_by_id).union(select(ProcessDraft.updated_by_id)))))}
    out: dict[str, ProcedureInfo] = {}
    for proc in session.scalars(select(Procedure).order_by(Procedure.code)):
        out[proc.code] = ProcedureInfo(proc.code, proc.name)
    rows = session.execute(select(ProcessVersion.id, ProcessVersion.version, ProcessVersion.process_id,
                                  ProcessVersion.deployed_at, ProcessVersion.deployed_by_id, ProcessVersion.warnings,
                                  ProcessVersion.bpmn_sha256, Procedure.code)
                           .join(Procedure, Procedure.id == ProcessVersion.procedure_id)
                           .order_by(Procedure.code, ProcessVersion.version))
    for vid, version, pid, at, by, warnings, sha, code in rows:
        user = users.get(by)
        out[code].versions.append(VersionInfo(version, pid, at, user.username if user else None,
                                              user.full_name if user else None, counts.get(vid, 0),
                                              len(warnings or []), sha))
    for draft in session.scalars(select(ProcessDraft)):
        info = out.setdefault(draft.procedure_code, ProcedureInfo(draft.procedure_code, _draft_name(draft)))
        info.draft_updated_at = draft.updated_at
        user = users.get(draft.updated_by_id)
        info.draft_updated_by = user.username if user else None
    return sorted(out.values(), key=lambda p: p.code)


def _draft_name(draft: ProcessDraft) -> str:
    try:
        root = parse_xml(draft.bpmn_xml.encode("utf-8"))
        proc = root.find("bpmn:process", deploy_service.NS)
        return (proc.get("name") if proc is not None else None) or draft.procedure_code
    except etree.XMLSyntaxError:
        return draft.procedure_code


def procedure_versions(session: Session, code: str) -> ProcedureInfo:
    for info in list_procedures(session):
        if info.code == code:
            return info
    raise NotFound.of("design_procedure_missing", code=code)


def get_version(session: Session, code: str, version: int) -> ProcessVersion:
    version = inputs.integer("version", version, ProcessVersion.version, low=1)  # type: ignore[assignment]
    pv = session.scalar(select(ProcessVersion).join(Procedure, Procedure.id == ProcessVersion.procedure_id)
                        .where(Procedure.code == code, ProcessVersion.version == version))
    if pv is None:
        raise NotFound.of("procedure_version_not_found", code=code, version=version)
    return pv


def latest(session: Session, code: str) -> ProcessVersion | None:
    proc = session.scalar(select(Procedure).where(Procedure.code == code))
    return deploy_service.latest_version(session, proc.id) if proc is not None else None


def get_draft(session: Session, code: str) -> ProcessDraft | None:
    return session.scalar(select(ProcessDraft).where(ProcessDraft.procedure_code == code))
