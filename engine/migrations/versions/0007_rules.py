"""role capabilities as data; notifications as an e-mail outbox

Revision ID: 0007_rules
Revises: 0002
Create Date: 2026-12-01 12:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0007_rules'
down_revision = '0002'
branch_labels = None
depends_on = None

CAPABILITIES = ('receives_dossiers', 'escalation_target', 'reads_reports', 'designs', 'releases_claims')
# What the shipped role codes did in code before they became data (engine.org.DEFAULT_ROLES).
BY_CODE = {
    'receives_dossiers': ('clerk', 'admin'),
    'escalation_target': ('head',),
    'reads_reports': ('head', 'leader', 'admin'),
    'designs': ('designer', 'admin'),
    'releases_claims': ('head', 'admin'),
}


def upgrade() -> None:
    with op.batch_alter_table('roles', schema=None) as batch_op:
        for name in CAPABILITIES:
            batch_op.add_column(sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()))
    roles = sa.table('roles', sa.column('code', sa.String), *(sa.column(n, sa.Boolean) for n in CAPABILITIES))
    for name, codes in BY_CODE.items():
        op.execute(roles.update().where(roles.c.code.in_(codes)).values({name: True}))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', engine.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notifications_next_attempt_at'), ['next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_next_attempt_at'))
        batch_op.drop_column('last_error')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
    with op.batch_alter_table('roles', schema=None) as batch_op:
        for name in reversed(CAPABILITIES):
            batch_op.drop_column(name)
