"""process designer drafts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('process_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('procedure_code', sa.String(length=100), nullable=False),
    sa.Column('bpmn_xml', sa.Text(), nullable=False),
    sa.Column('forms', engine.models.JSONType, nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', engine.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_process_drafts_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_drafts')),
    sa.UniqueConstraint('procedure_code', name=op.f('uq_process_drafts_procedure_code'))
    )


def downgrade() -> None:
    op.drop_table('process_drafts')
