"""Command line: load a synthetic tenant into a PostgreSQL database, without Airflow.

    python -m aans_analytics.tenant --dsn "host=/path/to/socket dbname=aans user=postgres" \\
        --cafes 20 --days 30 --seed 7
"""

import argparse
import logging
import sys
from datetime import UTC, datetime

from aans_analytics.sqlfiles import load_sql
from aans_analytics.tenant.load import generate, is_empty
from aans_analytics.tenant.spec import TenantSpec

log = logging.getLogger("aans_analytics.tenant")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m aans_analytics.tenant",
        description="Write a deterministic synthetic AANS tenant into the app tables.",
    )
    parser.add_argument("--dsn", required=True, help="libpq connection string or postgresql:// URL")
    parser.add_argument("--cafes", type=int, default=20, help="number of cafes (default 20)")
    parser.add_argument("--days", type=int, default=30, help="UTC days up to --end-at (default 30)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--end-at",
        type=_aware_datetime,
        default=None,
        help="aware ISO instant to end at, e.g. 2026-06-01T12:00:00Z (default: now, to the minute)",
    )
    parser.add_argument(
        "--invalid-share", type=float, default=0.004, help="share of invalid rows (default 0.004)"
    )
    parser.add_argument(
        "--no-vacuum", action="store_true", help="only analyse the tables after loading"
    )
    return parser.parse_args(argv)


def _aware_datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-06-01T12:00:00Z")
    return moment


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import psycopg2

    end_at = args.end_at or datetime.now(UTC).replace(second=0, microsecond=0)
    spec = TenantSpec.last_days(
        args.days, end_at, cafes=args.cafes, seed=args.seed, invalid_share=args.invalid_share
    )
    conn = psycopg2.connect(args.dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(load_sql("app/schema"))
        conn.commit()
        if not is_empty(conn):
            log.error("The app tables already hold a tenant; nothing written.")
            return 1
        # The generator logs its progress; the handler above shows it.
        rows = generate(conn, spec, vacuum=not args.no_vacuum)
    finally:
        conn.close()
    for table, count in rows.items():
        log.info("%-13s %12s rows", table, f"{count:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
