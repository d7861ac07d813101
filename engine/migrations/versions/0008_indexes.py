"""indexes on foreign keys and dates that pages and reports filter by

Revision ID: 0008_indexes
Revises: 0002
Create Date: 2026-12-01 12:30:00.000000
"""

from alembic import op

revision = '0008_indexes'
down_revision = '0002'
branch_labels = None
depends_on = None

# (table, column): a case's notifications, completions by period, cases per process version (the designer's
# "cases on this version"), events by receiving unit (Mẫu 05, reports).
INDEXES = (("notifications", "case_id"), ("work_items", "completed_at"), ("cases", "process_version_id"),
           ("events", "to_unit_id"))


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
