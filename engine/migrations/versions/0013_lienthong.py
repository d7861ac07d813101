"""liên thông: partners, outbox, inbox, case links

Revision ID: 0013_lienthong
Revises: 0003_sessions
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0013_lienthong'
down_revision = '0003_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('partners',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', engine.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_partners')))
    op.create_table('lienthong_outbox',
    sa.Column('id', engine.models.BigIntId, autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('partner_code', sa.String(length=64), nullable=False),
    sa.Column('case_id', engine.models.BigIntId, nullable=True),
    sa.Column('message', sa.String(length=100), nullable=False),
    sa.Column('body', engine.models.JSONType, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', engine.models.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('delivered_at', engine.models.UTCDateTime(), nullable=True),
    sa.Column('alerted_at', engine.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_lienthong_outbox_case_id_cases')),
    sa.ForeignKeyConstraint(['partner_code'], ['partners.code'],
                            name=op.f('fk_lienthong_outbox_partner_code_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lienthong_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_lienthong_outbox_message_id')))
    op.create_index('ix_lienthong_outbox_due', 'lienthong_outbox', ['state', 'next_attempt_at'])
    op.create_index('ix_lienthong_outbox_case', 'lienthong_outbox', ['partner_code', 'case_id', 'state', 'id'])
    op.create_index(op.f('ix_lienthong_outbox_case_id'), 'lienthong_outbox', ['case_id'])
    op.create_table('lienthong_inbox',
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('message', sa.String(length=100), nullable=False),
    sa.Column('case_id', engine.models.BigIntId, nullable=True),
    sa.Column('received_at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('body', engine.models.JSONType, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_lienthong_inbox_case_id_cases')),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_lienthong_inbox')))
    op.create_index(op.f('ix_lienthong_inbox_case_id'), 'lienthong_inbox', ['case_id'])
    op.create_table('case_links',
    sa.Column('case_id', engine.models.BigIntId, nullable=False),
    sa.Column('origin_system', sa.String(length=64), nullable=False),
    sa.Column('origin_case_code', sa.String(length=64), nullable=False),
    sa.Column('message', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_links_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_links')),
    sa.UniqueConstraint('origin_system', 'origin_case_code', 'message', name=op.f('uq_case_links_origin_system')))


def downgrade() -> None:
    op.drop_table('case_links')
    op.drop_index(op.f('ix_lienthong_inbox_case_id'), table_name='lienthong_inbox')
    op.drop_table('lienthong_inbox')
    op.drop_index(op.f('ix_lienthong_outbox_case_id'), table_name='lienthong_outbox')
    op.drop_index('ix_lienthong_outbox_case', table_name='lienthong_outbox')
    op.drop_index('ix_lienthong_outbox_due', table_name='lienthong_outbox')
    op.drop_table('lienthong_outbox')
    op.drop_table('partners')
