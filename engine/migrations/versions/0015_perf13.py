"""perf13: the reference token also changes on writes to who may do a step (users' unit, activity and name,
their roles, delegations) and to the procedures, their deployed versions and the units' agency codes, so each process may cache those
too (engine.reference: who is told of a new step, a procedure's name, its latest version, the agency code of a case code)

Revision ID: 0015_perf13
Revises: 0014_notify
Create Date: 2026-12-01 20:00:00.000000
"""

from alembic import op

revision = "0015_perf13"
down_revision = "0014_notify"
branch_labels = None
depends_on = None

# Every write to these tables changes the token.
TABLES = ("user_roles", "delegations", "procedures", "process_versions", "agency_codes")
# users: only the columns the cached data is made of. A login (failed_logins, locked_until) or a password
# change leaves the caches alone.
USER_COLUMNS = "unit_id, active, full_name, username"

SQLITE_BODY = """
    UPDATE reference_versions SET token = random() WHERE id = 1;
    INSERT INTO reference_versions (id, token) SELECT 1, random()
        WHERE NOT EXISTS (SELECT 1 FROM reference_versions WHERE id = 1);
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # motcua_bump_reference() comes from 0014_perf
        for table in TABLES:
            op.execute(f"CREATE TRIGGER trg_reference_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION motcua_bump_reference()")
        op.execute("CREATE TRIGGER trg_reference_users AFTER INSERT OR DELETE OR TRUNCATE ON users "
                   "FOR EACH STATEMENT EXECUTE FUNCTION motcua_bump_reference()")
        op.execute(f"CREATE TRIGGER trg_reference_users_update AFTER UPDATE OF {USER_COLUMNS} ON users "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION motcua_bump_reference()")
    else:
        for table in TABLES:
            for what in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER trg_reference_{table}_{what.lower()} AFTER {what} ON {table} "
                           f"BEGIN {SQLITE_BODY} END")
        for what in ("INSERT", "DELETE", f"UPDATE OF {USER_COLUMNS}"):
            name = what.split()[0].lower()
            op.execute(f"CREATE TRIGGER trg_reference_users_{name} AFTER {what} ON users BEGIN {SQLITE_BODY} END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS trg_reference_{table} ON {table}")
        else:
            for what in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_reference_{table}_{what}")
    if postgresql:
        op.execute("DROP TRIGGER IF EXISTS trg_reference_users ON users")
        op.execute("DROP TRIGGER IF EXISTS trg_reference_users_update ON users")
    else:
        for what in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_reference_users_{what}")
