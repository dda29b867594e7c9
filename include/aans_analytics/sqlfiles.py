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
