"""Small, hand-shaped source datasets for the daily correctness tests, and a seeded random one.

A `Source` collects rows in memory, in the shape `reference.read_source` returns (ids as text,
amounts as Decimal, timestamps as aware datetimes), then writes them to the app tables. The same
rows can therefore feed the reference directly or go through PostgreSQL first.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.reference import SOURCE_COLUMNS, Row

_NAMESPACE = uuid.UUID("9d1c5c2e-6a57-4d6e-9b59-0c3a55a1a001")
LAST_MICROSECOND = time(23, 59, 59, 999_999)


def at_local(zone: str, day: date, clock: time = time(0), fold: int = 0) -> datetime:
    """The UTC instant of a local wall-clock time; `fold=1` picks the second of a repeated hour.

    A wall time that a spring-forward skips is read with the offset before the change (02:30 on
    New York's spring-forward day is 07:30 UTC, 03:30 local).
    """
    local = datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).replace(fold=fold)
    return local.astimezone(UTC)


@dataclass
class Source:
    """Rows of the six app tables, built in memory, then inserted in one transaction."""

    label: str = "s"
    rows: dict[str, list[Row]] = field(
        default_factory=lambda: {table: [] for table in SOURCE_COLUMNS}
    )
    _counter: int = 0

    def new_id(self) -> str:
        self._counter += 1
        return str(uuid.uuid5(_NAMESPACE, f"{self.label}:{self._counter}"))

    def _add(self, table: str, row: Row) -> Row:
        assert set(row) == set(SOURCE_COLUMNS[table]), (table, row)
        self.rows[table].append(row)
        return row

    def cafe(
        self, timezone: str | None, created_at: datetime, name: str | None = "Cafe", **over: Any
    ) -> str:
        row = {"id": self.new_id(), "name": name, "timezone": timezone, "created_at": created_at}
        return self._add("cafes", {**row, **over})["id"]

    def order(
        self,
        cafe_id: str | None,
        created_at: datetime | None,
        delivery_type: str | None = "dine_in",
        status: str | None = "completed",
        total_amount: str | Decimal | None = "10.00",
        **over: Any,
    ) -> str:
        row = {
            "id": self.new_id(),
            "cafe_id": cafe_id,
            "created_at": created_at,
            "delivery_type": delivery_type,
            "status": status,
            "total_amount": None if total_amount is None else Decimal(total_amount),
        }
        return self._add("orders", {**row, **over})["id"]

    def item(
        self,
        order_id: str | None,
        item_name: str | None,
        quantity: int | None = 1,
        unit_price: str | Decimal | None = "4.50",
        **over: Any,
    ) -> int:
        row = {
            "id": len(self.rows["order_items"]) + 1,
            "order_id": order_id,
            "item_name": item_name,
            "quantity": quantity,
            "unit_price": None if unit_price is None else Decimal(unit_price),
        }
        return self._add("order_items", {**row, **over})["id"]

    def call(
        self,
        cafe_id: str | None,
        started_at: datetime | None,
        status: str | None = "answered",
        duration_seconds: int | None = 60,
        **over: Any,
    ) -> str:
        row = {
            "id": self.new_id(),
            "cafe_id": cafe_id,
            "started_at": started_at,
            "status": status,
            "duration_seconds": duration_seconds,
            "caller_phone": "+15550100",
        }
        return self._add("calls", {**row, **over})["id"]

    def review(
        self, cafe_id: str | None, created_at: datetime | None, rating: int | None = 5, **over: Any
    ) -> str:
        row = {
            "id": self.new_id(),
            "cafe_id": cafe_id,
            "created_at": created_at,
            "rating": rating,
            "comment": None,
        }
        return self._add("reviews", {**row, **over})["id"]

    def reservation(
        self,
        cafe_id: str | None,
        reserved_for: datetime | None,
        party_size: int | None = 2,
        status: str | None = "confirmed",
        **over: Any,
    ) -> str:
        row = {
            "id": self.new_id(),
            "cafe_id": cafe_id,
            "created_at": None if reserved_for is None else reserved_for - timedelta(days=2),
            "reserved_for": reserved_for,
            "party_size": party_size,
            "status": status,
        }
        return self._add("reservations", {**row, **over})["id"]

    def insert(self, conn: Any) -> None:
        """Write every row to the app tables and commit."""
        from psycopg2.extras import execute_values

        with conn.cursor() as cur:
            for table, columns in SOURCE_COLUMNS.items():
                rows = [tuple(r[c] for c in columns) for r in self.rows[table]]
                if rows:
                    execute_values(
                        cur, f"insert into {table} ({', '.join(columns)}) values %s", rows
                    )
        conn.commit()


# Business dates of the edge scenario: each is a daylight-saving change somewhere.
SPRING_NEW_YORK = date(2026, 3, 8)  # New York and St John's spring forward at 02:00
SPRING_LONDON = date(2026, 3, 29)  # London springs forward at 01:00
FALL_ADELAIDE = date(2026, 4, 5)  # Adelaide falls back at 03:00, Chatham at 03:45
FALL_LONDON = date(2026, 10, 25)  # London falls back at 02:00
FALL_NEW_YORK = date(2026, 11, 1)  # New York and St John's fall back at 02:00
EDGE_DATES = (SPRING_NEW_YORK, SPRING_LONDON, FALL_ADELAIDE, FALL_LONDON, FALL_NEW_YORK)

EDGE_ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Adelaide",
    "Asia/Kolkata",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Pacific/Kiritimati",  # UTC+14: its day D starts on UTC day D-1
    "Pacific/Pago_Pago",  # UTC-11: its day D ends on UTC day D+1
)

# Wall-clock times of one local day that sit on the edges: both sides of midnight, and the
# hours a daylight-saving change skips or repeats in one zone or another (fold 1 = second pass).
_EDGE_CLOCKS: tuple[tuple[int, time, int], ...] = (
    (-1, LAST_MICROSECOND, 0),
    (0, time(0), 0),
    (0, time(0, 59, 59, 999_999), 0),
    (0, time(1, 30), 0),
    (0, time(1, 30), 1),
    (0, time(2, 30), 0),
    (0, time(2, 30), 1),
    (0, time(3, 15), 0),
    (0, time(3, 15), 1),
    (0, time(12, 0), 0),
    (0, time(12, 59), 0),
    (0, time(19, 45), 0),
    (0, LAST_MICROSECOND, 0),
    (1, time(0), 0),
)
_MENU = ("Latte", "Flat white", "Croissant", "latte", "Soup of the day")


@dataclass
class EdgeScenario:
    source: Source
    dates: tuple[date, ...]
    cafes: dict[str, str]


def _edge_day(src: Source, cafe_id: str, zone: str, day: date, salt: int) -> None:
    """Events of every table at every edge clock of `day` (and just outside it)."""
    for n, (offset, clock, fold) in enumerate(_EDGE_CLOCKS):
        at = at_local(zone, day + timedelta(days=offset), clock, fold)
        k = n + salt
        order_id = src.order(
            cafe_id,
            at,
            delivery_type=("delivery", "dine_in", "takeaway")[k % 3],
            status="cancelled" if k % 5 == 0 else "completed",
            total_amount=Decimal(1000 + 337 * k) / 100,
        )
        src.item(order_id, _MENU[k % len(_MENU)], quantity=1 + k % 3, unit_price="3.35")
        if k % 2:
            # The same item twice in one order: one order for order_count, two lines of quantity.
            src.item(order_id, _MENU[(k + 1) % len(_MENU)], quantity=2, unit_price="2.05")
            src.item(order_id, _MENU[(k + 1) % len(_MENU)], quantity=1, unit_price="2.05")
        status = "missed" if k % 4 == 1 else "answered"
        src.call(cafe_id, at, status=status, duration_seconds=None if k % 6 == 3 else 30 + 7 * k)
        src.review(cafe_id, at, rating=1 + k % 5)
        src.reservation(
            cafe_id,
            at,
            party_size=1 + k % 7,
            status=("pending", "confirmed", "completed", "cancelled", "no_show")[k % 5],
        )


def build_edge_scenario() -> EdgeScenario:
    """Hand-shaped cafes and events for `EDGE_DATES`; every row is valid unless noted."""
    src = Source("edge")
    opened = datetime(2025, 12, 1, tzinfo=UTC)
    cafes = {zone: src.cafe(zone, opened, name=zone) for zone in EDGE_ZONES}
    for day in EDGE_DATES:
        for salt, (zone, cafe_id) in enumerate(cafes.items()):
            _edge_day(src, cafe_id, zone, day, salt + day.day)

    # A cafe that never has an event: zeros and NULL averages every day.
    cafes["quiet"] = src.cafe("Europe/London", opened, name="quiet")

    # Opened mid-range: counts from FALL_LONDON on, not before.
    cafes["opened_june"] = src.cafe("Asia/Kolkata", datetime(2026, 6, 1, 12, tzinfo=UTC))
    for day in EDGE_DATES:
        src.call(cafes["opened_june"], at_local("Asia/Kolkata", day, time(9)))
        src.order(cafes["opened_june"], at_local("Asia/Kolkata", day, time(9)), "takeaway")

    # Opened in the last microsecond of FALL_LONDON: counts that day, with its one late call.
    last = at_local("Europe/London", FALL_LONDON, LAST_MICROSECOND)
    cafes["opened_last_moment"] = src.cafe("Europe/London", last)
    src.call(cafes["opened_last_moment"], last, status="missed", duration_seconds=None)
    src.order(cafes["opened_last_moment"], last, "delivery", total_amount="7.77")

    # Opened at the local midnight that ends FALL_NEW_YORK: not a cafe of that day, so its
    # earlier events of that day count nowhere, not even in the sparse tables.
    midnight = at_local("America/New_York", FALL_NEW_YORK + timedelta(days=1))
    cafes["opened_next_midnight"] = src.cafe("America/New_York", midnight)
    early = at_local("America/New_York", FALL_NEW_YORK, time(10))
    src.call(cafes["opened_next_midnight"], early)
    src.item(src.order(cafes["opened_next_midnight"], early), "Latte", 2, "3.00")

    # Peak-hour ties: two calls at 09:xx and two at 14:xx, the earliest hour wins. On New York's
    # fall-back day, 01:xx happens twice and ties with 09:xx and 14:xx.
    cafes["tie"] = src.cafe("America/New_York", opened)
    for day in EDGE_DATES:
        for clock in (time(14, 5), time(9, 59), time(14, 50), time(9, 0), time(20)):
            src.call(cafes["tie"], at_local("America/New_York", day, clock), "missed", None)
    for fold in (0, 1):
        src.call(cafes["tie"], at_local("America/New_York", FALL_NEW_YORK, time(1, 10), fold))
    src.call(cafes["tie"], at_local("America/New_York", FALL_NEW_YORK, time(0, 30)))

    # Calls: answered without a duration (a call, not in the average), missed with a duration
    # (not in the average), a zero duration (in the average).
    cafes["durations"] = src.cafe("Asia/Kathmandu", opened)
    for day in EDGE_DATES:
        at = at_local("Asia/Kathmandu", day, time(11))
        src.call(cafes["durations"], at, "answered", None)
        src.call(cafes["durations"], at, "missed", 500)
        src.call(cafes["durations"], at, "answered", 0)
        src.call(cafes["durations"], at, "answered", 3)

    # Orders of every type and status, items of cancelled and of invalid orders, invalid items.
    cafes["orders"] = src.cafe("America/St_Johns", opened)
    for day in EDGE_DATES:
        at = at_local("America/St_Johns", day, time(18, 30))
        for delivery_type in ("delivery", "dine_in", "takeaway"):
            for status in ("completed", "cancelled"):
                order_id = src.order(cafes["orders"], at, delivery_type, status, "12.34")
                src.item(order_id, f"{delivery_type} {status}", 1, "12.34")
        bad_order = src.order(cafes["orders"], at, "drone", "completed", "5.00")
        src.item(bad_order, "Latte", 1, "5.00")
        negative = src.order(cafes["orders"], at, "delivery", "completed", "-1.00")
        src.item(negative, "Latte", 1, "5.00")
        good = src.order(cafes["orders"], at, "takeaway", "completed", "9.99")
        src.item(good, "Bagel", 0, "1.00")
        src.item(good, "Bagel", 2, "-1.00")
        src.item(good, None, 1, "1.00")
        src.item(good, "Bagel", 3, "3.33")

    # Rows of cafes that do not count: an unknown and a missing time zone (they cannot be
    # dated), and a cafe row without a name (invalid like any row with a required column unset).
    for zone, name in (("Mars/Olympus_Mons", "tz"), (None, "tz"), ("UTC", None)):
        ghost = src.cafe(zone, opened, name=name)
        for day in EDGE_DATES:
            at = datetime.combine(day, time(12), tzinfo=UTC)
            src.item(src.order(ghost, at), "Latte", 1, "3.00")
            src.call(ghost, at)
            src.review(ghost, at, 1)
            src.reservation(ghost, at)
        cafes[f"{name} {zone}"] = ghost

    _invalid_rows(src, cafes)
    return EdgeScenario(src, EDGE_DATES, cafes)


def _invalid_rows(src: Source, cafes: dict[str, str]) -> None:
    """A cafe with one valid row per table a day and, around it, invalid rows of every kind.

    Counted, the invalid rows would move the peak hour to 08, the averages and the totals.
    """
    zone = "Asia/Kolkata"
    cafe = cafes["invalid"] = src.cafe(zone, datetime(2025, 12, 1, tzinfo=UTC), name="invalid")
    unknown = str(uuid.uuid5(_NAMESPACE, "no such row"))
    for day in EDGE_DATES:
        at, early = at_local(zone, day, time(10)), at_local(zone, day, time(8))
        src.call(cafe, at, "answered", 100)
        src.call(cafe, early, "voicemail", 1)
        src.call(cafe, early, "answered", -1)
        src.call(cafe, early, None, 1)
        src.call(cafe, early, "missed", None, id=None)
        src.call(unknown, early)
        src.call(cafe, None)
        src.review(cafe, at, 5)
        for rating in (0, 6, None):
            src.review(cafe, early, rating)
        src.review(cafe, None, 1)
        src.review(unknown, early, 1)
        src.reservation(cafe, at, 4, "confirmed")
        src.reservation(cafe, early, 0, "confirmed")
        src.reservation(cafe, early, None, "confirmed")
        src.reservation(cafe, early, 1, "waitlisted")
        src.reservation(cafe, early, 1, None)
        src.reservation(cafe, early, 1, "pending", created_at=None)
        src.reservation(cafe, None, 1, "pending")
        src.reservation(None, early, 1, "pending")
        order = src.order(cafe, at, "dine_in", "completed", "20.00")
        src.item(order, "Chai", 2, "10.00")
        src.item(order, "Chai", None, "1.00")
        src.item(order, "Chai", 1, None)
        src.item(order, "Chai", 1, "1.00", id=None)
        src.item(None, "Chai", 1, "1.00")
        src.item(unknown, "Chai", 1, "1.00")
        for broken in (
            {"id": None},
            {"created_at": None},
            {"status": None},
            {"delivery_type": None},
            {"total_amount": None},
            {"cafe_id": unknown},
        ):
            fields = {
                "cafe_id": cafe,
                "created_at": early,
                "delivery_type": "dine_in",
                "status": "completed",
                "total_amount": "99.00",
            }
            invalid_order = src.order(**{**fields, **broken})
            src.item(invalid_order, "Chai", 1, "99.00")


RANDOM_ZONES = (
    "Australia/Adelaide",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Europe/London",
    "America/New_York",
    "America/St_Johns",
    "UTC",
)
# Ways a row can break DESIGN section 4, per table: a column and the bad value it gets.
_INVALID: dict[str, tuple[tuple[str, Any], ...]] = {
    "orders": (
        ("id", None),
        ("cafe_id", None),
        ("cafe_id", "unknown cafe"),
        ("created_at", None),
        ("delivery_type", "drone"),
        ("delivery_type", None),
        ("status", "refunded"),
        ("status", None),
        ("total_amount", Decimal("-0.01")),
        ("total_amount", None),
    ),
    "order_items": (
        ("id", None),
        ("order_id", None),
        ("order_id", "unknown order"),
        ("item_name", None),
        ("quantity", 0),
        ("quantity", -2),
        ("quantity", None),
        ("unit_price", Decimal("-0.50")),
        ("unit_price", None),
    ),
    "calls": (
        ("id", None),
        ("cafe_id", "unknown cafe"),
        ("started_at", None),
        ("status", "voicemail"),
        ("status", None),
        ("duration_seconds", -1),
    ),
    "reviews": (
        ("cafe_id", "unknown cafe"),
        ("created_at", None),
        ("rating", 0),
        ("rating", 6),
        ("rating", None),
    ),
    "reservations": (
        ("cafe_id", None),
        ("created_at", None),
        ("reserved_for", None),
        ("party_size", 0),
        ("party_size", None),
        ("status", "waitlisted"),
    ),
}

_DATED_BY = {
    "orders": "created_at",
    "calls": "started_at",
    "reviews": "created_at",
    "reservations": "reserved_for",
}


@dataclass
class RandomScenario:
    source: Source
    dates: tuple[date, ...]
    invalid: dict[str, int]


def _random_local_time(rng: random.Random, zone: str, day: date) -> datetime:
    """A moment of the local day, busier at lunch and dinner, sometimes right at midnight."""
    roll = rng.random()
    if roll < 0.04:
        return at_local(zone, day)
    if roll < 0.08:
        return at_local(zone, day, LAST_MICROSECOND)
    hour = min(
        23, max(0, round(rng.choice((rng.gauss(12.5, 1.5), rng.gauss(19, 2), rng.uniform(0, 24)))))
    )
    clock = time(hour, rng.randrange(60), rng.randrange(60), rng.randrange(1_000_000))
    return at_local(zone, day, clock, fold=rng.randrange(2))


def build_random_scenario(
    seed: int, first_day: date, days: int = 4, per_day: int = 100, invalid_share: float = 0.005
) -> RandomScenario:
    """About `per_day` orders and calls a day (fewer reviews and reservations) over `days` dates,
    with `invalid_share` of each table's rows broken in one of the ways of `_INVALID`, and a few
    repeated primary keys."""
    rng = random.Random(seed)
    src = Source(f"random{seed}")
    dates = tuple(first_day + timedelta(days=n) for n in range(days))
    opened = datetime.combine(first_day - timedelta(days=30), time(), tzinfo=UTC)
    cafes = [(src.cafe(zone, opened, name=zone), zone) for zone in RANDOM_ZONES]
    # One opens during the range (at a random moment), one never sees an event.
    middle = at_local("Europe/London", dates[1], time(rng.randrange(24), rng.randrange(60)))
    cafes.append((src.cafe("Europe/London", middle, name="opens mid-range"), "Europe/London"))
    src.cafe("Asia/Kolkata", opened, name="no events")
    ghosts = [src.cafe(zone, opened, name="undatable") for zone in ("Moon/Base", None)]

    menu = [f"Item {n}" for n in range(12)]
    for day in dates:
        for _ in range(per_day):
            cafe_id, zone = rng.choice(cafes)
            order_id = src.order(
                cafe_id,
                _random_local_time(rng, zone, day),
                rng.choice(("delivery", "dine_in", "takeaway")),
                "cancelled" if rng.random() < 0.1 else "completed",
                Decimal(rng.randrange(100, 9000)) / 100,
            )
            for _ in range(rng.choice((1, 2, 2, 3))):
                src.item(
                    order_id,
                    rng.choice(menu),
                    rng.choice((1, 1, 1, 2, 3)),
                    Decimal(rng.randrange(50, 1500)) / 100,
                )
        for _ in range(per_day):
            cafe_id, zone = rng.choice(cafes)
            answered = rng.random() < 0.8
            duration = rng.randrange(5, 900) if answered and rng.random() < 0.95 else None
            src.call(
                cafe_id,
                _random_local_time(rng, zone, day),
                "answered" if answered else "missed",
                duration,
            )
        for _ in range(per_day // 2):
            cafe_id, zone = rng.choice(cafes)
            src.review(cafe_id, _random_local_time(rng, zone, day), rng.choice((1, 2, 3, 4, 5, 5)))
        for _ in range(per_day // 2):
            cafe_id, zone = rng.choice(cafes)
            src.reservation(
                cafe_id,
                _random_local_time(rng, zone, day),
                rng.randrange(1, 9),
                rng.choice(("pending", "confirmed", "completed", "cancelled", "no_show")),
            )
        for ghost in ghosts:
            at = datetime.combine(day, time(12), tzinfo=UTC)
            src.call(ghost, at)
            src.item(src.order(ghost, at), "Item 1", 1, "2.00")

    invalid = _break_rows(rng, src, invalid_share, dates[1:3])
    for table in ("calls", "reviews", "reservations", "order_items"):
        # The app may repeat a primary key; DESIGN does not make such rows invalid.
        src.rows[table].append(dict(rng.choice(src.rows[table])))
    return RandomScenario(src, dates, invalid)


def _break_rows(
    rng: random.Random, src: Source, share: float, days: tuple[date, ...]
) -> dict[str, int]:
    """Break `share` of each table's rows, picked among the rows of `days` (the dates the tests
    run), so that every run meets some of them."""
    orders_on_days = {
        o["id"] for o in src.rows["orders"] if o["created_at"].astimezone(UTC).date() in days
    }
    broken: dict[str, int] = {}
    for table, kinds in _INVALID.items():
        rows = src.rows[table]
        count = max(1, round(share * len(rows)))
        if table == "order_items":
            candidates = [r for r in rows if r["order_id"] in orders_on_days]
        else:
            stamp = _DATED_BY[table]
            candidates = [r for r in rows if r[stamp].astimezone(UTC).date() in days]
        for row in rng.sample(candidates, count):
            column, value = rng.choice(kinds)
            if value in ("unknown cafe", "unknown order"):
                value = str(uuid.UUID(int=rng.getrandbits(128)))
            row[column] = value
        broken[table] = count
    return broken


DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "analytics_daily.py"


def run_daily(day: date, conf: dict[str, Any] | None = None) -> None:
    """One real run of `analytics_daily` for business date `day` through `dag.test()`; it must
    succeed. The `app_db` and `airflow_db` fixtures must be active."""
    from dags.analytics_daily import analytics_daily

    logical_date = datetime.combine(day, time(), tzinfo=UTC)
    dag_run = analytics_daily.test(logical_date=logical_date, run_conf=conf or {})
    assert dag_run.state == "success", f"analytics_daily for {day} ended {dag_run.state}"
