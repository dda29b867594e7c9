"""Daily-run benchmark: what one business day of `analytics_daily` costs, against the floor.

    .venv/bin/python bench/daily_run.py [--cafes 500] [--days 30] [--long-days 365]
                                        [--backfill-days 30] [--no-backfill]

Loads the synthetic tenant of DESIGN section 7 (per cafe and day about 150 orders, 375 items,
250 calls, 10 reviews, 20 reservations) twice into an embedded PostgreSQL under .local/bench:
with `--days` and with `--long-days` of history, both ending on the same instant, so the
measured business date D has 30 and 365 days behind it. Tenants are kept and reused by later
runs of the same size. Then, in one run, it measures and prints:

- the day's aggregation SQL (`daily.stage_day`) against the floor, the bare `group by cafe_id`
  over one UTC day of the same tables, best of several warm runs, at both history sizes;
- the tuples PostgreSQL read per source table during one staging (pg_stat counters) against the
  rows of that day, a count no noisy machine can blur;
- EXPLAIN (ANALYZE, BUFFERS) summaries of each aggregation, with plain timestamp indexes added
  to the app tables, as an app database may carry them;
- the quality gate's cost (`quality.audit_batch`), when the gate is present;
- a backfill of `--backfill-days` days through Airflow (`dag.test()` per day) against the same
  days run directly, giving Airflow's share of the wall time;
- peak memory: the PostgreSQL processes' and this process's resident set, at both tenant sizes.
"""

import argparse
import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from aans_analytics import daily, embedded  # noqa: E402  (needs the path above)
from aans_analytics.demo import stop_database  # noqa: E402
from aans_analytics.paths import LOCAL_DIR  # noqa: E402
from aans_analytics.sqlfiles import load_sql  # noqa: E402

BENCH_DIR = LOCAL_DIR / "bench"
# Fixed, so that both tenants end at the same instant and re-runs reuse them.
END_AT = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
BUSINESS_DATE = (END_AT - timedelta(days=1, hours=12)).date()
SOURCE_TABLES = ("orders", "order_items", "calls", "reviews", "reservations", "cafes")
# The column that dates each event table, for the floor and the extra plain indexes.
TIMESTAMPS = {
    "orders": "created_at",
    "calls": "started_at",
    "reviews": "created_at",
    "reservations": "reserved_for",
}
PLAIN_INDEXES = [
    f"create index if not exists {table}_{column}_plain_idx on {table} ({column})"
    for table, column in TIMESTAMPS.items()
]
REPEATS = 5
# The report goes to the original standard output; Airflow, Great Expectations and PostgreSQL
# write their logs to descriptors 1 and 2, which main() sends to a log file.
OUT = os.fdopen(os.dup(1), "w", buffering=1)


def say(*parts: object) -> None:
    print(*parts, file=OUT, flush=True)


# --- the tenants --------------------------------------------------------------------------------


@dataclass
class Tenant:
    name: str
    history_days: int
    dsn: str
    rows: int = 0
    day_rows: dict[str, int] = field(default_factory=dict)

    def connect(self) -> Any:
        import psycopg2

        return psycopg2.connect(self.dsn)


def tenant_name(cafes: int, days: int, seed: int) -> str:
    return f"bench_c{cafes}_d{days}_s{seed}"


def prepare_tenant(pgdata: Path, cafes: int, days: int, seed: int) -> Tenant:
    """The tenant of this size in its own database; generated once, reused afterwards."""
    from aans_analytics.tenant import TenantSpec, generate, is_empty

    name = tenant_name(cafes, days, seed)
    embedded.start_server(pgdata, name)
    tenant = Tenant(name, days, f"host={pgdata} user=postgres dbname={name}")
    conn = tenant.connect()
    try:
        if is_empty(conn):
            with conn.cursor() as cur:
                cur.execute(load_sql("app/schema"))
            conn.commit()
            spec = TenantSpec.last_days(days, END_AT, cafes=cafes, seed=seed)
            started = time.monotonic()
            generate(conn, spec, progress=lambda message: say(f"  [{name}] {message}"))
            say(f"  [{name}] generated in {time.monotonic() - started:.0f} s")
        else:
            say(f"  [{name}] reusing the tenant loaded by an earlier run")
        from aans_analytics import warehouse

        warehouse.migrate(conn)
        with conn.cursor() as cur:
            for statement in PLAIN_INDEXES:
                cur.execute(statement)
            cur.execute("analyze")
            cur.execute(
                "select sum(n_live_tup) from pg_stat_user_tables where relname = any(%s)",
                (list(SOURCE_TABLES),),
            )
            tenant.rows = int(cur.fetchone()[0] or 0)
        conn.commit()
        tenant.day_rows = rows_of_day(conn, BUSINESS_DATE)
    finally:
        conn.close()
    return tenant


