"""role capabilities as data; notifications as an e-mail outbox

Revision ID: 0007_rules
Revises: 0002
Create Date: 2026-12-01 12:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0007_rules'
down_revision = '0008_indexes'
branch_labels = None
depends_on = None

CAPABILITIES = ('receives_dossiers', 'escalation_target', 'reads_reports', 'designs', 'releases_claims')
# What the shipped role codes did in code before they became data (engine.org.DEFAULT_ROLES).
BY_CODE = {
    'receives_dossiers': ('clerk',),
    'escalation_target': ('head',),
    'reads_reports': ('head', 'leader', 'admin'),
    'designs': ('designer', 'admin'),
    'releases_claims': ('head', 'admin'),
}


def _number_existing_cases() -> None:
    """Give the cases already received their ledger numbers: per receiving unit and local year of receipt,
    in order of receipt, as engine.ledger numbers new ones."""
    from datetime import timedelta

    bind = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('receiving_unit_id', sa.Integer),
                     sa.column('received_at', engine.models.UTCDateTime()),
                     sa.column('process_version_id', sa.Integer), sa.column('ledger_number', sa.Integer))
    rows = bind.execute(sa.select(cases.c.id, cases.c.receiving_unit_id, cases.c.received_at)
                        .where(cases.c.process_version_id.is_not(None))
                        .order_by(cases.c.received_at, cases.c.id)).all()
    last: dict[tuple[int, int], int] = {}
    for case_id, unit_id, received_at in rows:
        year = (received_at + timedelta(hours=7)).year  # Vietnam time, no daylight saving
        key = (unit_id, year)
        last[key] = last.get(key, 0) + 1
        bind.execute(cases.update().where(cases.c.id == case_id).values(ledger_number=last[key]))
    seq = sa.table('ledger_sequences', sa.column('unit_id', sa.Integer), sa.column('year', sa.Integer),
                   sa.column('last', sa.Integer))
    if last:
        bind.execute(seq.insert(), [{'unit_id': u, 'year': y, 'last': n} for (u, y), n in last.items()])


def upgrade() -> None:
    op.create_table('ledger_sequences',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ledger_sequences_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'year', name=op.f('pk_ledger_sequences'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ledger_number', sa.Integer(), nullable=True))
    _number_existing_cases()
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
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('ledger_number')
    op.drop_table('ledger_sequences')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_next_attempt_at'))
        batch_op.drop_column('last_error')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
    with op.batch_alter_table('roles', schema=None) as batch_op:
        for name in reversed(CAPABILITIES):
            batch_op.drop_column(name)
