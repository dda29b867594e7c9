"""Fixtures of the Metabase tests: the strict stand-in, a client on it, a populated warehouse."""

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.metabase.standin import MetabaseStandIn

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "stand-in-admin-pw-1"
READER_PASSWORD = "reader-pw-for-tests"
CAFE_A = uuid.UUID("0a000000-0000-4000-8000-00000000000a")
CAFE_B = uuid.UUID("0b000000-0000-4000-8000-00000000000b")
FIRST_DAY = dt.date(2026, 11, 1)
DAYS = 10


@pytest.fixture
def standin() -> Iterator[MetabaseStandIn]:
    """A Metabase whose first admin user already exists."""
    server = MetabaseStandIn().start()
    server.complete_setup(ADMIN_EMAIL, ADMIN_PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def fresh_standin() -> Iterator[MetabaseStandIn]:
    """A Metabase just installed: no user yet, setup token set."""
    server = MetabaseStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def client(standin: MetabaseStandIn):
    from aans_analytics.metabase.client import MetabaseClient, MetabaseSettings

    settings = MetabaseSettings(url=standin.url, username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    # Short timeouts and no backoff keep the fault tests fast; the behaviour is the same.
    with MetabaseClient(settings, timeout=(2.0, 1.0), backoff_factor=0) as mb:
        yield mb


@pytest.fixture
def warehouse():
    from aans_analytics.metabase.sync import WarehouseSettings

    return WarehouseSettings(
        host="warehouse.internal",
        port=5432,
        dbname="aans",
        user="metabase_reader",
        password=READER_PASSWORD,
    )


@pytest.fixture
def dashboards():
    from aans_analytics.metabase.definitions import load_dashboards

    return load_dashboards()


def _insert_days(conn) -> None:
    """Ten days for two cafes in every daily table; the last day is provisional (intraday)."""
    import psycopg2.extras

    psycopg2.extras.register_uuid(conn_or_curs=conn)
    with conn.cursor() as cur:
        for offset in range(DAYS):
            day = FIRST_DAY + dt.timedelta(days=offset)
            final = offset < DAYS - 1
            through = dt.datetime.combine(day, dt.time(23, 59, 59), dt.UTC)
            if not final:
                through = dt.datetime.combine(day, dt.time(14, 45), dt.UTC)
            for cafe, scale in ((CAFE_A, 1), (CAFE_B, 3)):
                orders = (offset + 1) * scale
                revenue = orders * 12.5 + offset
                cur.execute(
                    "insert into analytics.order_analytics values"
                    " (%s, %s, %s, %s, round(%s::numeric / nullif(%s, 0), 2),"
                    " %s, %s, %s, %s, %s, %s)",
                    (
                        cafe,
                        day,
                        orders,
                        revenue,
                        revenue,
                        orders,
                        orders // 2,
                        orders // 3,
                        orders - orders // 2 - orders // 3,
                        1,
                        final,
                        through,
                    ),
                )
                cur.execute(
                    "insert into analytics.menu_item_sales values"
                    " (%s, %s, 'Masala dosa', %s, %s, %s, %s, %s),"
                    " (%s, %s, 'Filter coffee', %s, %s, %s, %s, %s)",
                    (
                        cafe,
                        day,
                        orders,
                        orders * 8,
                        orders,
                        final,
                        through,
                        cafe,
                        day,
                        orders * 2,
                        orders * 3,
                        orders,
                        final,
                        through,
                    ),
                )
                calls = 20 * scale + offset
                cur.execute(
                    "insert into analytics.call_metrics values"
                    " (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (cafe, day, calls, calls - 3, 3, 60 + offset * scale, 12, final, through),
                )
                for hour in (9, 12, 19):
                    cur.execute(
                        "insert into analytics.call_metrics_hourly values"
                        " (%s, %s, %s, %s, %s, %s, %s, %s)",
                        (cafe, day, hour, hour, hour - 1, 1, final, through),
                    )
                reviews = scale * 2 if offset % 3 else 0
                rating = (4.5 if scale == 1 else 3.0) if reviews else None
                cur.execute(
                    "insert into analytics.customer_satisfaction values"
                    " (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        cafe,
                        day,
                        reviews,
                        rating,
                        reviews // 2,
                        reviews // 4,
                        final,
                        through,
                    ),
                )
                cur.execute(
                    "insert into analytics.reservation_analytics values"
                    " (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (cafe, day, 10 * scale, 7 * scale, scale, scale, 3.5, final, through),
                )
            for table, outcome in (
                ("orders", "passed"),
                ("calls", "warning" if offset == 3 else "passed"),
            ):
                cur.execute(
                    "insert into analytics.data_quality_results"
                    " (business_date, run_id, table_name, rule, rows_checked, rows_failed, outcome)"
                    " values (%s, %s, %s, 'not_null_ids', 100, %s, %s)",
                    (day, f"run-{offset}", table, 0 if outcome == "passed" else 2, outcome),
                )
        start = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=DAYS - 2), dt.time(0), dt.UTC)
        for hour in range(48):
            for endpoint, base in (("/api/orders/:id", 40.0), ("/api/menu", 15.0)):
                cur.execute(
                    "insert into analytics.api_performance"
                    " (hour, endpoint, requests, errors, p50_ms, p95_ms, p99_ms, cache_hit_rate)"
                    " values (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        start + dt.timedelta(hours=hour),
                        endpoint,
                        100 + hour,
                        hour % 5,
                        base,
                        base * 3,
                        base * 6,
                        0.5 if endpoint == "/api/menu" else None,
                    ),
                )
        cur.execute("select to_regclass('analytics.alert_events') is not null")
        if cur.fetchone()[0]:
            cur.execute(
                "insert into analytics.alert_events (fingerprint, rule_name, subject,"
                " subject_label, kind, severity, status, measured_value, threshold,"
                " first_seen_at, last_seen_at)"
                " values ('fp-1', 'revenue_drop', %s, 'Cafe A', 'alert', 'warning', 'firing',"
                " 120.0, 200.0, %s, %s)",
                (str(CAFE_A), start, start + dt.timedelta(hours=5)),
            )
    conn.commit()


@pytest.fixture
def populated_db(empty_db):
    """A migrated warehouse with known rows in every analytics table, and the read-only role."""
    from aans_analytics.metabase.role import DEFAULT_ROLE, ensure_readonly_role
    from aans_analytics.warehouse import migrate

    conn = empty_db.connect()
    try:
        migrate(conn)
        _insert_days(conn)
        ensure_readonly_role(conn, DEFAULT_ROLE, READER_PASSWORD)
    finally:
        conn.close()
    return empty_db


@pytest.fixture
def reader_conn(populated_db):
    """A connection to the populated warehouse as the read-only role."""
    import psycopg2

    from aans_analytics.metabase.role import DEFAULT_ROLE

    conn = psycopg2.connect(
        host=str(populated_db.socket_dir),
        user=DEFAULT_ROLE,
        password=READER_PASSWORD,
        dbname=populated_db.name,
    )
    yield conn
    conn.close()


@pytest.fixture
def sql_files() -> list[Path]:
    root = Path(__file__).resolve().parents[2] / "sql" / "dashboards"
    return sorted(root.glob("*/*.sql"))


ROOT_DIR = Path(__file__).resolve().parents[2]
