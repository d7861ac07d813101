"""How a case is received and a task completed — the names callers have always imported from here.

The rules live in the modules named for what they decide; this module only re-exports them so
`from engine import cases; cases.receive(...)` keeps working for pages, the API, tests and benches.
Engine modules import from the owning module directly.

Each function runs inside the caller's transaction (engine.db.Database.transaction): the workflow
state, its work items, due dates and audit events change together or not at all.
"""

from __future__ import annotations

from engine.case_codes import next_case_code
from engine.case_records import (
    VersionInfo,
    events,
    forget_cached_versions,
    get_case,
    get_item,
    lock_case,
    open_items,
    public_status,
    version_info,
)
from engine.dossier_checks import APPLICANT_COLUMNS, APPLICANT_FIELDS, applicant_fields
from engine.inbox import TIME_STATES, InboxPage, inbox, inbox_counts, time_state
from engine.projection import diagram_error, fire_timers
from engine.reception import (
    CHANNELS,
    EARLIEST_RECEIPT,
    NAME_REQUIRED,
    receive,
    record_intake_outcome,
    start_processing,
)
from engine.status import STATUS, Status
from engine.tasks import Completion, claim, complete_task, retry_routing, unclaim

__all__ = [
    "APPLICANT_COLUMNS", "APPLICANT_FIELDS", "CHANNELS", "EARLIEST_RECEIPT", "NAME_REQUIRED", "STATUS",
    "TIME_STATES", "Completion", "InboxPage", "Status", "VersionInfo", "applicant_fields", "claim",
    "complete_task", "diagram_error", "events", "fire_timers", "forget_cached_versions", "get_case",
    "get_item", "inbox", "inbox_counts", "lock_case", "next_case_code", "open_items", "public_status",
    "receive", "record_intake_outcome", "retry_routing", "start_processing", "time_state", "unclaim",
    "version_info",
]
