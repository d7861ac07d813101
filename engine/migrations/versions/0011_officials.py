"""officials' everyday work: assignments, delegations, case comments, saved views, follow-ups, early warnings

Revision ID: 0011_officials
Revises: 0013_lienthong
Create Date: 2026-12-01 13:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0011_officials'
down_revision = '0012_restructure'
branch_labels = None
depends_on = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('assignments',
    sa.Column('id', BigIntId, nullable=False),
    sa.Column('work_item_id', BigIntId, nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('target', sa.Date(), nullable=True),
    sa.Column('at', engine.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_items.id'], name=op.f('fk_assignments_work_item_id_work_items')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_assignments_assignee_id_users')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_assignments_assigned_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')))
    op.create_index(op.f('ix_assignments_work_item_id'), 'assignments', ['work_item_id'], unique=False)
    op.create_index(op.f('ix_assignments_assignee_id'), 'assignments', ['assignee_id'], unique=False)
    op.create_table('delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delegator_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('starts', sa.Date(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('procedures', engine.models.JSONType, nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', engine.models.UTCDateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['delegator_id'], ['users.id'], name=op.f('fk_delegations_delegator_id_users')),
    sa.ForeignKeyConstraint(['deputy_id'], ['users.id'], name=op.f('fk_delegations_deputy_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_delegations_unit_id_units')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_delegations_created_by_id_users')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_delegations_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegations')))
    op.create_index(op.f('ix_delegations_delegator_id'), 'delegations', ['delegator_id'], unique=False)
    op.create_index(op.f('ix_delegations_deputy_id'), 'delegations', ['deputy_id'], unique=False)
    op.create_table('case_comments',
    sa.Column('id', BigIntId, nullable=False),
    sa.Column('case_id', BigIntId, nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('mentions', engine.models.JSONType, nullable=False),
    sa.Column('at', engine.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_comments_case_id_cases')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_comments_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_comments')))
    op.create_index(op.f('ix_case_comments_case_id'), 'case_comments', ['case_id'], unique=False)
    op.create_table('saved_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('filters', engine.models.JSONType, nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', engine.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_saved_views_owner_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_saved_views_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')))
    op.create_index(op.f('ix_saved_views_owner_id'), 'saved_views', ['owner_id'], unique=False)
    op.create_index(op.f('ix_saved_views_unit_id'), 'saved_views', ['unit_id'], unique=False)
    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('work_item_id', BigIntId, nullable=False),
    sa.Column('at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('notified_at', engine.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follow_ups_user_id_users')),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_items.id'], name=op.f('fk_follow_ups_work_item_id_work_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
    sa.UniqueConstraint('user_id', 'work_item_id', name=op.f('uq_follow_ups_user_id')))
    op.create_index('ix_follow_ups_due', 'follow_ups', ['notified_at', 'at'], unique=False)
    op.create_table('step_warnings',
    sa.Column('work_item_id', BigIntId, nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('at', engine.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['work_item_id'], ['work_items.id'], name=op.f('fk_step_warnings_work_item_id_work_items')),
    sa.PrimaryKeyConstraint('work_item_id', 'threshold', name=op.f('pk_step_warnings')))


def downgrade() -> None:
    op.drop_table('step_warnings')
    op.drop_index('ix_follow_ups_due', table_name='follow_ups')
    op.drop_table('follow_ups')
    op.drop_index(op.f('ix_saved_views_unit_id'), table_name='saved_views')
    op.drop_index(op.f('ix_saved_views_owner_id'), table_name='saved_views')
    op.drop_table('saved_views')
    op.drop_index(op.f('ix_case_comments_case_id'), table_name='case_comments')
    op.drop_table('case_comments')
    op.drop_index(op.f('ix_delegations_deputy_id'), table_name='delegations')
    op.drop_index(op.f('ix_delegations_delegator_id'), table_name='delegations')
    op.drop_table('delegations')
    op.drop_index(op.f('ix_assignments_assignee_id'), table_name='assignments')
    op.drop_index(op.f('ix_assignments_work_item_id'), table_name='assignments')
    op.drop_table('assignments')
