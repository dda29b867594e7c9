"""Writes the tenant into the app tables: day by day, in time order, through COPY.

Generation runs in this thread while a second thread streams the previous chunk into PostgreSQL
(psycopg2 releases the GIL while it sends), so both cores work. Memory stays flat: at most two
days of rows wait for their turn, plus one chunk in flight.
"""

import io
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import numpy as np

from aans_analytics.tenant import catalog
from aans_analytics.tenant.cafes import GHOST_CAFES, Cafes, build_cafes
from aans_analytics.tenant.clock import US_PER_HOUR, build_calendar
from aans_analytics.tenant.events import COMMENTS, DayGenerator, Streams, new_ids
from aans_analytics.tenant.frame import (
    Column,
    Frame,
    concat,
    copy_binary,
    encode_cents,
    encode_choice,
    encode_int,
    encode_phone,
    encode_timestamp,
    encode_uuid,
)
from aans_analytics.tenant.invalid import Spoiler
from aans_analytics.tenant.spec import TenantSpec

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
TABLES = ("cafes", "orders", "order_items", "calls", "reviews", "reservations")
# Rows per COPY statement: big enough to amortise a statement, small enough to keep memory flat.
CHUNK_ROWS = 100_000
# Reservations can be booked up to 22 days ahead, so the calendar runs that far past the period.
DAYS_AHEAD = 23
MAX_AHEAD_US = catalog.MAX_UTC_OFFSET_HOURS * US_PER_HOUR

LAYOUTS: dict[str, list[Column]] = {
    "orders": [
        Column("id", "uuid", encode_uuid),
        Column("cafe_id", "uuid", encode_uuid),
        Column("created_at", "timestamptz", encode_timestamp),
        Column(
            "delivery_type",
            "text",
            encode_choice(catalog.DELIVERY_TYPES + catalog.UNKNOWN_DELIVERY_TYPES),
        ),
        Column(
            "status", "text", encode_choice(catalog.ORDER_STATUSES + catalog.UNKNOWN_ORDER_STATUSES)
        ),
        Column("total_amount", "numeric", encode_cents),
    ],
    "order_items": [
        Column("id", "int8", encode_int(">i8")),
        Column("order_id", "uuid", encode_uuid),
        Column("item_name", "text", encode_choice([name for name, _ in catalog.MENU])),
        Column("quantity", "int4", encode_int(">i4")),
        Column("unit_price", "numeric", encode_cents),
    ],
    "calls": [
        Column("id", "uuid", encode_uuid),
        Column("cafe_id", "uuid", encode_uuid),
        Column("started_at", "timestamptz", encode_timestamp),
        Column(
            "status", "text", encode_choice(catalog.CALL_STATUSES + catalog.UNKNOWN_CALL_STATUSES)
        ),
        Column("duration_seconds", "int4", encode_int(">i4")),
        Column("caller_phone", "text", encode_phone),
    ],
    "reviews": [
        Column("id", "uuid", encode_uuid),
        Column("cafe_id", "uuid", encode_uuid),
        Column("created_at", "timestamptz", encode_timestamp),
        Column("rating", "int2", encode_int(">i2")),
        Column("comment", "text", encode_choice(COMMENTS)),
    ],
    "reservations": [
        Column("id", "uuid", encode_uuid),
        Column("cafe_id", "uuid", encode_uuid),
        Column("created_at", "timestamptz", encode_timestamp),
        Column("reserved_for", "timestamptz", encode_timestamp),
        Column("party_size", "int4", encode_int(">i4")),
        Column(
            "status",
            "text",
            encode_choice(catalog.RESERVATION_STATUSES + catalog.UNKNOWN_RESERVATION_STATUSES),
        ),
    ],
}


def is_empty(conn: Any) -> bool:
    """True when the app tables hold no cafe (or do not exist yet)."""
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    was_idle = conn.get_transaction_status() == TRANSACTION_STATUS_IDLE
    with conn.cursor() as cur:
        cur.execute("select to_regclass('cafes') is null")
        missing = cur.fetchone()[0]
        if not missing:
            cur.execute("select not exists (select from cafes)")
            missing = cur.fetchone()[0]
    if was_idle:
        # End the read we started; a transaction the caller had open stays theirs.
        conn.rollback()
    return bool(missing)


def generate(
    conn: Any, spec: TenantSpec, progress: Progress | None = None, *, vacuum: bool = True
) -> dict[str, int]:
    """Write the tenant through a psycopg2 connection with COPY; return rows written per table.

    The app tables must exist and hold no cafe. Everything is written in one transaction, so an
    interrupted load leaves the tables empty. Then the tables are analysed, and with `vacuum` also
    vacuumed, which sets the visibility map that index-only scans need.
    """
    if not is_empty(conn):
        raise ValueError("the app tables already hold a tenant; generate into empty tables")
    report = _Reporter(progress)
    started = time.monotonic()

    encoding, autocommit = conn.encoding, conn.autocommit
    if encoding != "UTF8":
        # Texts go out as UTF-8 bytes; the server converts them to its own encoding.
        conn.set_client_encoding("UTF8")
    # One transaction even on an autocommit connection: all or nothing, and COPY FREEZE needs it.
    conn.autocommit = False
    try:
        rows = _write(conn, spec, report)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.autocommit = autocommit
        if encoding != "UTF8":
            conn.set_client_encoding(encoding)
    report(f"tenant: {sum(rows.values()):,} rows committed in {time.monotonic() - started:.0f} s")
    log.info("Rows per table: %s", rows)

    _maintain(conn, vacuum, report)
    return rows


