"""Benchmark of the intraday refresh: one refresh of every cafe's open days at DESIGN scale.

Loads a synthetic tenant (500 cafes by default, a few days up to now) into a fresh embedded
PostgreSQL, seals the days before yesterday as a daily run would, then measures, in one run:
- the database time of a refresh (staging the open days plus publishing them), the aim being
  under 2 seconds for all cafes;
- the same refresh with 30 days of history behind it, to show its cost does not grow with history;
- the quality gate's time on top, and the rows PostgreSQL read against the rows of the open days.

    .venv/bin/python bench/intraday_refresh.py --cafes 500
"""

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

from aans_analytics import daily, embedded, quality, tenant, warehouse
from aans_analytics.paths import SQL_DIR

SOURCES = ("orders", "order_items", "calls", "reviews", "reservations")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cafes", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3, help="refreshes timed, best kept")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="aans-bench-"))
    try:
        embedded.start_server(folder / "pg", "bench")
        short = refresh_figures(folder, args.cafes, days=3, repeats=args.repeats)
        long = refresh_figures(folder, args.cafes, days=30, repeats=args.repeats)
    finally:
        embedded.stop_server(folder / "pg")
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\nIntraday refresh, {args.cafes} cafes (best of {args.repeats})")
    for label, figures in (("3 days of history", short), ("30 days of history", long)):
        print(
            f"  {label:<20} database {figures['database_s']:.2f} s"
            f" (stage {figures['stage_s']:.2f} s, publish {figures['publish_s']:.2f} s),"
            f" gate +{figures['gate_s']:.2f} s, cafe days {figures['cafe_days']},"
            f" tuples read / open-day rows {figures['read_ratio']:.2f}"
        )
    print(f"  history 30 vs 3 days: database time x{long['database_s'] / short['database_s']:.2f}")


def refresh_figures(folder: Path, cafes: int, days: int, repeats: int) -> dict[str, float]:
    import psycopg
    import psycopg2

    name = f"bench_{days}"
    dsn = f"host={folder / 'pg'} user=postgres dbname="
    admin = psycopg2.connect(dsn + "bench")
    admin.autocommit = True
    admin.cursor().execute(f"drop database if exists {name}")
    admin.cursor().execute(f"create database {name}")
    admin.close()
    now = datetime.now(UTC)
    loader = psycopg2.connect(dsn + name)
    loader.cursor().execute((SQL_DIR / "app" / "schema.sql").read_text())
    loader.commit()
    print(f"loading {cafes} cafes x {days} days ...", flush=True)
    tenant.generate(loader, tenant.TenantSpec.last_days(days, now, cafes=cafes), vacuum=True)
    loader.close()

    conn = psycopg.connect(dsn + name)
    warehouse.migrate(conn)
    seal_history(conn, now, days)

    best: dict[str, float] = {}
    for attempt in range(repeats):
        reset_counters(conn)
        batch = f"bench|{attempt}"
        started = time.monotonic()
        staged = daily.stage_intraday(conn, batch, now)
        staged_at = time.monotonic()
        reads = tuples_read(conn)
        rows = open_day_rows(conn, batch)
        publish_started = time.monotonic()
        daily.publish(conn, batch, replace_date=None, overwrite_final=False)
        published_at = time.monotonic()
        figures = {
            "stage_s": staged_at - started,
            "publish_s": published_at - publish_started,
            "database_s": staged_at - started + published_at - publish_started,
            "cafe_days": float(staged.cafe_days),
            "read_ratio": reads / max(rows, 1),
        }
        if not best or figures["database_s"] < best["database_s"]:
            best = figures

    batch = "bench|gate"
    daily.stage_intraday(conn, batch, now)
    started = time.monotonic()
    try:
        quality.audit_batch(conn, batch, now.date(), "bench", window=(now - timedelta(days=2), now))
    except quality.DataQualityError as refused:
        print(f"  (the gate refused the synthetic day: {refused})")
    best["gate_s"] = time.monotonic() - started
    daily.discard(conn, batch)
    conn.close()
    return best


def seal_history(conn, now: datetime, days: int) -> None:
    """Seal every day before yesterday, as the daily runs would have."""
    for back in range(2, days + 1):
        business_date = (now - timedelta(days=back)).date()
        batch = f"seal|{business_date}"
        daily.stage_day(conn, batch, business_date, now)
        daily.publish(conn, batch, replace_date=business_date, overwrite_final=True)


def reset_counters(conn) -> None:
    with conn.cursor() as cur:
        # Flush this session's pending counters first, or they land after the reset.
        cur.execute("select pg_stat_force_next_flush()")
        conn.commit()
        cur.execute("select pg_stat_reset()")
    conn.commit()


def tuples_read(conn) -> int:
    """Rows the source tables and their indexes gave up since the counters were reset."""
    with conn.cursor() as cur:
        # Counters reach the shared statistics when a transaction ends; read them in a new one.
        cur.execute("select pg_stat_force_next_flush()")
        conn.commit()
        # Index-only scans count in the index statistics, heap reads in the table's.
        cur.execute(
            "select"
            " (select coalesce(sum(seq_tup_read), 0) from pg_stat_user_tables"
            "  where schemaname = 'public' and relname = any(%(tables)s))"
            " + (select coalesce(sum(idx_tup_read), 0) from pg_stat_user_indexes"
            "  where schemaname = 'public' and relname = any(%(tables)s))",
            {"tables": list(SOURCES)},
        )
        (count,) = cur.fetchone()
    conn.commit()
    return int(count)


def open_day_rows(conn, batch: str) -> int:
    """Rows of the staged cafe days in the source tables, counted the plain way."""
    with conn.cursor() as cur:
        cur.execute(
            "with days as (select * from analytics_work.scope where batch_id = %(batch)s),"
            " day_orders as (select o.id from orders o join days d on o.cafe_id = d.cafe_id"
            "   and o.created_at >= d.day_start_at and o.created_at < d.complete_through)"
            " select (select count(*) from day_orders)"
            " + (select count(*) from order_items i join day_orders o on i.order_id = o.id)"
            " + (select count(*) from calls c join days d on c.cafe_id = d.cafe_id"
            "   and c.started_at >= d.day_start_at and c.started_at < d.complete_through)"
            " + (select count(*) from reviews r join days d on r.cafe_id = d.cafe_id"
            "   and r.created_at >= d.day_start_at and r.created_at < d.complete_through)"
            " + (select count(*) from reservations r join days d on r.cafe_id = d.cafe_id"
            "   and r.reserved_for >= d.day_start_at and r.reserved_for < d.complete_through)",
            {"batch": batch},
        )
        (count,) = cur.fetchone()
    conn.commit()
    return int(count)


if __name__ == "__main__":
    main()
