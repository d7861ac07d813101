"""The process designer's services — the names callers have always imported from here.

Only designers (and admins) design; the web layer calls `require_designer` before anything else. The rules
live in engine.design_access (who, codes, reading an upload), engine.design_versions (listing),
engine.design_drafts (drafts, validation, deploy), engine.design_diff (compare) and engine.design_template
(a new procedure's diagram); this module re-exports them for pages, API and tests.
"""

from __future__ import annotations

from engine.design_access import (
    CODE_RE,
    FORM_NAME_RE,
    MAX_BPMN_BYTES,
    as_text,
    can_design,
    check_code,
    parse_xml,
    require_designer,
)
from engine.design_diff import SEMANTIC_NAMESPACES, Diff, diff_versions, diff_xml
from engine.design_drafts import (
    available_forms,
    deploy_draft,
    deploy_xml,
    org_choices,
    save_draft,
    validate,
)
from engine.design_template import template
from engine.design_versions import (
    ProcedureInfo,
    VersionInfo,
    get_draft,
    get_version,
    latest,
    list_procedures,
    procedure_versions,
)

__all__ = ["CODE_RE", "FORM_NAME_RE", "MAX_BPMN_BYTES", "SEMANTIC_NAMESPACES", "Diff", "ProcedureInfo",
           "VersionInfo", "as_text", "available_forms", "can_design", "check_code", "deploy_draft", "deploy_xml",
           "diff_versions", "diff_xml", "get_draft", "get_version", "latest", "list_procedures", "org_choices",
           "parse_xml", "procedure_versions", "require_designer", "save_draft", "template", "validate"]
