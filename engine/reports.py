"""Official reports on administrative procedures — the names callers have always imported from here.

The rules live in engine.report_scope (period, who may see which units), engine.report_figures (one SQL
predicate per figure, the tables, drill-down, charts, ratings), engine.report_steps (per-step times) and
engine.report_exports (the .xlsx layout); this module re-exports them for pages, API, CLI and tests.
"""

from __future__ import annotations

from engine.report_exports import TABLE_COLUMNS, excel_table, scope_label
from engine.report_figures import (
    CRITERIA,
    DRILL_ONLY,
    FIGURES,
    GROUPS,
    LABELS,
    TIMING_LABELS,
    CasePage,
    Row,
    backlog,
    drill_down,
    monthly_rate,
    on_time_rate,
    predicates,
    ratings_summary,
    scoped,
    summary,
    table,
    total,
)
from engine.report_scope import (
    Filters,
    Period,
    ensure_reporter,
    fields,
    filters_for,
    levels,
    parse_period,
    scope_root,
    units_in_scope,
)
from engine.report_steps import StepRow, steps

__all__ = ["CRITERIA", "DRILL_ONLY", "FIGURES", "GROUPS", "LABELS", "TABLE_COLUMNS", "TIMING_LABELS",
           "CasePage", "Filters", "Period", "Row", "StepRow", "backlog", "drill_down", "ensure_reporter",
           "excel_table", "fields", "filters_for", "levels", "monthly_rate", "on_time_rate", "parse_period",
           "predicates", "ratings_summary", "scope_label", "scope_root", "scoped", "steps", "summary",
           "table", "total", "units_in_scope"]