def rows_of_day(conn: Any, day: date) -> dict[str, int]:
    """Source rows of each cafe's local `day`, counted per table (items: of those orders)."""
    counts: dict[str, int] = {}
    with conn.cursor() as cur:
        for table, column in TIMESTAMPS.items():
            cur.execute(
                f"select count(*) from cafes as c join {table} as t on t.cafe_id = c.id"
                f" and t.{column} >= (%(d)s::date)::timestamp at time zone c.timezone"
                f" and t.{column} < (%(d)s::date + 1)::timestamp at time zone c.timezone",
                {"d": day},
            )
            counts[table] = cur.fetchone()[0]
        cur.execute(
            "select count(*) from cafes as c join orders as o on o.cafe_id = c.id"
            " and o.created_at >= (%(d)s::date)::timestamp at time zone c.timezone"
            " and o.created_at < (%(d)s::date + 1)::timestamp at time zone c.timezone"
            " join order_items as i on i.order_id = o.id",
            {"d": day},
        )
        counts["order_items"] = cur.fetchone()[0]
        cur.execute("select count(*) from cafes")
        counts["cafes"] = cur.fetchone()[0]
    conn.rollback()
    return counts


# --- measurements -----------------------------------------------------------------------------


def floor_statements(day: date) -> list[tuple[str, dict[str, Any]]]:
    """The bare scan and group of one UTC day of every source table the daily SQL reads."""
    bounds = {
        "start": datetime.combine(day, clock(), UTC),
        "end": datetime.combine(day + timedelta(days=1), clock(), UTC),
    }
    statements = [
        (
            f"select t.cafe_id, count(*) from {table} as t"
            f" where t.{column} >= %(start)s and t.{column} < %(end)s group by t.cafe_id",
            bounds,
        )
        for table, column in TIMESTAMPS.items()
    ]
    statements.append(
        (
            "select o.cafe_id, count(*), sum(i.quantity * i.unit_price) from orders as o"
            " join order_items as i on i.order_id = o.id"
            " where o.created_at >= %(start)s and o.created_at < %(end)s group by o.cafe_id",
            bounds,
        )
    )
    return statements


def time_floor(conn: Any, day: date) -> float:
    def once() -> None:
        with conn.cursor() as cur:
            for sql, params in floor_statements(day):
                cur.execute(sql, params)
                cur.fetchall()
        conn.rollback()

    return best_of(once)


def time_stage(conn: Any, day: date) -> float:
    """Best of several warm runs of the day's staging; each batch is discarded untimed."""
    samples = []
    for _ in range(REPEATS + 1):
        batch = f"bench|{time.monotonic_ns()}"
        started = time.perf_counter()
        daily.stage_day(conn, batch, day, datetime.now(UTC))
        samples.append(time.perf_counter() - started)
        daily.discard(conn, batch)
    return min(samples[1:])


def best_of(step: Callable[[], None]) -> float:
    step()  # warm the cache, as a daily run finds the day's pages recently written
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        step()
        samples.append(time.perf_counter() - started)
    return min(samples)


