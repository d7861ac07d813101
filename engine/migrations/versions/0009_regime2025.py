"""the 2025 regime: competent unit and return channel of a case; agency codes with validity dates

Revision ID: 0009_regime2025
Revises: 0011_officials
Create Date: 2026-12-01 13:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0009_regime2025'
down_revision = '0011_officials'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('competent_unit_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('return_channel', sa.String(length=16), nullable=True))
        batch.create_foreign_key(op.f('fk_cases_competent_unit_id_units'), 'units', ['competent_unit_id'], ['id'])
        batch.create_index(op.f('ix_cases_competent_unit_id'), ['competent_unit_id'], unique=False)
    op.create_table('agency_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_agency_codes_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_codes')),
    sa.UniqueConstraint('unit_id', 'valid_from', name=op.f('uq_agency_codes_unit_id'))
    )
    op.create_index(op.f('ix_agency_codes_unit_id'), 'agency_codes', ['unit_id'], unique=False)
    op.create_index(op.f('ix_agency_codes_code'), 'agency_codes', ['code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_agency_codes_code'), table_name='agency_codes')
    op.drop_index(op.f('ix_agency_codes_unit_id'), table_name='agency_codes')
    op.drop_table('agency_codes')
    with op.batch_alter_table('cases') as batch:
        batch.drop_index(op.f('ix_cases_competent_unit_id'))
        batch.drop_constraint(op.f('fk_cases_competent_unit_id_units'), type_='foreignkey')
        batch.drop_column('return_channel')
        batch.drop_column('competent_unit_id')
