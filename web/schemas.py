"""The shapes of the JSON API /api/v1, declared once (pydantic v2): web.contract validates requests with
them and generates /api/v1/openapi.json from them. Shapes only: business rules (a procedure that exists, a
date in the future, a form's required fields) stay in engine/ and answer 422 `invalid`, 404 or 409.

Request strings carry the column's length and refuse NUL, which PostgreSQL cannot store: both backends
answer the same 422 before the engine runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints, create_model

from engine.inputs import REASON_MAX
from engine.procedure_codes import CODE_RE, NATIONAL_CODE_PATTERN
from engine.reports import DRILL_ONLY, FIGURES, GROUPS

# No control characters but tab and line breaks (engine.inputs refuses those too, by field): the document says
# so, and a body with several bad fields is answered with all of them at once.
NO_NUL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
DB_ID_MAX = 2**31 - 1  # ids are 32-bit columns (see web.DatabaseId)


def text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL)]


DateTimeText = Annotated[str, StringConstraints(max_length=64, pattern=NO_NUL),
                         Field(json_schema_extra={"format": "date-time"})]
DateText = Annotated[str, StringConstraints(max_length=32, pattern=NO_NUL),
                     Field(json_schema_extra={"format": "date"})]
DbId = Annotated[int, Field(ge=0, le=DB_ID_MAX)]


# --- errors ---------------------------------------------------------------------------------------

class Error(BaseModel):
    """Every error: a machine code, a message for people, and what was wrong where (field → problem)."""

    error: str
    message: str
    details: Any = None
    code: str | None = Field(None, description="what went wrong, by a stable code (engine/error_texts.py)")
    params: dict[str, Any] | None = Field(None, description="the values the message names")


class Problem(BaseModel):
    file: str
    line: int | None
    element_id: str
    message: str


class DeployRejected(Error):
    """A deploy refused: the error, plus the validation's problems when the diagram itself is wrong."""

    valid: bool | None = None
    problems: list[Problem] | None = None
    warnings: list[Problem] | None = None


# --- catalog, cases, tasks -----------------------------------------------------------------------

class ProcedureOut(BaseModel):
    code: str
    national_code: str | None = None
    name: str
    field: str
    level: str | None
    deadline_days: float
    documents: list[Any]
    version: int | None


class Procedures(RootModel[list[ProcedureOut]]):
    pass


class Task(BaseModel):
    id: int
    case_code: str
    name: str
    step: str
    unit: str
    unit_name: str
    level: str
    role: str
    state: str
    form: str | None
    due_at: datetime | None
    created_at: datetime | None
    claimed_by: str | None
    procedure: str


class Event(BaseModel):
    kind: str
    at: datetime | None
    actor: str | None
    from_unit: str | None
    to_unit: str | None
    step: str | None
    step_due_at: datetime | None
    timing: str | None
    data: dict[str, Any] | None


class CaseBrief(BaseModel):
    code: str
    procedure: str
    status_code: int
    status: str
    channel: str
    receiving_unit: str
    competent_unit: str | None = None
    return_channel: str | None = None
    current_unit: str | None
    received_at: datetime | None
    due_at: datetime | None
    original_due_at: datetime | None
    resolved_at: datetime | None
    returned_at: datetime | None
    timing: str | None
    result: str | None
    supplement_count: int
    error: str | None
    process_version: int | None
    tasks: list[Task]


class ApplicantOut(BaseModel):
    name: str
    id_number: str | None
    address: str | None
    phone: str | None
    email: str | None


class StepDocument(BaseModel):
    id: int
    name: str
    sha256: str
    size: int
    result: bool = Field(description="a result of the case (kết quả giải quyết), offered to the applicant")


class StepOut(BaseModel):
    """One completed step as its official submitted it (immutable): `id` is the step's task id."""

    id: int
    step: str
    bpmn_id: str
    unit: str
    role: str
    completed_by: str | None
    completed_at: datetime | None
    timing: str | None
    data: dict[str, Any]
    documents: list[StepDocument]


