"""Stages, and then publishes, the analytics of a set of cafe days.

A batch is the unit of work: its scope lists the cafe days it covers, each with the exact UTC bounds
of the cafe's local day. The daily run stages one business date for every cafe; the intraday refresh
stages each cafe's current local day so far. Both use the same SQL. Staged rows wait in schema
`analytics_work` until the quality gate has passed; publishing swaps them in, in one transaction.
"""

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aans_analytics.sqlfiles import load_sql, statements

log = logging.getLogger(__name__)

# The staged tables, in publish order; these names are the only identifiers put into SQL.
STAGED_TABLES = (
    "order_analytics",
    "menu_item_sales",
    "call_metrics",
    "call_metrics_hourly",
    "customer_satisfaction",
    "reservation_analytics",
)
WORK_TABLES = (*STAGED_TABLES, "scope")
# One statement per source table; each fills the analytics tables built from that source.
AGGREGATIONS = ("daily/orders", "daily/calls", "daily/reviews", "daily/reservations")
# Every publisher takes this lock, so a provisional refresh and a daily run never interleave.
PUBLISH_LOCK_KEY = 0x4A4E5302
# Staged batches older than this belong to runs that never published; they are dropped.
STALE_BATCH_AGE = "2 days"


@dataclass(frozen=True)
class StageResult:
    """What a staging step wrote: the cafe days in scope and the rows per analytics table."""

    batch_id: str
    cafe_days: int
    rows: dict[str, int]
    seconds: float


def batch_id_for(run_id: str, business_date: date | None = None) -> str:
    """The batch of a run: stable across the run's tasks and retries."""
    return f"{business_date.isoformat()}|{run_id}" if business_date else run_id


def day_end(conn: Any, business_date: date) -> datetime | None:
    """When the last cafe's local day `business_date` ends (None when there is no cafe)."""
    with conn.cursor() as cur:
        cur.execute(load_sql("daily/day_end"), {"date": business_date})
        row = cur.fetchone()
    conn.commit()
    return row[0] if row else None


def stage_day(conn: Any, batch_id: str, business_date: date, now: datetime) -> StageResult:
    """Stage business date `business_date` for every valid cafe; commit."""
    return _stage(
        conn,
        batch_id,
        "daily/scope_day",
        {"batch_id": batch_id, "date": business_date, "now": now},
    )


def stage_intraday(conn: Any, batch_id: str, now: datetime) -> StageResult:
    """Stage each cafe's local day so far, and its previous day until sealed; commit."""
    return _stage(conn, batch_id, "intraday/scope_open_days", {"batch_id": batch_id, "now": now})


def publish(conn: Any, batch_id: str, replace_date: date | None, overwrite_final: bool) -> None:
    """Swap a staged batch into the analytics tables in one transaction; commit.

    `replace_date` (daily runs) also removes that date's rows of cafes no longer in scope.
    `overwrite_final` is False for provisional batches, which never touch a sealed day.
    """
    started = time.monotonic()
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (PUBLISH_LOCK_KEY,))
        params = {
            "batch_id": batch_id,
            "replace_date": replace_date,
            "overwrite_final": overwrite_final,
        }
        for statement in statements("daily/publish"):
            cur.execute(statement, params)
        cur.execute(
            "select count(*) filter (where not is_skipped), count(*) filter (where is_skipped)"
            " from analytics_work.scope where batch_id = %s",
            (batch_id,),
        )
        published, skipped = cur.fetchone()
        _clear(cur, batch_id)
    conn.commit()
    log.info(
        "Published batch %s: %s cafe days, %s left alone as sealed, in %.2f s",
        batch_id,
        published,
        skipped,
        time.monotonic() - started,
    )


def discard(conn: Any, batch_id: str) -> None:
    """Drop a batch's staged rows without publishing them; commit."""
    with conn.cursor() as cur:
        _clear(cur, batch_id)
    conn.commit()


def _stage(conn: Any, batch_id: str, scope_sql: str, params: dict[str, Any]) -> StageResult:
    started = time.monotonic()
    rows: dict[str, int] = {}
    with conn.cursor() as cur:
        # A retry starts from a clean batch; batches abandoned by refused runs are swept here too.
        _clear(cur, batch_id)
        for table in WORK_TABLES:
            cur.execute(
                f"delete from analytics_work.{table} where created_at < now() - %s::interval",
                (STALE_BATCH_AGE,),
            )
        cur.execute(load_sql(scope_sql), params)
        cafe_days = cur.rowcount
        # The work tables fill and empty with every batch: fresh statistics keep the planner
        # from judging a batch of thousands of rows by an empty table.
        cur.execute("analyze analytics_work.scope")
        for name in AGGREGATIONS:
            cur.execute(load_sql(name), {"batch_id": batch_id})
            result = cur.fetchone()
            assert cur.description is not None and result is not None
            rows.update(zip((col.name for col in cur.description), result, strict=True))
        for table in STAGED_TABLES:
            cur.execute(f"analyze analytics_work.{table}")
    conn.commit()
    seconds = time.monotonic() - started
    log.info(
        "Staged batch %s: %s cafe days, rows %s, in %.2f s", batch_id, cafe_days, rows, seconds
    )
    return StageResult(batch_id, cafe_days, rows, seconds)


def _clear(cur: Any, batch_id: str) -> None:
    for table in WORK_TABLES:
        cur.execute(f"delete from analytics_work.{table} where batch_id = %s", (batch_id,))
