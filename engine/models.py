"""The tables. One case row is the unit of consistency: its workflow state, work items, due dates and
audit events change together in one transaction guarded by `Case.version`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from engine.folding import case_search_text


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no tz support) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; engine code must use aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
# 64-bit ids on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer, "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- Organisation -------------------------------------------------------------------------------


class Level(Base):
    """Org level — cấp (province/tỉnh, district/huyện, commune/xã). Levels are data; rank 1 is the top."""

    __tablename__ = "levels"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(Integer)


class Role(Base):
    """Role — vai trò (clerk/cán bộ một cửa, specialist/chuyên viên, head/lãnh đạo phòng, …)."""

    __tablename__ = "roles"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # What holding the role lets one do; behaviour reads these, never the role's code, so a province may
    # name its roles as it likes (engine.org.CAPABILITIES).
    receives_dossiers: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    escalation_target: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reads_reports: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    designs: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    releases_claims: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Unit(Base):
    """Org unit — đơn vị. `path` is the materialised chain of ids ("/1/4/9/") for subtree queries."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    level_code: Mapped[str] = mapped_column(ForeignKey("levels.code"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    agency_code: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500), index=True, default="/")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])
    level: Mapped[Level] = relationship(lazy="joined")

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this unit, inclusive."""
        return [int(x) for x in self.path.strip("/").split("/") if x]


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(lazy="joined")
    role_links: Mapped[list[UserRole]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def roles(self) -> set[str]:
        return {r.role_code for r in self.role_links}

    def has_role(self, *codes: str) -> bool:
        return bool(self.roles.intersection(codes))

    def can(self, capability: str) -> bool:
        """Whether one of the user's roles has `capability` (a boolean column of Role)."""
        return any(bool(getattr(link.role, capability)) for link in self.role_links)


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_code: Mapped[str] = mapped_column(ForeignKey("roles.code"), primary_key=True)

    role: Mapped[Role] = relationship(lazy="joined")


