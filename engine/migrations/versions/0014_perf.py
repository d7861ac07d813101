"""reference data version: one row whose token changes, by trigger, on every write to the organisation
(units, levels, roles, successors, level aliases), the calendar overrides and the partners, so each process
may cache them and check the token once per transaction (engine.reference)

Revision ID: 0014_perf
Revises: 0010_casefile
Create Date: 2026-12-01 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0014_perf'
down_revision = "0014_supplements"
branch_labels = None
depends_on = None

# The tables whose rows engine.reference caches; a write to any of them changes the token.
TABLES = ("units", "levels", "roles", "unit_successors", "level_aliases", "calendar_overrides", "partners")

# A fresh random token rather than an increment: a token written by a transaction that rolled back, or by
# a database reset (TRUNCATE removes the row; the next write re-creates it), is never seen again, so a
# snapshot cached under it can never be taken for another state of the tables.
SQLITE_BODY = """
    UPDATE reference_versions SET token = random() WHERE id = 1;
    INSERT INTO reference_versions (id, token) SELECT 1, random()
        WHERE NOT EXISTS (SELECT 1 FROM reference_versions WHERE id = 1);
"""

PG_FUNCTION = """
CREATE FUNCTION motcua_bump_reference() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reference_versions (id, token) VALUES (1, floor(random() * 9e18)::bigint)
        ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table('reference_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_versions'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(f"CREATE TRIGGER trg_reference_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION motcua_bump_reference()")
        op.execute("INSERT INTO reference_versions (id, token) VALUES (1, floor(random() * 9e18)::bigint)")
    else:
        for table in TABLES:
            for what in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER trg_reference_{table}_{what.lower()} AFTER {what} ON {table} "
                           f"BEGIN {SQLITE_BODY} END")
        op.execute("INSERT INTO reference_versions (id, token) VALUES (1, random())")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS trg_reference_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS motcua_bump_reference()")
    else:
        for table in TABLES:
            for what in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_reference_{table}_{what}")
    op.drop_table('reference_versions')
