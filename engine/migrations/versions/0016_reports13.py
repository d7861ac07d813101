"""reports13: two indexes for the /reports page at 1M cases — the completed steps per (unit, step, completion
time) with the duration's ends and timing, so the per-step table reads each group's period as one index range
(engine.report_figures.steps), and the resolved cases by resolution time with timing, unit and procedure, so
the on-time rate per month is read off the index. Creating an index fills it from the existing rows.

Revision ID: 0016_reports13
Revises: 0015_perf13
Create Date: 2026-12-01 23:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_reports13"
down_revision = "0015_perf13"
branch_labels = None
depends_on = None

COMPLETED = sa.text("state = 'completed'")


def upgrade() -> None:
    op.create_index("ix_work_items_steps", "work_items", ["unit_id", "name", "completed_at", "created_at", "timing"],
                    postgresql_where=COMPLETED, sqlite_where=COMPLETED)
    op.create_index("ix_cases_resolved_month", "cases", ["resolved_at", "timing", "receiving_unit_id", "procedure_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_resolved_month", table_name="cases")
    op.drop_index("ix_work_items_steps", table_name="work_items")