class CaseFull(CaseBrief):
    applicant: ApplicantOut
    data: dict[str, Any] | None = Field(description="the merged workflow data gateways read; where two steps "
                                        "fill the same field the latest completion wins (see `steps`)")
    events: list[Event]
    steps: list[StepOut]


class DocumentOut(StepDocument):
    case_code: str
    task: int | None
    content_type: str


DOCUMENT_UPLOAD = {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file", "step"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "PDF, JPEG or PNG"},
        "step": {"type": "integer", "description": "the open task (step) id the document belongs to"},
        "result": {"type": "boolean", "description": "a result of the case (kết quả giải quyết); a PDF "
                                                     "is signed by the uploader's agency unless validly signed"}}}},
}
PDF_BODY = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


class ResultDocument(BaseModel):
    id: int
    name: str
    sha256: str
    size: int
    content_type: str
    url: str = Field(description="download URL, valid for this case's lookup secret")


class PublicResults(BaseModel):
    code: str
    status: str
    documents: list[ResultDocument]


class Verification(BaseModel):
    """What a PDF's signature says: intact, who signed and when, chained to the configured trust roots."""

    ok: bool
    signed: bool
    intact: bool
    covers_whole_file: bool
    trusted: bool
    signer: str | None
    signed_at: datetime | None
    problem: str | None


class ApplicantIn(BaseModel):
    name: text(200)
    id_number: text(32) | None = None
    address: text(500) | None = None
    phone: text(32) | None = None
    email: text(200) | None = None


class NewCase(BaseModel):
    """Receive a dossier (tiếp nhận): the caller's unit is the receiving unit."""

    procedure: text(100, 1)
    applicant: ApplicantIn
    data: dict[str, Any] | None = None
    channel: Literal["desk", "post", "online"] | None = None
    received_at: DateTimeText | None = Field(None, description="ISO 8601; Vietnam time when no offset")
    competent_unit: text(64) | None = Field(None, description="code of the unit competent to decide (NĐ 118/2025); "
                                            "default: for a commune-level procedure the commune the applicant's "
                                            "address names, else the receiving unit")
    return_channel: Literal["desk", "post", "online"] | None = Field(
        None, description="where the applicant collects the result (default: the receiving desk)")
    documents: list[text(100)] | None = Field(
        None, max_length=100, description="codes of the documents received (thành phần hồ sơ of the procedure); "
        "every required one must be among them, else 422 naming documents.<code>")


class StopIn(BaseModel):
    """The applicant's request to stop the dossier (NĐ 118/2025 Điều 21), recorded by the desk."""

    reason: text(1000)


class InboxQuery(BaseModel):
    after: text(200) | None = Field(None, description="the `next` cursor of the previous page")
    limit: int = Field(50, ge=1, le=DB_ID_MAX, description="1–200 (larger is clamped to 200)")
    procedure: text(100) | None = None
    claimed: Literal["me", "none"] | None = None
    state: Literal["overdue", "due_soon", "in_time", "waiting"] | None = None
    q: text(200) | None = Field(None, description="case code, applicant name or ID number; with or without "
                                                  "diacritics (\"tran thi\" finds \"Trần Thị\")")


class TaskPage(BaseModel):
    items: list[Task]
    next: str | None


class CompleteIn(BaseModel):
    data: dict[str, Any] | None = Field(None, description="the step's form data, checked against its form")
    documents: list[DbId] | None = Field(None, description="ids of documents attached to this step that must "
                                         "be there (POST /cases/{code}/documents)")


class Completed(BaseModel):
    task: Task
    case: CaseBrief
    next: list[Task]


class PublicLookupIn(BaseModel):
    """The case's lookup secret, printed on its receipt: sent in the body, never in a URL (access logs)."""

    secret: text(16, 1)


class PublicCase(BaseModel):
    """What anyone may know about a case: its status and appointment, no personal data."""

    code: str
    status_code: int
    status: str
    due_at: datetime | None


class OpenApiDocument(RootModel[dict[str, Any]]):
    pass


# --- time: apology, notifications, calendar --------------------------------------------------------

class ApologyIn(BaseModel):
    reason: text(REASON_MAX)
    new_due_at: DateTimeText = Field(description="ISO 8601; Vietnam time when no offset")


class ApologyRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    at: datetime | None
    reason: str
    previous_due_at: datetime
    new_due_at: datetime


class ApologyOut(BaseModel):
    case: CaseBrief
    apology: ApologyRecord


class NotificationsQuery(BaseModel):
    limit: int = Field(20, ge=1, le=DB_ID_MAX, description="1–200 (larger is clamped to 200)")
    before: DbId | None = Field(None, description="only notifications with a smaller id (next page)")
    unread: Literal["0", "1"] | None = None


class NotificationOut(BaseModel):
    id: int
    kind: str
    message: str
    created_at: datetime | None
    read: bool


class Notifications(BaseModel):
    unread: int
    items: list[NotificationOut]


class UnreadCount(BaseModel):
    unread: int


class OverrideOut(BaseModel):
    day: date
    working: bool
    note: str | None


class Overrides(RootModel[list[OverrideOut]]):
    pass


class OverrideIn(BaseModel):
    working: bool = Field(strict=True)
    note: text(300) | None = None


# --- designer ----------------------------------------------------------------------------------

ProcedureCode = Annotated[str, StringConstraints(pattern=CODE_RE.pattern)]


class UploadQuery(BaseModel):
    procedure: ProcedureCode | None = Field(None, description="the procedure to deploy to (default: process id)")
    national_code: Annotated[str, StringConstraints(pattern=NATIONAL_CODE_PATTERN)] | None = Field(
        None, description="the national procedure database's code, e.g. 1.001776")
    filename: text(200) | None = Field(None, description="shown in problems (raw XML bodies)")


class Validation(BaseModel):
    valid: bool
    problems: list[Problem]
    warnings: list[Problem]


class Deployed(BaseModel):
    procedure: str
    version: int
    process_id: str
    warnings: list[Any]
    national_code: str | None = None


class VersionOut(BaseModel):
    version: int
    process_id: str
    deployed_at: datetime
    deployed_by: str | None
    cases: int
    warnings: Any


class Draft(BaseModel):
    updated_at: datetime
    updated_by: str | None


class Versions(BaseModel):
    procedure: str
    name: str
    versions: list[VersionOut]
    draft: Draft | None


class DiffQuery(BaseModel):
    from_: DbId = Field(alias="from")
    to: DbId | Literal["draft"]


class DiffOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    procedure: str
    from_: int = Field(alias="from")
    to: int | Literal["draft"]
    added: list[str]
    removed: list[str]
    changed: list[str]


BPMN_UPLOAD = {
    "application/xml": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"},
        "forms": {"type": "string", "description": "JSON: form name → form-js schema"}}}},
}
BPMN_XML = {"application/xml": {"schema": {"type": "string"}}}


# --- reports -----------------------------------------------------------------------------------

class PeriodQuery(BaseModel):
    """A period and the unit whose subtree counts: the query every report and figure shares."""

    model_config = ConfigDict(populate_by_name=True)
    # empty means the default period, as the reports page sends it
    from_: DateText | Literal[""] | None = Field(None, alias="from", description="first day, YYYY-MM-DD")
    to: DateText | Literal[""] | None = Field(None, description="last day, YYYY-MM-DD")
    unit: text(64) | None = None


class ReportQuery(PeriodQuery):
    field: text(200) | None = None
    level: text(32) | None = None


class TableQuery(ReportQuery):
    group: Literal[GROUPS] = "unit"  # type: ignore[valid-type]


class DrillQuery(ReportQuery):
    figure: Literal[FIGURES + DRILL_ONLY]  # type: ignore[valid-type]
    page: int = Field(1, ge=1, le=DB_ID_MAX)


_figures: dict[str, Any] = {name: (int, ...) for name in FIGURES}
Figures = create_model("Figures", on_time_rate=(float | None, ...), **_figures)
TableRow = create_model("TableRow", __base__=Figures, key=(str, ...), label=(str, ...))


class Table(RootModel[list[TableRow]]):  # type: ignore[valid-type]
    pass


class DrillCase(BaseModel):
    code: str
    procedure: str
    status_code: int
    received_at: datetime
    due_at: datetime | None
    timing: str | None


