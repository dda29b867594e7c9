"""The synthetic tenant, checked in a real PostgreSQL with SQL written here from DESIGN section 4.

Small tenants keep the module fast; each is generated once into its own database and read by
several tests.
"""

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from aans_analytics.tenant import TenantSpec, generate, is_empty
from aans_analytics.tenant.catalog import ZONES
from aans_analytics.tenant.clock import US_PER_DAY, build_calendar, utc_us
from aans_analytics.tenant.frame import (
    Column,
    Frame,
    copy_binary,
    encode_cents,
    encode_choice,
    encode_int,
    encode_phone,
    encode_timestamp,
    encode_uuid,
)

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("cafes", "orders", "order_items", "calls", "reviews", "reservations")
EVENT_TIMES = {
    "orders": "created_at",
    "calls": "started_at",
    "reviews": "created_at",
    "reservations": "reserved_for",
}
CAFE_TABLES = ("orders", "calls", "reviews", "reservations")

# Two weeks around the spring 2026 changes: Europe on 29 March, Australia, New Zealand and
# Chatham on 5 April. The period ends mid-afternoon UTC, so "today so far" exists.
SPEC = TenantSpec(
    cafes=10,
    start_date=date(2026, 3, 24),
    end_at=datetime(2026, 4, 7, 15, 20, 30, tzinfo=UTC),
    seed=11,
    orders_per_cafe_day=40.0,
    calls_per_cafe_day=60.0,
    reviews_per_cafe_day=6.0,
    reservations_per_cafe_day=8.0,
)
SPOILED_SHARE = 0.1

# Validity of a row, as DESIGN section 4 defines it, one predicate per table.
VALID = {
    "orders": """
        o.id is not null and o.created_at is not null
        and o.cafe_id in (select id from cafes)
        and o.delivery_type in ('delivery', 'dine_in', 'takeaway')
        and o.status in ('completed', 'cancelled')
        and o.total_amount >= 0""",
    "order_items": """
        o.id is not null and o.order_id is not null and o.item_name is not null
        and o.quantity >= 1 and o.unit_price >= 0""",
    "calls": """
        o.id is not null and o.started_at is not null
        and o.cafe_id in (select id from cafes)
        and o.status in ('answered', 'missed')
        and coalesce(o.duration_seconds, 0) >= 0""",
    "reviews": """
        o.id is not null and o.created_at is not null
        and o.cafe_id in (select id from cafes)
        and o.rating between 1 and 5""",
    "reservations": """
        o.id is not null and o.created_at is not null and o.reserved_for is not null
        and o.cafe_id in (select id from cafes)
        and o.party_size >= 1
        and o.status in ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')""",
}

# Every kind of invalid row DESIGN section 4 names, as a condition on the raw row.
FAULTS = {
    "orders": [
        "id is null",
        "cafe_id is null",
        "created_at is null",
        "delivery_type is null",
        "status is null",
        "total_amount is null",
        "cafe_id not in (select id from cafes)",
        "delivery_type not in ('delivery', 'dine_in', 'takeaway')",
        "status not in ('completed', 'cancelled')",
        "total_amount < 0",
    ],
    "order_items": [
        "id is null",
        "order_id is null",
        "item_name is null",
        "quantity is null",
        "unit_price is null",
        "quantity = 0",
        "quantity < 0",
        "unit_price < 0",
        "not exists (select from orders as p where p.id = order_id)",
    ],
    "calls": [
        "id is null",
        "cafe_id is null",
        "started_at is null",
        "status is null",
        "cafe_id not in (select id from cafes)",
        "status not in ('answered', 'missed')",
        "duration_seconds < 0",
    ],
    "reviews": [
        "id is null",
        "cafe_id is null",
        "created_at is null",
        "rating is null",
        "cafe_id not in (select id from cafes)",
        "rating = 0",
        "rating = 6",
    ],
    "reservations": [
        "id is null",
        "cafe_id is null",
        "created_at is null",
        "reserved_for is null",
        "party_size is null",
        "status is null",
        "cafe_id not in (select id from cafes)",
        "status not in ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')",
        "party_size = 0",
        "party_size < 0",
    ],
}


class Db:
    """A database of the session's embedded server holding the app tables."""

    def __init__(self, socket_dir: Path, name: str):
        self.dsn = f"host={socket_dir} user=postgres dbname={name}"
        self.name = name

    def connect(self):  # -> psycopg2 connection
        import psycopg2

        return psycopg2.connect(self.dsn)

    def query(self, sql: str, params: object = None) -> list[tuple]:
        conn = self.connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def value(self, sql: str, params: object = None) -> object:
        return self.query(sql, params)[0][0]