def tuples_read(tenant: Tenant, day: date) -> dict[str, dict[str, int]]:
    """pg_stat counters of each source table across one staging of `day`.

    A fresh connection, so that no earlier statement's pending counters land after the reset.
    """
    conn = tenant.connect()
    batch = f"bench-stat|{time.monotonic_ns()}"
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_stat_reset()")
        conn.commit()
        daily.stage_day(conn, batch, day, datetime.now(UTC))
        with conn.cursor() as cur:
            cur.execute("select pg_stat_force_next_flush()")
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("select pg_stat_clear_snapshot()")
            cur.execute(
                "select t.relname, coalesce(t.seq_tup_read, 0), coalesce(t.idx_tup_fetch, 0),"
                " coalesce(sum(i.idx_tup_read), 0)"
                " from pg_stat_user_tables as t"
                " left join pg_stat_user_indexes as i on i.relid = t.relid"
                " where t.schemaname = 'public' and t.relname = any(%s)"
                " group by t.relname, t.seq_tup_read, t.idx_tup_fetch",
                (list(SOURCE_TABLES),),
            )
            found = {
                name: {"seq_tup_read": seq, "idx_tup_fetch": fetch, "idx_tup_read": int(read)}
                for name, seq, fetch, read in cur.fetchall()
            }
        conn.rollback()
        daily.discard(conn, batch)
    finally:
        conn.close()
    return found


def flush_counters(conn: Any) -> None:
    """Send this session's pending pg_stat counters now, before another session resets them."""
    with conn.cursor() as cur:
        cur.execute("select pg_stat_force_next_flush()")
    conn.commit()
    with conn.cursor() as cur:
        cur.execute("select 1")
    conn.commit()


def plan_summaries(conn: Any, day: date) -> dict[str, dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each aggregation statement over a staged scope; rolled back."""
    batch = f"bench-plan|{time.monotonic_ns()}"
    daily.stage_day(conn, batch, day, datetime.now(UTC))
    summaries = {}
    try:
        for name in daily.AGGREGATIONS:
            with conn.cursor() as cur:
                cur.execute(
                    "explain (analyze, buffers, format json) " + load_sql(name),
                    {"batch_id": batch},
                )
                plan = cur.fetchone()[0][0]
            conn.rollback()
            scans: list[str] = []
            walk(plan["Plan"], scans)
            summaries[name] = {
                "ms": plan["Execution Time"],
                "shared_hit": plan["Plan"].get("Shared Hit Blocks", 0),
                "shared_read": plan["Plan"].get("Shared Read Blocks", 0),
                "scans": scans,
            }
    finally:
        conn.rollback()
        daily.discard(conn, batch)
    return summaries


def walk(node: dict[str, Any], scans: list[str]) -> None:
    relation = node.get("Relation Name")
    if relation in SOURCE_TABLES:
        index = f" using {node['Index Name']}" if node.get("Index Name") else ""
        loops = node.get("Actual Loops", 1)
        rows = round(node.get("Actual Rows", 0) * loops)
        fetches = f", heap fetches {node['Heap Fetches']}" if "Heap Fetches" in node else ""
        scans.append(
            f"{node['Node Type']} on {relation}{index}: {rows:,} rows in {loops:,} loops{fetches}"
        )
    for child in node.get("Plans", []):
        walk(child, scans)


def time_gate(conn: Any, day: date) -> float | None:
    """Seconds the quality gate adds to a day, or None when the gate is not present."""
    try:
        from aans_analytics import quality
    except ImportError:
        return None
    if not hasattr(quality, "load_suites"):
        return None
    os.environ.setdefault("AANS_DATA_DOCS_DIR", str(BENCH_DIR / "data_docs"))
    batch = f"bench-gate|{time.monotonic_ns()}"
    daily.stage_day(conn, batch, day, datetime.now(UTC))
    started = time.perf_counter()
    try:
        quality.audit_batch(conn, batch, day, batch, overrides=1.0)
    finally:
        seconds = time.perf_counter() - started
        conn.rollback()
        daily.discard(conn, batch)
    return seconds


# --- memory -----------------------------------------------------------------------------------


class RssSampler:
    """Peak resident set of the PostgreSQL processes (summed) while a block runs."""

    def __init__(self, pgdata: Path):
        self.pgdata = pgdata
        self.peak = 0
        self._stop = threading.Event()

    @contextmanager
    def watching(self) -> Iterator["RssSampler"]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()

    def _run(self) -> None:
        import psutil

        pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        root = psutil.Process(pid)
        while not self._stop.is_set():
            try:
                processes = [root, *root.children(recursive=True)]
                total = sum(p.memory_info().rss for p in processes)
            except psutil.Error:
                continue
            self.peak = max(self.peak, total)
            self._stop.wait(0.02)


def python_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Airflow ----------------------------------------------------------------------------------


def airflow_backfill(tenant: Tenant, days: list[date]) -> tuple[float, float]:
    """Wall seconds of the days through Airflow (dag.test each), and of the same work direct."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook  # noqa: F401  (warm)

    from aans_analytics import pipeline

    started = time.perf_counter()
    for day in days:
        run_id = f"bench_direct_{day}"
        batch = pipeline.stage_business_day(datetime.combine(day, clock(), UTC), run_id)
        pipeline.validate_business_day(batch, datetime.combine(day, clock(), UTC), run_id, GATE)
        pipeline.publish_business_day(batch, datetime.combine(day, clock(), UTC))
    direct = time.perf_counter() - started

    from dags.analytics_daily import analytics_daily

    started = time.perf_counter()
    for day in days:
        run = analytics_daily.test(logical_date=datetime.combine(day, clock(), UTC), run_conf=GATE)
        if run.state != "success":
            raise RuntimeError(f"analytics_daily for {day} ended {run.state}")
    return time.perf_counter() - started, direct


# The bench measures cost, not the tenant's share of invalid rows; the gate still runs every rule.
GATE = {"max_invalid_share": 1.0}


def airflow_environment(database: str, home: Path) -> None:
    """Point Airflow at a private home and the tenant; before anything imports Airflow."""
    from aans_analytics.airflow_env import LocalLayout
    from aans_analytics.airflow_env import airflow_environment as environment

    uri = embedded.connection_uri(BENCH_DIR / "pgdata", database)
    os.environ.update(environment(LocalLayout(home), uri))
    os.environ["AANS_TASK_RETRIES"] = "0"
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )


