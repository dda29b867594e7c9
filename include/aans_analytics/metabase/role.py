"""The read-only PostgreSQL role Metabase signs in as: it may read schema analytics, nothing more.

Created and kept in shape through the `aans_postgres` connection (an owner of schema analytics),
so that tables added later by migrations are readable too (default privileges).
"""

import logging
from typing import Any

log = logging.getLogger(__name__)

# Role names come from this list only: they are spliced into DDL as identifiers.
READONLY_ROLES = ("metabase_reader",)
DEFAULT_ROLE = READONLY_ROLES[0]
SCHEMA = "analytics"


def ensure_readonly_role(conn: Any, role: str, password: str) -> bool:
    """Create or correct `role` (psycopg2 or psycopg 3 connection); return True if created.

    The role can log in, has USAGE on schema analytics and SELECT on its tables (present and
    future), starts every transaction read-only, and holds no other right.
    """
    sql = _sql_module(conn)
    if role not in READONLY_ROLES:
        raise ValueError(f"Role {role!r} is not one of the read-only roles {READONLY_ROLES}")
    if not password:
        raise ValueError(f"No password for role {role}: set it on the warehouse connection")

    name = sql.Identifier(role)
    schema = sql.Identifier(SCHEMA)
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", (role,))
        created = cur.fetchone() is None
        # The password is set on every run, so rotating it in the connection is enough.
        if created:
            statement = "create role {name} with login password {password}"
        else:
            statement = "alter role {name} with login password {password}"
        cur.execute(sql.SQL(statement).format(name=name, password=sql.Literal(password)))
        cur.execute(
            "select rolsuper or rolcreatedb or rolcreaterole or rolreplication or rolbypassrls"
            " from pg_roles where rolname = %s",
            (role,),
        )
        row = cur.fetchone()
        if row is None or row[0]:
            conn.rollback()
            raise PermissionError(f"Role {role} holds rights beyond reading; fix it by hand")
        cur.execute(
            sql.SQL("alter role {name} set default_transaction_read_only = on").format(name=name)
        )
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(schema, name))
        cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(schema, name))
        # Applies to tables the connecting user creates later, i.e. future migrations.
        cur.execute(
            sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                schema, name
            )
        )
    conn.commit()
    log.info("Read-only role %s %s", role, "created" if created else "checked")
    return created


def _sql_module(conn: Any) -> Any:
    """psycopg2's or psycopg 3's `sql` module, matching the connection (Airflow's PostgresHook
    hands out psycopg 3 connections when that driver is installed)."""
    if type(conn).__module__.startswith("psycopg2"):
        from psycopg2 import sql as psycopg2_sql

        return psycopg2_sql
    from psycopg import sql as psycopg3_sql

    return psycopg3_sql