@pytest.fixture(scope="module")
def make_db(pg_socket_dir: Path) -> Iterator:
    """Creates databases with the app tables; drops them all at the end of the module."""
    import psycopg2

    admin = psycopg2.connect(f"host={pg_socket_dir} user=postgres dbname=aans")
    admin.autocommit = True
    names: list[str] = []

    def make() -> Db:
        name = f"tenant_{uuid.uuid4().hex[:10]}"
        with admin.cursor() as cur:
            cur.execute(f'create database "{name}"')
        names.append(name)
        db = Db(pg_socket_dir, name)
        db.query((ROOT / "sql" / "app" / "schema.sql").read_text())
        return db

    yield make
    with admin.cursor() as cur:
        for name in names:
            cur.execute(f'drop database if exists "{name}" with (force)')
    admin.close()


def load(db: Db, spec: TenantSpec, messages: list[str] | None = None) -> dict[str, int]:
    conn = db.connect()
    # The loader keeps to one transaction whatever the connection's mode.
    conn.autocommit = messages is not None
    try:
        progress = messages.append if messages is not None else None
        return generate(conn, spec, progress=progress, vacuum=False)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def tenant(make_db) -> tuple[Db, dict[str, int], list[str]]:
    db = make_db()
    messages: list[str] = []
    rows = load(db, SPEC, messages)
    return db, rows, messages


@pytest.fixture(scope="module")
def spoiled(make_db) -> Db:
    db = make_db()
    load(db, TenantSpec(**{**SPEC.__dict__, "cafes": 6, "invalid_share": SPOILED_SHARE}))
    return db


@pytest.fixture(scope="module")
def clean(make_db) -> Db:
    db = make_db()
    load(db, TenantSpec(**{**SPEC.__dict__, "invalid_share": 0.0}))
    return db


def digest(db: Db, table: str) -> str:
    """A digest of the table's rows that ignores their order."""
    return str(
        db.value(
            f"select md5(string_agg(h, '' order by h))"
            f" from (select md5(t::text) as h from {table} as t) as s"
        )
    )


def test_same_seed_gives_identical_tables_and_another_seed_does_not(tenant, make_db):
    first, _, _ = tenant
    again, other = make_db(), make_db()
    load(again, SPEC)
    load(other, TenantSpec(**{**SPEC.__dict__, "seed": SPEC.seed + 1}))

    for table in TABLES:
        assert digest(again, table) == digest(first, table), table
        assert digest(other, table) != digest(first, table), table


def test_returns_the_rows_it_wrote_and_reports_progress(tenant):
    db, rows, messages = tenant

    for table in TABLES:
        assert rows[table] == db.value(f"select count(*) from {table}") > 0, table
    assert len(messages) >= 5
    assert any("days drawn" in message for message in messages)
    assert "committed" in messages[-2] and "analysed" in messages[-1]


def test_is_empty_and_refuses_to_write_twice(tenant, make_db):
    db, _, _ = tenant
    fresh = make_db()
    conn, fresh_conn = db.connect(), fresh.connect()
    try:
        assert is_empty(fresh_conn)
        assert not is_empty(conn)
        with pytest.raises(ValueError, match="already"):
            generate(conn, SPEC)
    finally:
        conn.close()
        fresh_conn.close()
    assert db.value("select count(*) from cafes") == SPEC.cafes


def test_rows_are_on_disk_in_the_order_the_app_appends_them(tenant):
    db, _, _ = tenant
    appended = {**EVENT_TIMES, "reservations": "created_at", "cafes": "created_at"}

    for table, column in appended.items():
        backwards = db.value(
            f"select count(*) from (select {column} as at,"
            f" lag({column}) over (order by ctid) as before from {table}) as s"
            f" where at < before"
        )
        assert backwards == 0, table
    item_ids_backwards = db.value(
        "select count(*) from (select id, lag(id) over (order by ctid) as before"
        " from order_items) as s where id < before"
    )
    assert item_ids_backwards == 0