def _write(conn: Any, spec: TenantSpec, report: "_Reporter") -> dict[str, int]:
    """Draw the tenant day by day and load it, inside the caller's transaction."""
    rngs = [np.random.default_rng(seed) for seed in np.random.SeedSequence(spec.seed).spawn(7)]
    streams = Streams(*rngs[2:])
    calendar = build_calendar(catalog.ZONES, spec.start_date, spec.days + DAYS_AHEAD)
    cafes = build_cafes(spec, calendar, rngs[0], new_ids(streams.ids, spec.cafes + GHOST_CAFES))
    days = DayGenerator(spec, cafes, calendar, streams)
    spoiler = Spoiler(spec.invalid_share, rngs[1], cafes.ids[cafes.count :], days.new_ids)
    cafe_layout = _cafe_layout(cafes)
    _check_columns(conn, {**LAYOUTS, "cafes": cafe_layout})

    indexes = _drop_indexes(conn)
    with _Writer(conn, frozen=_truncate_if_empty(conn)) as writer:
        writer.send("cafes", _cafes_frame(cafes), cafe_layout)
        queues = {table: _TimeOrderedQueue(table, writer) for table in TABLES[1:]}
        drawn = cafes.count
        for day in range(spec.days):
            # Once local day `day` is drawn everywhere, no later day can add a row before the
            # horizon: the earliest zone starts its next day 14 hours before UTC does.
            horizon = int(calendar.day_start_naive_us(day + 1)) - MAX_AHEAD_US
            for table, frame in days.day(day).items():
                spoiler.spoil(table, frame)
                queues[table].add(frame, horizon)
                drawn += len(frame)
            report.day(spec, day, drawn)
        for queue in queues.values():
            queue.flush()
    _create_indexes(conn, indexes, report)
    return {table: writer.rows.get(table, 0) for table in TABLES}


class _Writer:
    """Runs COPY statements on a second thread, at most two behind the generator."""

    def __init__(self, conn: Any, frozen: bool):
        self.conn = conn
        self.options = "format binary, freeze" if frozen else "format binary"
        self.rows: dict[str, int] = {}
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenant-copy")
        self.in_flight: deque[Future[None]] = deque()

    def __enter__(self) -> "_Writer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            while self.in_flight:
                self.in_flight.popleft().result()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def send(self, table: str, frame: Frame, layout: Sequence[Column] | None = None) -> None:
        layout = layout or LAYOUTS[table]
        payload = copy_binary(frame, layout)
        while len(self.in_flight) >= 2:
            self.in_flight.popleft().result()
        # Table and column names come from the fixed layouts above, never from input.
        columns = ", ".join(column.name for column in layout)
        statement = f"copy {table} ({columns}) from stdin ({self.options})"
        self.in_flight.append(self.pool.submit(self._copy, statement, payload))
        self.rows[table] = self.rows.get(table, 0) + len(frame)

    def _copy(self, statement: str, payload: bytes) -> None:
        with self.conn.cursor() as cur:
            cur.copy_expert(statement, io.BytesIO(payload), size=1 << 20)


class _TimeOrderedQueue:
    """Holds a table's rows until no later day can add an earlier row; then writes them in order."""

    def __init__(self, table: str, writer: _Writer):
        self.table = table
        self.writer = writer
        self.waiting: Frame | None = None
        self.ready: list[Frame] = []
        self.ready_rows = 0
        self.next_id = 1

    def add(self, frame: Frame, horizon_us: int) -> None:
        frame = frame.sorted()
        if self.waiting is not None:
            # Both parts are sorted already: the stable sort merges two runs in linear time.
            frame = concat([self.waiting, frame]).sorted()
        cut = int(np.searchsorted(frame.key, horizon_us, side="left"))
        self.ready.append(frame.take(slice(0, cut)))
        self.ready_rows += cut
        self.waiting = frame.take(slice(cut, None))
        if self.ready_rows >= CHUNK_ROWS:
            self._write()

    def flush(self) -> None:
        if self.waiting is not None:
            self.ready.append(self.waiting)
            self.ready_rows += len(self.waiting)
            self.waiting = None
        self._write()

    def _write(self) -> None:
        if not self.ready:
            return
        rows = concat(self.ready)
        self.ready, self.ready_rows = [], 0
        if not len(rows):
            return
        if self.table == "order_items":
            # A bigint id from a sequence grows with the physical order of the rows.
            rows.columns["id"] = np.arange(self.next_id, self.next_id + len(rows), dtype=np.int64)
            self.next_id += len(rows)
        for start in range(0, len(rows), CHUNK_ROWS):
            self.writer.send(self.table, rows.take(slice(start, start + CHUNK_ROWS)))