# --- report -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cafes", type=int, default=500)
    parser.add_argument("--days", type=int, default=30, help="short history, in days")
    parser.add_argument("--long-days", type=int, default=365, help="long history, in days")
    parser.add_argument("--backfill-days", type=int, default=30)
    parser.add_argument("--no-backfill", action="store_true")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    pgdata = BENCH_DIR / "pgdata"
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    log_file = BENCH_DIR / "bench.log"
    with log_file.open("a") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
    say(f"Logs of Airflow, Great Expectations and PostgreSQL: {log_file}")
    home = Path(tempfile.mkdtemp(prefix="aans-daily-bench-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    # The tenants stay on disk for the next run; the server does not outlive the benchmark.
    atexit.register(stop_database, pgdata)
    # Airflow reads its configuration once, at first import, which the gate's modules trigger.
    airflow_environment(tenant_name(args.cafes, args.days, args.seed), home)
    say(f"Business date D = {BUSINESS_DATE}; tenants of {args.cafes} cafes in {pgdata}")
    short = prepare_tenant(pgdata, args.cafes, args.days, args.seed)
    long = prepare_tenant(pgdata, args.cafes, args.long_days, args.seed)
    figures: dict[str, Any] = {"cafes": args.cafes, "business_date": str(BUSINESS_DATE)}

    for tenant in (short, long):
        conn = tenant.connect()
        try:
            sampler = RssSampler(pgdata)
            with sampler.watching():
                stage = time_stage(conn, BUSINESS_DATE)
            floor = time_floor(conn, BUSINESS_DATE)
            flush_counters(conn)
        finally:
            conn.close()
        reads = tuples_read(tenant, BUSINESS_DATE)
        conn = tenant.connect()
        try:
            plans = plan_summaries(conn, BUSINESS_DATE)
            gate = time_gate(conn, BUSINESS_DATE)
        finally:
            conn.close()
        figures[tenant.name] = {
            "history_days": tenant.history_days,
            "source_rows": tenant.rows,
            "day_rows": tenant.day_rows,
            "stage_s": stage,
            "floor_s": floor,
            "ratio": stage / floor,
            "reads": reads,
            "plans": plans,
            "gate_s": gate,
            "postgres_peak_rss_mb": sampler.peak / 2**20,
            "python_peak_rss_mb": python_peak_mb(),
        }
        report_tenant(tenant, figures[tenant.name])

    s, ln = figures[short.name], figures[long.name]
    say("\nHistory: the same day with", s["history_days"], "and", ln["history_days"], "days")
    say(
        f"  day's SQL     {s['stage_s'] * 1000:8.1f} ms  vs  {ln['stage_s'] * 1000:8.1f} ms"
        f"   ({ln['stage_s'] / s['stage_s']:.2f}x)"
    )
    say(f"  vs the floor  {s['ratio']:8.2f}x     vs  {ln['ratio']:8.2f}x")
    say(
        f"  PostgreSQL peak RSS {s['postgres_peak_rss_mb']:.0f} MB vs "
        f"{ln['postgres_peak_rss_mb']:.0f} MB for {s['source_rows']:,} vs "
        f"{ln['source_rows']:,} source rows"
    )

    if not args.no_backfill:
        days = [BUSINESS_DATE - timedelta(days=n) for n in range(args.backfill_days - 1, -1, -1)]
        airflow_s, direct_s = airflow_backfill(short, days)
        share = (airflow_s - direct_s) / airflow_s
        figures["backfill"] = {
            "days": len(days),
            "airflow_s": airflow_s,
            "direct_s": direct_s,
            "airflow_share": share,
        }
        say(f"\nBackfill of {len(days)} days through Airflow (dag.test per day, {short.name}):")
        say(
            f"  wall {airflow_s:.1f} s ({airflow_s / len(days):.1f} s a day); the same stage,"
            f" gate and publish called directly {direct_s:.1f} s; Airflow's share {share:.0%}"
        )
    say(f"\nPeak RSS of this Python process: {python_peak_mb():.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


def report_tenant(tenant: Tenant, figures: dict[str, Any]) -> None:
    say(
        f"\n== {tenant.name}: {tenant.history_days} days of history,"
        f" {figures['source_rows']:,} source rows"
    )
    say(f"  day's SQL (stage_day)   {figures['stage_s'] * 1000:8.1f} ms   best of {REPEATS}")
    say(f"  floor (UTC-day group)   {figures['floor_s'] * 1000:8.1f} ms   best of {REPEATS}")
    say(f"  ratio                   {figures['ratio']:8.2f}x")
    if figures["gate_s"] is not None:
        say(f"  quality gate adds       {figures['gate_s'] * 1000:8.1f} ms")
    say(f"  PostgreSQL peak RSS     {figures['postgres_peak_rss_mb']:8.0f} MB during staging")
    say("  tuples read during one staging, per source table, against the day's rows:")
    say(
        f"    {'table':<13}{'day rows':>10}{'seq read':>10}{'idx read':>10}{'heap fetch':>11}"
        f"{'ratio':>8}"
    )
    for table in SOURCE_TABLES:
        read = figures["reads"].get(table, {})
        rows = figures["day_rows"].get(table, 0)
        tuples = read.get("seq_tup_read", 0) + read.get("idx_tup_read", 0)
        ratio = f"{tuples / rows:.2f}x" if rows else "-"
        say(
            f"    {table:<13}{rows:>10,}{read.get('seq_tup_read', 0):>10,}"
            f"{read.get('idx_tup_read', 0):>10,}{read.get('idx_tup_fetch', 0):>11,}{ratio:>8}"
        )
    say("  plans (EXPLAIN ANALYZE, BUFFERS; plain timestamp indexes present):")
    for name, plan in figures["plans"].items():
        say(
            f"    {name}: {plan['ms']:.1f} ms, shared hit {plan['shared_hit']:,}"
            f" read {plan['shared_read']:,}"
        )
        for scan in plan["scans"]:
            say(f"      {scan}")


if __name__ == "__main__":
    sys.exit(main())
