"""supplements: an incomplete dossier (Mẫu 02) linked to the case received when it came back complete

Revision ID: 0014_supplements
Revises: 0010_casefile
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0014_supplements'
down_revision = '0010_casefile'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('supplemented_by_id', engine.models.BigIntId, nullable=True))
        batch.create_foreign_key(op.f('fk_cases_supplemented_by_id_cases'), 'cases', ['supplemented_by_id'], ['id'])
        batch.create_index(op.f('ix_cases_supplemented_by_id'), ['supplemented_by_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_index(op.f('ix_cases_supplemented_by_id'))
        batch.drop_constraint(op.f('fk_cases_supplemented_by_id_cases'), type_='foreignkey')
        batch.drop_column('supplemented_by_id')
