"""The printable legal slips of the one-stop desk (Thông tư 01/2018/TT-VPCP, Điều 9 and its annex), as PDFs —
the names callers have always imported from here.

What a slip says is decided in engine.slip_data; engine.slip_render lays it out through the templates and
renders it with engine.pdf. This module re-exports both for pages, CLI and tests.
"""

from __future__ import annotations

from engine.control_slip import CHANNELS, TIMING, control_rows
from engine.slip_data import (
    MISSING_KEYS,
    REASON_KEYS,
    SLIPS,
    available_slips,
    case_facts,
    documents_received,
    local_moment,
    lookup_url,
    slip_facts,
)
from engine.slip_render import (
    PATH_ENV,
    SHIPPED_PATH,
    agency_settings,
    fmt_date,
    fmt_days,
    fmt_dt,
    fmt_long_dt,
    place_date,
    qr_svg,
    render_html,
    render_ledger,
    render_slip,
    slips_path,
)

__all__ = ["CHANNELS", "MISSING_KEYS", "PATH_ENV", "REASON_KEYS", "SHIPPED_PATH", "SLIPS", "TIMING",
           "agency_settings", "available_slips", "case_facts", "control_rows", "documents_received",
           "fmt_date", "fmt_days", "fmt_dt", "fmt_long_dt", "local_moment", "lookup_url", "place_date",
           "qr_svg", "render_html", "render_ledger", "render_slip", "slip_facts", "slips_path"]
