"""restructuring: unit name history, successors, level aliases, restructure runs

Revision ID: 0012_restructure
Revises: 0013_lienthong
Create Date: 2026-12-01 13:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0012_restructure'
down_revision = '0013_lienthong'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unit_names',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('agency_code', sa.String(length=64), nullable=False),
    sa.Column('valid_from', engine.models.UTCDateTime(), nullable=True),
    sa.Column('valid_to', engine.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_names_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_names'))
    )
    op.create_index(op.f('ix_unit_names_unit_id'), 'unit_names', ['unit_id'], unique=False)
    op.create_table('unit_successors',
    sa.Column('predecessor_id', sa.Integer(), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=False),
    sa.Column('effective', engine.models.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['predecessor_id'], ['units.id'], name=op.f('fk_unit_successors_predecessor_id_units')),
    sa.ForeignKeyConstraint(['successor_id'], ['units.id'], name=op.f('fk_unit_successors_successor_id_units')),
    sa.PrimaryKeyConstraint('predecessor_id', name=op.f('pk_unit_successors'))
    )
    op.create_index(op.f('ix_unit_successors_successor_id'), 'unit_successors', ['successor_id'], unique=False)
    op.create_table('level_aliases',
    sa.Column('level_code', sa.String(length=32), nullable=False),
    sa.Column('work_to', sa.String(length=32), nullable=False),
    sa.Column('effective', engine.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('level_code', name=op.f('pk_level_aliases'))
    )
    op.create_table('restructure_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_sha256', sa.String(length=64), nullable=False),
    sa.Column('plan', engine.models.JSONType, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('finished_at', engine.models.UTCDateTime(), nullable=True),
    sa.Column('cases_done', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_restructure_runs_started_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restructure_runs')),
    sa.UniqueConstraint('plan_sha256', name=op.f('uq_restructure_runs_plan_sha256'))
    )


def downgrade() -> None:
    op.drop_table('restructure_runs')
    op.drop_table('level_aliases')
    op.drop_index(op.f('ix_unit_successors_successor_id'), table_name='unit_successors')
    op.drop_table('unit_successors')
    op.drop_index(op.f('ix_unit_names_unit_id'), table_name='unit_names')
    op.drop_table('unit_names')