class DrillPage(BaseModel):
    total: int
    page: int
    pages: int
    cases: list[DrillCase]


class IncidentsQuery(BaseModel):
    limit: int = Field(500, ge=1, le=5000, description="at most this many stuck cases")


class Incident(BaseModel):
    """A case stuck on a routing error or a failing script (sự cố)."""

    code: str
    procedure: str
    receiving_unit: str
    status: str
    kind: Literal["routing", "script", "delivery"]
    error: str
    since: datetime | None
    open_steps: int


class Incidents(BaseModel):
    items: list[Incident]


class Retried(BaseModel):
    case: CaseBrief
    new_tasks: list[Task]


# --- restructuring and case migration (engine.restructure, engine.migrate_cases) -----------------------

class MergeInto(BaseModel):
    code: text(64, 1)
    name: text(300) | None = None
    level: text(32) | None = None
    parent: text(64) | None = None
    agency_code: text(64) | None = None


class MergeIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    into: MergeInto | text(64, 1)
    from_: list[text(64, 1)] = Field(alias="from", min_length=1, max_length=100)


class AbolishLevelIn(BaseModel):
    level: text(32, 1)
    children_to: Literal["parent"] = "parent"
    work_to: text(32, 1)


class RenameIn(BaseModel):
    unit: text(64, 1)
    name: text(300, 1)
    agency_code: text(64) | None = None


class MoveUsersIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: text(64, 1) = Field(alias="from")
    to: text(64, 1)


class RestructurePlanIn(BaseModel):
    """The plan, with the keys of PLAN.toml."""

    model_config = ConfigDict(extra="forbid")
    effective: DateTimeText
    merge: list[MergeIn] = Field(default_factory=list, max_length=2000)
    abolish_level: list[AbolishLevelIn] = Field(default_factory=list, max_length=10)
    rename: list[RenameIn] = Field(default_factory=list, max_length=2000)
    move_users: list[MoveUsersIn] = Field(default_factory=list, max_length=2000)


class DryRunQuery(BaseModel):
    dry_run: Literal["true", "false"] = Field("true", description="true: preview only; false: apply")


class StepMove(BaseModel):
    item_id: int
    step: str
    step_id: str
    role: str
    from_unit: str
    to_unit: str | None
    problem: str | None


class CaseMovesOut(BaseModel):
    code: str
    moves: list[StepMove]
    receiving_to: str | None


class RestructureOut(BaseModel):
    plan_sha256: str
    effective: str
    ok: bool
    applied: bool
    items: int
    cases: list[CaseMovesOut]
    problems: list[str]
    warnings: list[str]
    units: list[str]
    result: dict[str, Any] | None = Field(None, description="after an apply: cases and steps moved, batches")


class MigrateIn(BaseModel):
    to_version: int = Field(ge=1, le=DB_ID_MAX)
    cases: list[text(64, 1)] | None = Field(None, max_length=1000)
    map: dict[text(200, 1), text(200, 1)] | None = None
    dry_run: bool = True


class CaseMigrationCheck(BaseModel):
    code: str
    from_version: int
    waiting: list[str]
    can_migrate: bool
    why: list[str]


class MigrationOut(BaseModel):
    procedure: str
    to_version: int
    mapping: dict[str, str]
    cases: list[CaseMigrationCheck]
    movable: int
    blocked: int
    applied: bool


# --- officials' everyday work: assignment, deputies, comments (engine.assignment/delegation/comments) -----

class AssignIn(BaseModel):
    """Give an open step to an official of its unit holding its role (phân công)."""

    username: text(100, 1)
    note: text(2000) | None = None
    target: DateText | None = Field(None, description="internal target day, not after the step's due day")


class AssignmentOut(BaseModel):
    task: Task
    assignee: str
    assignee_name: str
    assigned_by: str
    note: str | None
    target: date | None
    at: datetime


class PersonLoad(BaseModel):
    username: str
    full_name: str
    roles: list[str]
    open: int
    overdue: int


class UnitLoadOut(BaseModel):
    unit: str
    unit_name: str
    people: list[PersonLoad]
    unassigned: int
    unassigned_overdue: int


