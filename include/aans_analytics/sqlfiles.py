"""Loads the SQL statements kept under `sql/`, one file per purpose."""

from functools import cache

from aans_analytics.paths import SQL_DIR


@cache
def load_sql(name: str) -> str:
    """Return the text of `sql/<name>.sql`, e.g. `load_sql("daily/order_analytics")`."""
    path = (SQL_DIR / f"{name}.sql").resolve()
    if SQL_DIR.resolve() not in path.parents:
        raise ValueError(f"SQL name {name!r} points outside {SQL_DIR}")
    return path.read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """The statements of a multi-statement file, in order, for drivers that bind one at a time.

    psycopg 3 (what the postgres provider's hook returns) binds parameters server-side, which takes
    a single statement per call. Our files keep `;` at the end of a line for statement ends only.
    """
    parts = load_sql(name).split(";\n")
    return [part.strip() for part in parts if _has_code(part)]


def _has_code(part: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in part.splitlines())
