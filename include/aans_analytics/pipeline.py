"""The task bodies of `analytics_daily` and `analytics_intraday`, kept out of the DAG files.

Each opens its own connection through the `aans_postgres` Airflow connection, so a task retried on
another worker needs nothing from the one before but the batch id.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aans_analytics import daily, warehouse
from aans_analytics.dag_defaults import POSTGRES_CONN_ID

log = logging.getLogger(__name__)


@contextmanager
def warehouse_connection() -> Iterator[Any]:
    """A connection of `aans_postgres` (psycopg 3, from the provider's hook), then closed."""
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


def stage_business_day(logical_date: datetime | None, run_id: str) -> str | None:
    """Stage business date D once every cafe's local day D has ended; return the batch id.

    Returns None while some cafe's day is still going on: the task, a sensor, asks again later.
    """
    business_date = business_date_of(logical_date)
    now = datetime.now(UTC)
    with warehouse_connection() as conn:
        warehouse.migrate(conn)
        day_end = daily.day_end(conn, business_date)
        if day_end is not None and day_end > now:
            log.info("Business date %s ends for every cafe at %s; waiting", business_date, day_end)
            return None
        batch_id = daily.batch_id_for(run_id, business_date)
        result = daily.stage_day(conn, batch_id, business_date, now)
    log.info(
        "Business date %s: %s cafe days staged, %s",
        business_date,
        result.cafe_days,
        ", ".join(f"{name}={count}" for name, count in result.rows.items()),
    )
    return batch_id


def validate_business_day(
    batch_id: str, logical_date: datetime | None, run_id: str, conf: dict[str, Any] | None
) -> dict[str, Any]:
    """Run the quality gate on the staged day; raise when the day must not be published."""
    from aans_analytics import quality

    business_date = business_date_of(logical_date)
    overrides = (conf or {}).get("max_invalid_share")
    with warehouse_connection() as conn:
        report = quality.audit_batch(conn, batch_id, business_date, run_id, overrides)
    return report.summary()


def publish_business_day(batch_id: str, logical_date: datetime | None) -> None:
    """Swap the audited day into the analytics tables."""
    business_date = business_date_of(logical_date)
    with warehouse_connection() as conn:
        daily.publish(conn, batch_id, replace_date=business_date, overwrite_final=True)
    log.info("Business date %s published", business_date)


# A refresh follows the present: a run whose moment is older than this (a backfill, a run
# caught up after an outage) would only write stale provisional rows, so it does nothing.
REFRESH_MAX_LAG = timedelta(hours=1)


def refresh_moment(run_after: datetime | None, run_type: str | None) -> datetime | None:
    """The instant a refresh computes "so far" at, or None when the run should not refresh."""
    now = datetime.now(UTC)
    if run_type == "backfill":
        return None
    if run_after is not None and now - run_after > REFRESH_MAX_LAG:
        return None
    return now


def stage_open_days(batch_id: str, now: datetime) -> int:
    """Stage every cafe's open local days as of `now`; return the cafe days staged."""
    with warehouse_connection() as conn:
        warehouse.migrate(conn)
        result = daily.stage_intraday(conn, batch_id, now)
    return result.cafe_days


def validate_open_days(batch_id: str, now: datetime, run_id: str) -> dict[str, Any]:
    """The same quality gate as the daily run, over the open days' rows."""
    from aans_analytics import quality

    with warehouse_connection() as conn:
        with conn.cursor() as cur:
            cur.execute(
                "select min(day_start_at) from analytics_work.scope where batch_id = %s",
                (batch_id,),
            )
            (window_start,) = cur.fetchone()
        report = quality.audit_batch(
            conn, batch_id, now.date(), run_id, window=(window_start or now, now)
        )
    return report.summary()


def publish_open_days(batch_id: str) -> None:
    """Swap the provisional rows in, leaving every sealed day alone."""
    with warehouse_connection() as conn:
        daily.publish(conn, batch_id, replace_date=None, overwrite_final=False)