def test_row_counts_follow_the_configured_rates(tenant):
    _, rows, _ = tenant
    active = SPEC.cafes - 1  # one cafe never has events
    days = (SPEC.end_at - datetime.combine(SPEC.start_date, datetime.min.time(), UTC)).days

    for table, rate in [
        ("orders", SPEC.orders_per_cafe_day),
        ("calls", SPEC.calls_per_cafe_day),
        ("reviews", SPEC.reviews_per_cafe_day),
        ("reservations", SPEC.reservations_per_cafe_day),
    ]:
        expected = rate * active * days
        assert 0.7 * expected < rows[table] < 1.3 * expected, table
    assert 2.0 <= rows["order_items"] / rows["orders"] <= 3.0


def test_every_kind_of_invalid_row_is_present(spoiled):
    for table, conditions in FAULTS.items():
        for condition in conditions:
            found = spoiled.value(f"select count(*) from {table} where {condition}")
            assert found > 0, f"{table}: {condition}"


def test_invalid_rows_come_near_the_configured_share(tenant, spoiled):
    default_db, _, _ = tenant
    for db, share in [(spoiled, SPOILED_SHARE), (default_db, SPEC.invalid_share)]:
        invalid = total = 0
        for table, valid in VALID.items():
            counts = db.query(
                f"select count(*) filter (where not coalesce({valid}, false)),"
                f" count(*) from {table} as o"
            )[0]
            invalid += counts[0]
            total += counts[1]
            if share == SPOILED_SHARE:
                assert 0.5 * share < counts[0] / counts[1] < 1.6 * share, table
        assert 0.6 * share < invalid / total < 1.5 * share


def test_clean_tenant_has_consistent_orders_and_fixed_menus(clean):
    assert all(
        clean.value(f"select count(*) from {table} as o where not coalesce({valid}, false)") == 0
        for table, valid in VALID.items()
    )
    mismatched = clean.value(
        """
        select count(*)
        from orders as o
        left join (
            select order_id, sum(quantity * unit_price) as total, count(*) as lines
            from order_items group by order_id
        ) as i on i.order_id = o.id
        where i.lines is null or i.total <> o.total_amount
        """
    )
    assert mismatched == 0
    prices_per_item = clean.query(
        """
        select o.cafe_id, i.item_name, count(distinct i.unit_price)
        from order_items as i join orders as o on o.id = i.order_id
        group by o.cafe_id, i.item_name
        """
    )
    assert {count for _, _, count in prices_per_item} == {1}
    menu_sizes = clean.query(
        "select count(distinct i.item_name) from order_items as i"
        " join orders as o on o.id = i.order_id group by o.cafe_id"
    )
    assert all(5 <= size <= 30 for (size,) in menu_sizes)
    repeated = clean.value(
        "select max(n) from (select count(*) as n from order_items group by item_name) as s"
    )
    assert repeated > 50


def test_statuses_cover_cancellations_missed_calls_and_no_shows(tenant):
    db, _, _ = tenant
    assert db.value("select count(*) from orders where status = 'cancelled'") > 0
    assert db.value("select count(*) from orders where status = 'completed'") > 0
    assert {row[0] for row in db.query("select distinct delivery_type from orders")} >= {
        "delivery",
        "dine_in",
        "takeaway",
    }
    missed = db.query(
        # A negative duration on a missed call is one of the deliberate faults.
        "select count(*), count(duration_seconds) filter (where duration_seconds >= 0)"
        " from calls where status = 'missed'"
    )[0]
    assert missed[0] > 0 and missed[1] == 0
    statuses = {row[0] for row in db.query("select distinct status from reservations")}
    assert statuses >= {"pending", "confirmed", "completed", "cancelled", "no_show"}
    future_done = db.value(
        "select count(*) from reservations where reserved_for > %s"
        " and status in ('completed', 'no_show')",
        (SPEC.end_at,),
    )
    assert future_done == 0


