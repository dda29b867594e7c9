"""The task bodies of `analytics_daily` and `analytics_intraday`, kept out of the DAG files.

Each opens its own connection through the `aans_postgres` Airflow connection, so a task retried on
another worker needs nothing from the one before but the batch id.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from aans_analytics import daily, warehouse
from aans_analytics.dag_defaults import POSTGRES_CONN_ID

log = logging.getLogger(__name__)


@contextmanager
def warehouse_connection() -> Iterator[Any]:
    """A psycopg2 connection of `aans_postgres`, closed afterwards."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = PostgresHook(postgres_conn_id=POSTGRES_CONN_ID).get_conn()
    try:
        yield conn
    finally:
        conn.close()


def business_date_of(logical_date: datetime | None) -> date:
    """Logical date D (midnight UTC, as the schedule and `airflow dags test` give it) is day D."""
    if logical_date is None:
        raise ValueError("analytics_daily needs a logical date: it names the business date")
    return logical_date.astimezone(UTC).date()


def stage_business_day(logical_date: datetime | None, run_id: str) -> str:
    """Migrate the warehouse if needed, then stage business date D; return the batch id."""
    business_date = business_date_of(logical_date)
    batch_id = daily.batch_id_for(run_id, business_date)
    with warehouse_connection() as conn:
        warehouse.migrate(conn)
        result = daily.stage_day(conn, batch_id, business_date, datetime.now(UTC))
    log.info(
        "Business date %s: %s cafe days staged, %s",
        business_date,
        result.cafe_days,
        ", ".join(f"{name}={count}" for name, count in result.rows.items()),
    )
    return batch_id


def validate_business_day(
    batch_id: str, logical_date: datetime | None, run_id: str, params: dict[str, Any] | None
) -> dict[str, Any]:
    """Run the quality gate on the staged day; raise when the day must not be published."""
    from aans_analytics import quality

    business_date = business_date_of(logical_date)
    overrides = (params or {}).get("max_invalid_share")
    with warehouse_connection() as conn:
        report = quality.audit_batch(conn, batch_id, business_date, run_id, overrides)
    return report.summary()


def publish_business_day(batch_id: str, logical_date: datetime | None) -> None:
    """Swap the audited day into the analytics tables."""
    business_date = business_date_of(logical_date)
    with warehouse_connection() as conn:
        daily.publish(conn, batch_id, replace_date=business_date, overwrite_final=True)
    log.info("Business date %s published", business_date)
