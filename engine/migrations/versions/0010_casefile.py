"""case file: immutable step outputs; documents attached at a step, marked as the result

Revision ID: 0010_casefile
Revises: 0011_officials
Create Date: 2026-12-01 13:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0010_casefile'
down_revision = '0009_regime2025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('step_outputs',
    sa.Column('id', engine.models.BigIntId, nullable=False),
    sa.Column('case_id', engine.models.BigIntId, nullable=False),
    sa.Column('work_item_id', engine.models.BigIntId, nullable=False),
    sa.Column('step_bpmn_id', sa.String(length=200), nullable=False),
    sa.Column('step', sa.String(length=300), nullable=False),
    sa.Column('form', sa.String(length=200), nullable=True),
    sa.Column('form_sha256', sa.String(length=64), nullable=True),
    sa.Column('process_version_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role_code', sa.String(length=32), nullable=False),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('completed_at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('timing', sa.String(length=16), nullable=True),
    sa.Column('data', engine.models.JSONType, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_step_outputs_case_id_cases')),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_items.id'], name=op.f('fk_step_outputs_work_item_id_work_items')),
    sa.ForeignKeyConstraint(['process_version_id'], ['process_versions.id'],
                            name=op.f('fk_step_outputs_process_version_id_process_versions')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_step_outputs_unit_id_units')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], name=op.f('fk_step_outputs_completed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_step_outputs')),
    sa.UniqueConstraint('work_item_id', name=op.f('uq_step_outputs_work_item_id')),
    )
    op.create_index(op.f('ix_step_outputs_case_id'), 'step_outputs', ['case_id'], unique=False)
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('work_item_id', engine.models.BigIntId,
                                   nullable=True))
        batch.add_column(sa.Column('is_result', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.create_foreign_key(op.f('fk_documents_work_item_id_work_items'), 'work_items', ['work_item_id'], ['id'])
        batch.create_index(op.f('ix_documents_work_item_id'), ['work_item_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.drop_index(op.f('ix_documents_work_item_id'))
        batch.drop_constraint(op.f('fk_documents_work_item_id_work_items'), type_='foreignkey')
        batch.drop_column('is_result')
        batch.drop_column('work_item_id')
    op.drop_index(op.f('ix_step_outputs_case_id'), table_name='step_outputs')
    op.drop_table('step_outputs')