def test_zones_include_half_hour_45_minute_and_daylight_saving(tenant):
    db, _, _ = tenant
    zones = {
        row[0]
        for row in db.query(
            "select distinct c.timezone from cafes as c where exists"
            " (select from orders as o where o.cafe_id = c.id)"
        )
    }
    winter, summer = datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)

    def minutes(zone: str, moment: datetime) -> int:
        offset = moment.astimezone(ZoneInfo(zone)).utcoffset()
        assert offset is not None
        return int(offset.total_seconds() // 60)

    assert any(minutes(zone, winter) % 60 == 30 for zone in zones)
    assert any(minutes(zone, winter) % 60 == 45 for zone in zones)
    assert any(minutes(zone, winter) != minutes(zone, summer) for zone in zones)
    assert "UTC" in zones


def test_some_events_fall_exactly_on_local_midnight_or_its_last_microsecond(tenant):
    db, _, _ = tenant
    for table, column in EVENT_TIMES.items():
        at_midnight, at_last_microsecond = db.query(
            f"select count(*) filter (where local_time = '00:00:00'),"
            f" count(*) filter (where local_time = '23:59:59.999999')"
            f" from (select (e.{column} at time zone c.timezone)::time as local_time"
            f" from {table} as e join cafes as c on c.id = e.cafe_id) as s"
        )[0]
        assert at_midnight > 0, table
        if table != "reservations":
            assert at_last_microsecond > 0, table


def test_cafes_created_mid_range_have_no_earlier_events_and_one_cafe_has_none(tenant):
    db, _, _ = tenant
    first_event = db.value("select min(created_at) from orders")
    mid_range = db.query(
        "select id, created_at from cafes where created_at > %s and created_at < %s",
        (first_event, SPEC.end_at),
    )
    assert mid_range
    for cafe_id, created_at in mid_range:
        for table in CAFE_TABLES:
            column = "created_at" if table == "reservations" else EVENT_TIMES[table]
            early, later = db.query(
                f"select count(*) filter (where {column} < %s), count(*)"
                f" from {table} where cafe_id = %s",
                (created_at, cafe_id),
            )[0]
            assert early == 0, table
            if table in ("orders", "calls"):
                assert later > 0, table
    silent = db.value(
        "select count(*) from cafes as c where "
        + " and ".join(f"not exists (select from {t} where cafe_id = c.id)" for t in CAFE_TABLES)
    )
    assert silent >= 1


def test_events_lie_between_the_first_local_day_and_end_at(tenant):
    db, _, _ = tenant
    appended = {**EVENT_TIMES, "reservations": "created_at"}
    for table, column in appended.items():
        latest, first_local_day = db.query(
            f"select max(e.{column}), min((e.{column} at time zone c.timezone)::date)"
            f" from {table} as e join cafes as c on c.id = e.cafe_id"
        )[0]
        assert latest <= SPEC.end_at, table
        assert first_local_day == SPEC.start_date, table
    # Today so far: the last UTC hour before end_at has calls.
    assert (
        db.value(
            "select count(*) from calls where started_at > %s",
            (SPEC.end_at - timedelta(hours=1),),
        )
        > 0
    )


def test_local_hours_have_lunch_and_dinner_peaks_and_mondays_are_quieter(tenant):
    db, _, _ = tenant
    by_hour = dict(
        db.query(
            "select extract(hour from o.created_at at time zone c.timezone)::int, count(*)"
            " from orders as o join cafes as c on c.id = o.cafe_id group by 1"
        )
    )
    lull = max(by_hour.get(15, 0), by_hour.get(16, 0))
    assert max(by_hour[12], by_hour[13]) > 1.5 * lull
    assert max(by_hour[18], by_hour[19], by_hour[20]) > 1.3 * lull
    assert by_hour.get(4, 0) * 10 < lull

    by_weekday = dict(
        db.query(
            "select extract(isodow from o.created_at at time zone c.timezone)::int, count(*)"
            " from orders as o join cafes as c on c.id = o.cafe_id group by 1"
        )
    )
    assert by_weekday[1] < by_weekday[5] and by_weekday[1] < by_weekday[6]


def test_phone_numbers_are_fictional(tenant):
    db, _, _ = tenant
    phones = [row[0] for row in db.query("select caller_phone from calls")]
    assert any(phone is None for phone in phones)
    assert all(re.fullmatch(r"\+1555\d{7}", phone) for phone in phones if phone is not None)


def test_wall_times_map_to_the_zone_database_across_daylight_saving_changes():
    first_day = date(2026, 3, 1)
    calendar = build_calendar(ZONES, first_day, 60)
    rng = np.random.default_rng(3)
    zone = rng.integers(0, len(ZONES), 20_000)
    # Half of the draws on the days that change the offset, where an error would hide.
    changes = [(date(2026, 3, 8) - first_day).days, (date(2026, 3, 29) - first_day).days]
    changes += [(date(2026, 4, 5) - first_day).days]
    day = np.where(
        rng.random(20_000) < 0.5, rng.choice(changes, 20_000), rng.integers(0, 60, 20_000)
    )
    wall = rng.integers(0, US_PER_DAY, 20_000)
    utc = calendar.to_utc(zone, day, wall)

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    mismatched = 0
    for z, d, w, u in zip(zone.tolist(), day.tolist(), wall.tolist(), utc.tolist(), strict=True):
        tz = ZoneInfo(ZONES[z])
        local = (epoch + timedelta(microseconds=u)).astimezone(tz).replace(tzinfo=None)
        expected = datetime.combine(first_day + timedelta(d), datetime.min.time())
        expected += timedelta(microseconds=w)
        if local != expected:
            # Only a wall time a spring change skips, which does not exist, may land elsewhere.
            round_trip = expected.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
            assert round_trip.replace(tzinfo=None) != expected, (ZONES[z], expected)
            mismatched += 1
    assert mismatched < 200
    assert utc_us(datetime(1970, 1, 2, tzinfo=UTC)) == US_PER_DAY


def test_binary_copy_round_trips_every_column_type(make_db):
    import io
    from decimal import Decimal

    db = make_db()
    texts = ["plain", "", "Crème brûlée ☕", "line\nbreak\ttab \\ backslash", '"quoted"']
    ids = [uuid.UUID(int=n * 0x0123456789ABCDEF + 1) for n in range(5)]
    moments = [
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2000, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, 0, 1, tzinfo=UTC),
        datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]
    cents = [0, 1, -150, 9_999_999_999, 123_456]
    frame = Frame(
        np.arange(5),
        {
            "u": np.frombuffer(b"".join(i.bytes for i in ids), dtype=np.uint8).reshape(5, 16),
            "t": np.array([utc_us(moment) for moment in moments], dtype=np.int64),
            "s": np.array([-32768, -1, 0, 6, 32767]),
            "i": np.array([-(2**31), -5, 0, 1, 2**31 - 1]),
            "b": np.array([-(2**63), -1, 0, 1, 2**63 - 1], dtype=np.int64),
            "n": np.array(cents, dtype=np.int64),
            "c": np.array([4, 3, 2, 1, 0]),
            "p": np.array([0, 1, 1234567, 9999999, 42]),
        },
    )
    frame.set_null("s", np.array([1]))
    frame.set_null("c", np.array([4]))
    frame.set_null("u", np.array([3]))
    layout = [
        Column("u", "uuid", encode_uuid),
        Column("t", "timestamptz", encode_timestamp),
        Column("s", "int2", encode_int(">i2")),
        Column("i", "int4", encode_int(">i4")),
        Column("b", "int8", encode_int(">i8")),
        Column("n", "numeric", encode_cents),
        Column("c", "text", encode_choice(texts)),
        Column("p", "text", encode_phone),
    ]
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "create table round_trip (u uuid, t timestamptz, s smallint, i int, b bigint,"
                " n numeric(12, 2), c text, p text)"
            )
            cur.copy_expert(
                "copy round_trip (u, t, s, i, b, n, c, p) from stdin (format binary)",
                io.BytesIO(copy_binary(frame, layout)),
            )
            cur.execute("select u, t, s, i, b, n, c, p from round_trip")
            loaded = cur.fetchall()
    finally:
        conn.close()

    expected = [
        (
            None if row == 3 else ids[row],
            moments[row],
            None if row == 1 else [-32768, -1, 0, 6, 32767][row],
            [-(2**31), -5, 0, 1, 2**31 - 1][row],
            [-(2**63), -1, 0, 1, 2**63 - 1][row],
            Decimal(cents[row]) / 100,
            None if row == 4 else texts[4 - row],
            ["+15550000000", "+15550000001", "+15551234567", "+15559999999", "+15550000042"][row],
        )
        for row in range(5)
    ]
    as_loaded = [(None if u is None else uuid.UUID(u), *rest) for u, *rest in loaded]
    assert as_loaded == expected


def test_command_line_loads_a_tenant(make_db):
    db = make_db()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'include'}{os.pathsep}{ROOT}"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "aans_analytics.tenant",
            "--dsn",
            db.dsn,
            "--cafes",
            "3",
            "--days",
            "2",
            "--seed",
            "5",
            "--end-at",
            "2026-06-01T12:00:00+00:00",
            "--no-vacuum",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert db.value("select count(*) from cafes") == 3
    assert db.value("select count(*) from orders") > 100
    assert db.value("select max(created_at) from orders") <= datetime(2026, 6, 1, 12, tzinfo=UTC)