class DelegationIn(BaseModel):
    """Name a deputy (ủy quyền); `for` names the official when their head sets it."""

    model_config = ConfigDict(populate_by_name=True)

    to: text(100, 1)
    starts: DateText
    until: DateText
    procedures: list[text(100)] | None = Field(None, max_length=100)
    for_: text(100) | None = Field(None, alias="for")


class DelegationOut(BaseModel):
    id: int
    delegator: str
    delegator_name: str
    deputy: str
    deputy_name: str
    unit: str
    starts: date
    until: date
    procedures: list[str]
    revoked_at: datetime | None


class Delegations(BaseModel):
    items: list[DelegationOut]


class CommentIn(BaseModel):
    text: text(4000, 1)
    mentions: list[text(100)] | None = Field(None, max_length=20)


class CommentOut(BaseModel):
    id: int
    author: str
    author_name: str
    text: str
    mentions: list[str]
    at: datetime


class Comments(BaseModel):
    items: list[CommentOut]


# --- saved views and follow-ups (engine.saved_views, engine.followups) ----------------------------------

class ViewIn(BaseModel):
    """A named inbox filter (procedure, claimed, state) or case-search filter (q)."""

    kind: Literal["inbox", "cases"]
    name: text(100, 1)
    filters: dict[str, text(200)]
    shared: bool = False


class ViewOut(BaseModel):
    id: int
    kind: str
    name: str
    filters: dict[str, str]
    shared: bool
    owner: str


class ViewsQuery(BaseModel):
    kind: Literal["inbox", "cases"] | None = None


class Views(BaseModel):
    items: list[ViewOut]


class FollowUpIn(BaseModel):
    at: DateTimeText = Field(description="when to be reminded; ISO 8601, Vietnam time when no offset")


class FollowUpOut(BaseModel):
    task: int
    at: datetime


# --- bulk work (engine.bulk) ------------------------------------------------------------------------------

class BulkClaimIn(BaseModel):
    ids: list[DbId] = Field(min_length=1, max_length=200)


class BulkRefused(BaseModel):
    id: int
    message: str


class BulkClaimed(BaseModel):
    claimed: list[Task]
    refused: list[BulkRefused]


class BulkCasesIn(BaseModel):
    codes: list[text(64, 1)] = Field(min_length=1, max_length=200)


class BulkSlipsIn(BulkCasesIn):
    slip: Literal["01", "05"] = Field(description="01 giấy tiếp nhận (receipt) or 05 phiếu kiểm soát")


PDF_CONTENT = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
XLSX_CONTENT = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                {"schema": {"type": "string", "format": "binary"}}}


# --- the diagram as a heatmap (engine.heatmap) ------------------------------------------------------------

class StepsQuery(PeriodQuery):
    procedure: text(100, 1)


class StepHeatOut(BaseModel):
    element: str = Field(description="the BPMN element id")
    name: str
    waiting: int = Field(description="open steps there now")
    overdue: int
    overdue_share: float = Field(description="per cent of the waiting ones overdue")
    completed: int = Field(description="completed in the period")
    median_hours: float | None = Field(description="working hours, created → completed")
    p90_hours: float | None


class StepsOut(BaseModel):
    procedure: str
    from_: date = Field(alias="from")
    to: date
    steps: list[StepHeatOut]


# --- the province's QĐ 766 score (engine.score766) ---------------------------------------------------------

class Score766Query(PeriodQuery):
    pass


class IndexOut(BaseModel):
    code: str = Field(description="2.1, 2.2, 3.3, 4.1, 4.2 or 5.4")
    name: str
    formula: str
    numerator: float
    denominator: int
    value: float | None = Field(description="per cent (working days for 2.2)")
    unit: str
    full_at: float | None
    meets: bool | None
    costs_count: int
    costs: list[str] = Field(description="codes of the cases that cost points (at most 200)")


class ProcedureTime(BaseModel):
    procedure: str
    name: str
    average_days: float
    resolved: int
    legal_days: float


class Score766Out(BaseModel):
    from_: date = Field(alias="from")
    to: date
    unit: str | None
    indices: list[IndexOut]
    by_procedure: list[ProcedureTime]
