"""Creates and migrates schema `analytics`: `sql/migrations/*.sql`, applied once each, in order.

Several runs may start at once on an empty database (a backfill runs days in parallel), so the
migration holds an advisory lock and every file is applied in its own transaction.
"""

import logging
from typing import Any

from aans_analytics.paths import SQL_DIR

log = logging.getLogger(__name__)

MIGRATIONS_DIR = SQL_DIR / "migrations"
# An arbitrary constant shared by every process that migrates this database.
MIGRATION_LOCK_KEY = 0x4A4E5301


def migrate(conn: Any) -> list[str]:
    """Apply the migrations this database lacks through a DB-API connection; return their names."""
    applied: list[str] = []
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            cur.execute("create schema if not exists analytics")
            cur.execute(
                "create table if not exists analytics.schema_migrations ("
                " name text primary key,"
                " applied_at timestamptz not null default now())"
            )
            conn.commit()
            cur.execute("select name from analytics.schema_migrations")
            done = {row[0] for row in cur.fetchall()}
            for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
                if path.stem in done:
                    continue
                cur.execute(path.read_text(encoding="utf-8"))
                cur.execute(
                    "insert into analytics.schema_migrations (name) values (%s)", (path.stem,)
                )
                conn.commit()
                applied.append(path.stem)
                log.info("Applied migration %s", path.stem)
        finally:
            conn.rollback()
            cur.execute("select pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
            conn.commit()
    return applied
