"""notify: cases.search_text (folded code, applicant, ID number, procedure) with its search index

On PostgreSQL the index is a GIN trigram index (pg_trgm), which `LIKE '%…%'` uses; on SQLite a plain index,
which a substring search scans instead of the table. Existing cases are folded here by the same Python
function the application uses (engine.folding), so old and new rows fold alike.

Revision ID: 0014_notify
Revises: 0010_casefile
Create Date: 2026-12-01 15:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

from engine.folding import case_search_text

revision = '0014_notify'
down_revision = '0014_perf'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
    conn = op.get_bind()
    cases = sa.table('cases', sa.column('id', sa.BigInteger), sa.column('code', sa.String),
                     sa.column('applicant_name', sa.String), sa.column('applicant_id_number', sa.String),
                     sa.column('procedure_id', sa.Integer), sa.column('search_text', sa.Text))
    procedures = sa.table('procedures', sa.column('id', sa.Integer), sa.column('name', sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(cases.c.id, cases.c.code, cases.c.applicant_name, cases.c.applicant_id_number,
                                      procedures.c.name)
                            .outerjoin(procedures, procedures.c.id == cases.c.procedure_id)
                            .where(cases.c.id > last).order_by(cases.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(cases.update().where(cases.c.id == sa.bindparam('row_id'))
                     .values(search_text=sa.bindparam('folded')),
                     [{'row_id': r[0], 'folded': case_search_text(r[1], r[2], r[3], r[4])} for r in rows])
        last = rows[-1][0]
    if conn.dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute('CREATE INDEX ix_cases_search_text ON cases USING gin (search_text gin_trgm_ops)')
    else:
        op.create_index('ix_cases_search_text', 'cases', ['search_text'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_search_text', table_name='cases')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('search_text')