def _cafes_frame(cafes: Cafes) -> Frame:
    """The cafes, in the order the app created them."""
    frame = Frame(
        cafes.created_us,
        {
            "id": cafes.ids[: cafes.count],
            "name": np.arange(cafes.count),
            "timezone": cafes.zone,
            "created_at": cafes.created_us,
        },
    )
    return frame.sorted()


def _cafe_layout(cafes: Cafes) -> list[Column]:
    return [
        Column("id", "uuid", encode_uuid),
        Column("name", "text", encode_choice(cafes.names)),
        Column("timezone", "text", encode_choice(catalog.ZONES)),
        Column("created_at", "timestamptz", encode_timestamp),
    ]


class _Reporter:
    """Tells the log and the caller's progress callback, if any, how the load goes."""

    def __init__(self, progress: Progress | None):
        self.progress = progress

    def __call__(self, message: str) -> None:
        log.info("%s", message)
        if self.progress is not None:
            self.progress(message)

    def day(self, spec: TenantSpec, day: int, drawn: int) -> None:
        """Report about every tenth of the days, and the last one."""
        done = day + 1
        if done % max(1, spec.days // 10) == 0 or done == spec.days:
            self(
                f"tenant: {done}/{spec.days} days drawn (to {spec.start_date + timedelta(day)}),"
                f" {drawn:,} rows"
            )


def _check_columns(conn: Any, layouts: dict[str, list[Column]]) -> None:
    """Binary COPY needs every column's exact type: name any that differs from what we send."""
    with conn.cursor() as cur:
        cur.execute(
            "select c.relname, a.attname, t.typname"
            " from pg_attribute as a"
            " join pg_class as c on c.oid = a.attrelid"
            " join pg_type as t on t.oid = a.atttypid"
            " where a.attrelid = any(%s::regclass[]) and a.attnum > 0 and not a.attisdropped",
            (list(TABLES),),
        )
        actual = {(table, column): pg_type for table, column, pg_type in cur.fetchall()}
    wrong = [
        f"{table}.{column.name} is {actual.get((table, column.name), 'missing')},"
        f" not {column.pg_type}"
        for table, layout in layouts.items()
        for column in layout
        if actual.get((table, column.name)) != column.pg_type
    ]
    if wrong:
        raise ValueError("the app tables differ from sql/app/schema.sql: " + "; ".join(wrong))


def _truncate_if_empty(conn: Any) -> bool:
    """Truncate the app tables when all are empty, so that COPY may write its rows frozen.

    Rows frozen on load are visible to everyone without hint bits or a later vacuum rewriting
    every page. Only an empty table qualifies: nothing is ever deleted here.
    """
    with conn.cursor() as cur:
        for table in TABLES:
            cur.execute(f"select exists (select from {table})")
            if cur.fetchone()[0]:
                return False
        cur.execute(f"truncate {', '.join(TABLES)}")
    return True


def _drop_indexes(conn: Any) -> list[str]:
    """Drop the app tables' indexes for the load; return the statements that recreate them.

    Building an index once from sorted rows is several times faster than growing it row by row,
    and the rows on disk come out the same. Indexes behind constraints stay where they are.
    """
    with conn.cursor() as cur:
        cur.execute(
            "select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
            " from pg_index as i"
            " left join pg_constraint as c on c.conindid = i.indexrelid"
            " where i.indrelid = any(%s::regclass[]) and c.oid is null",
            (list(TABLES),),
        )
        found = cur.fetchall()
        for name, _ in found:
            # The name comes from the catalogue, quoted by regclass where it needs quoting.
            cur.execute(f"drop index {name}")
    return [definition for _, definition in found]


def _create_indexes(conn: Any, definitions: list[str], report: _Reporter) -> None:
    started = time.monotonic()
    with conn.cursor() as cur:
        cur.execute("set local maintenance_work_mem = '512MB'")
        for definition in definitions:
            cur.execute(definition)
    if definitions:
        report(f"tenant: {len(definitions)} indexes rebuilt in {time.monotonic() - started:.0f} s")


def _maintain(conn: Any, vacuum: bool, report: _Reporter) -> None:
    """Refresh planner statistics, and with `vacuum` the visibility map, of every app table."""
    started = time.monotonic()
    autocommit = conn.autocommit
    # VACUUM cannot run inside a transaction block.
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for table in TABLES:
                cur.execute(f"vacuum (analyze) {table}" if vacuum else f"analyze {table}")
    finally:
        conn.autocommit = autocommit
    done = "vacuumed and analysed" if vacuum else "analysed"
    report(f"tenant: tables {done} in {time.monotonic() - started:.0f} s")