class ApiToken(Base):
    """Bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # NULL for tokens issued before expiry existed: they count from created_at (MOTCUA_TOKEN_DAYS).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(Base):
    """A signed-in browser. The cookie carries a random key whose SHA-256 is stored here; logout deletes the
    row, so a cookie copied before logout no longer opens anything."""

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- Catalog and process versions ---------------------------------------------------------------


class Procedure(Base):
    """Administrative procedure — thủ tục hành chính, as published in the catalog (processes/*.toml)."""

    __tablename__ = "procedures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    field: Mapped[str] = mapped_column(String(200), default="", index=True)
    level_code: Mapped[str | None] = mapped_column(String(32))
    deadline_days: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    catalog: Mapped[dict] = mapped_column(JSONType, default=dict)  # documents, fee, legal basis, …
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def documents(self) -> list[dict]:
        return list(self.catalog.get("documents", []))


class ProcessVersion(Base):
    """An immutable deployed version of a procedure's BPMN. The Spiff spec is stored here once."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("procedure_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    process_id: Mapped[str] = mapped_column(String(200))
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)  # large: read only when asked for
    bpmn_sha256: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    # Per flow-node metadata read from the diagram: lane level/role, deadline_days, form, status_code…
    nodes: Mapped[dict] = mapped_column(JSONType, default=dict)
    forms: Mapped[dict] = mapped_column(JSONType, default=dict)  # form name -> form-js schema
    deadline_days: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    warnings: Mapped[list] = mapped_column(JSONType, default=list)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    procedure: Mapped[Procedure] = relationship(lazy="joined")


# --- Cases ---------------------------------------------------------------------------------------


class Case(Base):
    """A dossier — hồ sơ. `status_code` follows the national portal (1–10)."""

    __tablename__ = "cases"
    # Substring search without diacritics: a trigram GIN index on PostgreSQL (LIKE '%…%' uses it), a plain
    # index on SQLite (scanned instead of the table). Migration 0014_notify.
    # ix_cases_resolved_month: the on-time rate per month of /reports reads the year's resolved cases off the
    # index alone (migration 0016_reports13).
    __table_args__ = (Index("ix_cases_search_text", "search_text", postgresql_using="gin",
                            postgresql_ops={"search_text": "gin_trgm_ops"}),
                      Index("ix_cases_resolved_month", "resolved_at", "timing", "receiving_unit_id", "procedure_id"))
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    lookup_secret: Mapped[str] = mapped_column(String(16))
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    process_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id"), index=True)
    receiving_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # The unit competent to decide (NĐ 118/2025: received anywhere, decided by competence); lanes resolve from
    # its path. NULL: the receiving unit is competent (every case before the 2025 regime).
    competent_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Where the applicant collects the result: desk (the receiving desk), post or online.
    return_channel: Mapped[str | None] = mapped_column(String(16))
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    current_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    channel: Mapped[str] = mapped_column(String(16))  # desk | post | online
    status_code: Mapped[int] = mapped_column(Integer, index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_id_number: Mapped[str] = mapped_column(String(32), default="")
    applicant_address: Mapped[str] = mapped_column(String(500), default="")
    applicant_phone: Mapped[str] = mapped_column(String(32), default="")
    applicant_email: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    # SpiffWorkflow state without the spec (~6 KB): deferred so lists and inboxes never load it; the engine
    # reads it with undefer() where it runs the workflow.
    state: Mapped[str | None] = mapped_column(Text, deferred=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    original_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timing: Mapped[str | None] = mapped_column(String(16))  # early | on_time | late
    result: Mapped[str | None] = mapped_column(String(16))  # approved | refused
    supplement_count: Mapped[int] = mapped_column(Integer, default=0)
    apology_count: Mapped[int] = mapped_column(Integer, default=0)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    error: Mapped[str | None] = mapped_column(Text)  # e.g. an unroutable step, shown to the owner
    # Số thứ tự in the receiving unit's Sổ theo dõi hồ sơ of the year of receipt (engine.ledger): given once
    # at reception, so the receipt (Mẫu 01) and the ledger (Mẫu 06) print the same number forever.
    ledger_number: Mapped[int | None] = mapped_column(Integer)
    intake_note: Mapped[str | None] = mapped_column(Text)  # reason for refusal / what is missing
    # An incomplete dossier (Mẫu 02, never received) points to the case the desk received when the applicant
    # came back with what was missing (engine.supplements); NULL while it still waits for them.
    supplemented_by_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Code, applicant name and ID number and the procedure's name folded (engine.folding) for search without
    # diacritics; kept by _keep_search_text on every ORM write; indexed (GIN trigram on PostgreSQL).
    search_text: Mapped[str | None] = mapped_column(Text)

    procedure: Mapped[Procedure] = relationship(lazy="joined")
    receiving_unit: Mapped[Unit] = relationship(foreign_keys=[receiving_unit_id], lazy="joined")
    competent_unit: Mapped[Unit | None] = relationship(foreign_keys=[competent_unit_id])
    current_unit: Mapped[Unit | None] = relationship(foreign_keys=[current_unit_id])
    process_version: Mapped[ProcessVersion | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


_SEARCHED = ("code", "applicant_name", "applicant_id_number", "procedure_id")


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _keep_search_text(_mapper: Any, connection: Any, case: Case) -> None:
    """Refold `search_text` whenever what it is made of changes, whoever writes the case through the ORM.
    Reads the procedure's name on the flush's own connection (no session work inside a flush)."""
    state = inspect(case)
    if state.dict.get("search_text") is not None and not any(
            state.attrs[a].history.has_changes() for a in _SEARCHED):
        return
    known = getattr(case, "known_procedure_name", None)  # (procedure id, name), set by reception
    name = known[1] if known and known[0] == case.procedure_id else connection.scalar(
        select(Procedure.name).where(Procedure.id == case.procedure_id))
    case.search_text = case_search_text(case.code, case.applicant_name, case.applicant_id_number, name)


class CaseSequence(Base):
    """Per-agency, per-day counter behind the XXXX of `<agency>-YYMMDD-XXXX`."""

    __tablename__ = "case_sequences"
    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class AgencyCode(Base):
    """A unit's agency e-ID code from a date (QĐ 20/2020 as amended by QĐ 09/2025): codes were re-issued after
    the 2025 restructuring. Case codes use the code valid on the day of receipt; old codes keep resolving."""

    __tablename__ = "agency_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    __table_args__ = (UniqueConstraint("unit_id", "valid_from"),)


class LedgerSequence(Base):
    """The last number given in a receiving unit's ledger book of a year."""

    __tablename__ = "ledger_sequences"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class WorkItem(Base):
    """A READY user task projected into an indexed row: the inbox and the scheduler read these."""

    __tablename__ = "work_items"
    __table_args__ = (
        Index("ix_work_items_inbox", "unit_id", "role_code", "state", "due_at", "id"),
        Index("ix_work_items_due", "state", "due_at"),
        Index("ix_work_items_remind", "state", "remind_at"),
        # The per-step table of /reports (engine.report_figures.steps): each (unit, step)'s completions in a
        # period are one range of it, read without the table (migration 0016_reports13).
        Index("ix_work_items_steps", "unit_id", "name", "completed_at", "created_at", "timing",
              postgresql_where=text("state = 'completed'"), sqlite_where=text("state = 'completed'")),
    )
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36))
    task_bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role_code: Mapped[str] = mapped_column(String(32))
    level_code: Mapped[str] = mapped_column(String(32))
    form: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | completed | cancelled
    supplement: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # reports by period
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(64))
    timing: Mapped[str | None] = mapped_column(String(16))

    case: Mapped[Case] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])


class Event(Base):
    """Append-only audit event. Handover rows are the Phiếu kiểm soát (Mẫu 05); reports derive from these."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind_at", "kind", "at"),)
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    step: Mapped[str | None] = mapped_column(String(300))
    step_bpmn_id: Mapped[str | None] = mapped_column(String(200))
    step_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timing: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)

    actor: Mapped[User | None] = relationship(lazy="joined")
    from_unit: Mapped[Unit | None] = relationship(foreign_keys=[from_unit_id], lazy="joined")
    to_unit: Mapped[Unit | None] = relationship(foreign_keys=[to_unit_id], lazy="joined")


class Document(Base):
    """An attached scan, stored under the instance path (outside the web root) with its checksum."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    doc_code: Mapped[str | None] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Attached at a step (engine.step_documents); None for reception scans. `is_result`: kết quả giải quyết,
    # offered to the applicant once the case is returned.
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"), index=True)
    is_result: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StepOutput(Base):
    """What one completion submitted, kept whole: the legal record of that step (engine.step_outputs).
    Append-only — inserted once when the step completes, never updated or deleted."""

    __tablename__ = "step_outputs"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), unique=True)
    step_bpmn_id: Mapped[str] = mapped_column(String(200))
    step: Mapped[str] = mapped_column(String(300))
    form: Mapped[str | None] = mapped_column(String(200))
    form_sha256: Mapped[str | None] = mapped_column(String(64))  # the form's exact version (its schema's hash)
    process_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    role_code: Mapped[str] = mapped_column(String(32))
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timing: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)

    unit: Mapped[Unit] = relationship(lazy="joined")
    completed_by: Mapped[User | None] = relationship(lazy="joined")


# --- Time, scheduler, notifications, ratings ----------------------------------------------------


class CalendarOverride(Base):
    """An admin's change to the working-day calendar: a day off, or a weekend made a working day."""

    __tablename__ = "calendar_overrides"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(300))


class ReferenceVersion(Base):
    """One row (id 1) whose token database triggers change on every write to the organisation, the calendar
    overrides and the partners (migration 0014_perf), users' unit, activity and name, their roles, delegations,
    procedures and process versions (0015_perf13): engine.reference caches those tables under it."""

    __tablename__ = "reference_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)


class SchedulerLease(Base):
    """The single-active-scheduler lease: whoever holds an unexpired row sweeps."""

    __tablename__ = "scheduler_leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str | None] = mapped_column(String(200))  # applicant notices have no user
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the outbox's "sent at"
    # The e-mail outbox (engine.notifications.send_outbox): due when next_attempt_at has passed and the
    # mail is not sent; attempts and the last SMTP error explain a mail that keeps failing.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)

    @property
    def sent_at(self) -> datetime | None:
        return self.emailed_at


class Rating(Base):
    """Citizen's satisfaction rating (Thông tư 01/2018, Điều 13)."""

    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    scores: Mapped[dict] = mapped_column(JSONType, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- Process designer ----------------------------------------------------------------------------


class ProcessDraft(Base):
    """The designer's work in progress for a procedure: one draft per procedure, overwritten on save.
    `procedure_code` is not a foreign key because a new procedure has a draft before its first deploy."""

    __tablename__ = "process_drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(100), unique=True)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict] = mapped_column(JSONType, default=dict)  # form name -> form-js schema
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- Restructuring (engine.restructure, engine.unit_history) -------------------------------------


class UnitName(Base):
    """A unit's name and agency code while they were in force: [valid_from, valid_to). Pages, slips, the
    ledger and reports show the name a unit had when the event happened."""

    __tablename__ = "unit_names"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    agency_code: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NULL: since the unit existed
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)


class UnitSuccessor(Base):
    """Predecessor → successor from `effective` on (a merge, or a unit whose level was abolished)."""

    __tablename__ = "unit_successors"
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    effective: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))  # merge | abolish


class LevelAlias(Base):
    """A level that no longer exists: lanes naming it resolve to `work_to` (a level code, or "commune" for
    the case's own commune) — old diagrams keep running."""

    __tablename__ = "level_aliases"
    level_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    work_to: Mapped[str] = mapped_column(String(32))
    effective: Mapped[datetime] = mapped_column(UTCDateTime)


class RestructureRun(Base):
    """One plan being applied: the organisation step and the cases done so far (resumable, idempotent)."""

    __tablename__ = "restructure_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    plan: Mapped[dict] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="running")  # running | done
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cases_done: Mapped[int] = mapped_column(Integer, default=0)
# --- Liên thông: other agencies' systems -----------------------------------------------------------


class Partner(Base):
    """Another agency's system (or the national portal) this instance exchanges signed messages with.
    `key` is the partner's Standard Webhooks secret: it verifies what the partner signs."""

    __tablename__ = "partners"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16), default="system")  # system | portal
    key: Mapped[str] = mapped_column(String(200))
    unit_code: Mapped[str | None] = mapped_column(String(64))  # where its messages create cases
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(Base):
    """A message to a partner, written in the transaction of the step that sends it; the dispatcher delivers
    it later. Per (partner, case) messages go out in `id` order, one at a time."""

    __tablename__ = "lienthong_outbox"
    __table_args__ = (Index("ix_lienthong_outbox_due", "state", "next_attempt_at"),
                      Index("ix_lienthong_outbox_case", "partner_code", "case_id", "state", "id"))
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    partner_code: Mapped[str] = mapped_column(ForeignKey("partners.code"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    message: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | incident
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # machine deadline missed, staff told


class InboxMessage(Base):
    """A message received from a partner, stored once per message id before it is acknowledged."""

    __tablename__ = "lienthong_inbox"
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(100))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[dict] = mapped_column(JSONType, default=dict)


class CaseLink(Base):
    """A case created here by a partner's message, linked to the origin system's case (correlation)."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("origin_system", "origin_case_code", "message"),)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    origin_system: Mapped[str] = mapped_column(String(64))
    origin_case_code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(100))


# --- Officials' everyday work: assignment, deputies, comments ----------------------------------------


class Assignment(Base):
    """Phân công: a head gave an open step to a specialist of the unit (the step's claim is set to them).
    Append-only: a reassignment is a new row, so the latest row of a step is the one in force."""

    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    target: Mapped[date | None] = mapped_column(Date)  # internal target day, never after the step's due day
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    assignee: Mapped[User] = relationship(foreign_keys=[assignee_id], lazy="joined")
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id], lazy="joined")


class Delegation(Base):
    """Ủy quyền: `deputy` acts for `delegator` (same unit) from `starts` to `until` (local days, inclusive),
    for the listed procedure codes or all when the list is empty. Revoking stamps `revoked_at`."""

    __tablename__ = "delegations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    starts: Mapped[date] = mapped_column(Date)
    until: Mapped[date] = mapped_column(Date)
    procedures: Mapped[list] = mapped_column(JSONType, default=list)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    delegator: Mapped[User] = relationship(foreign_keys=[delegator_id], lazy="joined")
    deputy: Mapped[User] = relationship(foreign_keys=[deputy_id], lazy="joined")


class CaseComment(Base):
    """Trao đổi: an official's note on a case, for colleagues; never part of the legal slips."""

    __tablename__ = "case_comments"
    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list] = mapped_column(JSONType, default=list)  # usernames
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship(lazy="joined")


class SavedView(Base):
    """A named filter of the inbox or the case search, private to its owner or shared with the owner's unit."""

    __tablename__ = "saved_views"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # inbox | cases
    name: Mapped[str] = mapped_column(String(100))
    filters: Mapped[dict] = mapped_column(JSONType, default=dict)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User] = relationship(lazy="joined")


class FollowUp(Base):
    """Nhắc lại: an official's own reminder on a step; the sweep puts it in their bell when `at` comes."""

    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("user_id", "work_item_id"), Index("ix_follow_ups_due", "notified_at", "at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StepWarning(Base):
    """Cảnh báo sớm: a step reached `threshold` per cent of its time; one row per step and threshold, so each
    warning reaches the bell once (inserted with ON CONFLICT DO NOTHING by any number of sweeps)."""

    __tablename__ = "step_warnings"
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
