"""An independent computation of the daily analytics, in plain Python, from the raw source rows.

It follows DESIGN sections 4 (validity) and 5 (column definitions) and shares nothing with the
pipeline: the source tables are read with plain selects, and every date, count, sum, average and
rounding is computed here with `zoneinfo`, `Fraction` and `Decimal`. Tests compare what the DAG
wrote with what this module says it should have written.

Decisions where the contract is silent (each one is also a test in tests/test_reference.py):
- A cafe counts only when its own row is valid: id, name and created_at set and a time zone that
  `zoneinfo` knows. Rows of a cafe that does not count are not counted (they cannot be dated).
- A cafe counts for date D when its created_at falls on local date D or earlier. The sparse
  tables follow the same cafes as the dense ones: events dated before the cafe's first day are
  not counted anywhere.
- Rows that repeat a primary key are all counted: DESIGN's validity rules do not exclude them.
- A missed call that carries a duration still counts as a missed call; only answered calls enter
  the average duration.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Row = dict[str, Any]
Key = tuple[Any, ...]
Table = dict[Key, dict[str, Any]]

SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "cafes": ("id", "name", "timezone", "created_at"),
    "orders": ("id", "cafe_id", "created_at", "delivery_type", "status", "total_amount"),
    "order_items": ("id", "order_id", "item_name", "quantity", "unit_price"),
    "calls": ("id", "cafe_id", "started_at", "status", "duration_seconds", "caller_phone"),
    "reviews": ("id", "cafe_id", "created_at", "rating", "comment"),
    "reservations": ("id", "cafe_id", "created_at", "reserved_for", "party_size", "status"),
}
OPTIONAL_COLUMNS = {
    "calls": {"duration_seconds", "caller_phone"},
    "reviews": {"comment"},
}
DELIVERY_TYPES = ("delivery", "dine_in", "takeaway")
ORDER_STATUSES = ("completed", "cancelled")
CALL_STATUSES = ("answered", "missed")
RESERVATION_STATUSES = ("pending", "confirmed", "completed", "cancelled", "no_show")

# Key columns and value columns of each analytics table, as DESIGN section 5 names them.
ANALYTICS_KEYS: dict[str, tuple[str, ...]] = {
    "order_analytics": ("cafe_id", "date"),
    "menu_item_sales": ("cafe_id", "date", "item_name"),
    "call_metrics": ("cafe_id", "date"),
    "call_metrics_hourly": ("cafe_id", "date", "hour"),
    "customer_satisfaction": ("cafe_id", "date"),
    "reservation_analytics": ("cafe_id", "date"),
}
ANALYTICS_VALUES: dict[str, tuple[str, ...]] = {
    "order_analytics": (
        "total_orders",
        "total_revenue",
        "average_order_value",
        "delivery_orders",
        "dine_in_orders",
        "takeaway_orders",
        "cancelled_orders",
    ),
    "menu_item_sales": ("quantity_sold", "revenue", "order_count"),
    "call_metrics": (
        "total_calls",
        "answered_calls",
        "missed_calls",
        "average_duration",
        "peak_hour",
    ),
    "call_metrics_hourly": ("total_calls", "answered_calls", "missed_calls"),
    "customer_satisfaction": (
        "total_reviews",
        "average_rating",
        "positive_reviews",
        "negative_reviews",
    ),
    "reservation_analytics": (
        "total_reservations",
        "confirmed_reservations",
        "cancelled_reservations",
        "no_show_reservations",
        "average_party_size",
    ),
}
DENSE_TABLES = ("order_analytics", "call_metrics", "customer_satisfaction", "reservation_analytics")


def read_source(conn: Any) -> dict[str, list[Row]]:
    """Every row of the six app tables, as dicts; timestamps come back as aware datetimes."""
    source: dict[str, list[Row]] = {}
    with conn.cursor() as cur:
        cur.execute("set time zone 'UTC'")
        for table, columns in SOURCE_COLUMNS.items():
            # Names come from the fixed mapping above, never from input.
            cur.execute(f"select {', '.join(columns)} from {table}")
            source[table] = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    conn.rollback()
    return source


def read_analytics(conn: Any, day: date | None = None) -> dict[str, Table]:
    """What the pipeline wrote, keyed like `compute_day`'s result; one day or every day."""
    result: dict[str, Table] = {}
    with conn.cursor() as cur:
        for table, keys in ANALYTICS_KEYS.items():
            columns = keys + ANALYTICS_VALUES[table]
            sql = f"select {', '.join(columns)} from analytics.{table}"
            if day is None:
                cur.execute(sql)
            else:
                cur.execute(sql + " where date = %s", (day,))
            rows: Table = {}
            for row in cur.fetchall():
                key = tuple(
                    str(v) if k == "cafe_id" else v for k, v in zip(keys, row, strict=False)
                )
                assert key not in rows, f"{table}: key {key} twice"
                rows[key] = dict(zip(ANALYTICS_VALUES[table], row[len(keys) :], strict=True))
            result[table] = rows
    conn.rollback()
    return result


def pg_round(value: Fraction, places: int = 0) -> Decimal:
    """PostgreSQL's round(numeric, n) of an exact value: half away from zero."""
    scaled = abs(value) * 10**places
    rounded = math.floor(scaled + Fraction(1, 2))
    sign = -1 if value < 0 else 1
    return Decimal(sign * rounded).scaleb(-places)


def zone_of(name: Any) -> ZoneInfo | None:
    """The cafe's time zone, or None when the name is missing or unknown."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_date(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def _all_set(table: str, row: Row) -> bool:
    optional = OPTIONAL_COLUMNS.get(table, set())
    return all(row[c] is not None for c in SOURCE_COLUMNS[table] if c not in optional)


@dataclass(frozen=True)
class Cafe:
    id: str
    zone: ZoneInfo
    first_day: date


def dated_cafes(cafes: Iterable[Row]) -> dict[str, Cafe]:
    """Cafes whose rows are valid, with the first local date each one counts for."""
    result: dict[str, Cafe] = {}
    for row in cafes:
        zone = zone_of(row["timezone"])
        if zone is None or not _all_set("cafes", row):
            continue
        cafe_id = str(row["id"])
        if cafe_id in result:
            raise ValueError(f"cafe {cafe_id} appears twice: the scenario is ambiguous")
        result[cafe_id] = Cafe(cafe_id, zone, local_date(row["created_at"], zone))
    return result


def order_is_valid(row: Row, cafes: Mapping[str, Cafe]) -> bool:
    return (
        _all_set("orders", row)
        and str(row["cafe_id"]) in cafes
        and row["delivery_type"] in DELIVERY_TYPES
        and row["status"] in ORDER_STATUSES
        and row["total_amount"] >= 0
    )


def item_is_valid(row: Row) -> bool:
    return _all_set("order_items", row) and row["quantity"] >= 1 and row["unit_price"] >= 0


def call_is_valid(row: Row, cafes: Mapping[str, Cafe]) -> bool:
    duration = row["duration_seconds"]
    return (
        _all_set("calls", row)
        and str(row["cafe_id"]) in cafes
        and row["status"] in CALL_STATUSES
        and (duration is None or duration >= 0)
    )


def review_is_valid(row: Row, cafes: Mapping[str, Cafe]) -> bool:
    return _all_set("reviews", row) and str(row["cafe_id"]) in cafes and 1 <= row["rating"] <= 5


def reservation_is_valid(row: Row, cafes: Mapping[str, Cafe]) -> bool:
    return (
        _all_set("reservations", row)
        and str(row["cafe_id"]) in cafes
        and row["status"] in RESERVATION_STATUSES
        and row["party_size"] >= 1
    )


@dataclass
class _Day:
    """The valid rows of one business date, grouped by cafe."""

    cafes: list[Cafe]
    orders: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    calls: dict[str, list[tuple[Row, int]]] = field(default_factory=lambda: defaultdict(list))
    reviews: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    reservations: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))


def _on_day(cafes: Mapping[str, Cafe], cafe_id: Any, at: datetime, day: date) -> Cafe | None:
    """The cafe when the event falls on its local date `day` and the cafe counts that day."""
    cafe = cafes[str(cafe_id)]
    if day < cafe.first_day or local_date(at, cafe.zone) != day:
        return None
    return cafe


def _collect(source: Mapping[str, list[Row]], day: date) -> _Day:
    cafes = dated_cafes(source["cafes"])
    result = _Day([c for c in cafes.values() if c.first_day <= day])
    for row in source["orders"]:
        if order_is_valid(row, cafes) and _on_day(cafes, row["cafe_id"], row["created_at"], day):
            result.orders[str(row["cafe_id"])].append(row)
    for row in source["calls"]:
        if not call_is_valid(row, cafes):
            continue
        cafe = _on_day(cafes, row["cafe_id"], row["started_at"], day)
        if cafe:
            result.calls[cafe.id].append((row, row["started_at"].astimezone(cafe.zone).hour))
    for row in source["reviews"]:
        if review_is_valid(row, cafes) and _on_day(cafes, row["cafe_id"], row["created_at"], day):
            result.reviews[str(row["cafe_id"])].append(row)
    for row in source["reservations"]:
        if reservation_is_valid(row, cafes) and _on_day(
            cafes, row["cafe_id"], row["reserved_for"], day
        ):
            result.reservations[str(row["cafe_id"])].append(row)
    return result


def _average(values: list[int] | list[Decimal], places: int) -> Decimal | None:
    if not values:
        return None
    return pg_round(Fraction(sum(values, Decimal(0))) / len(values), places)


def _order_row(orders: list[Row]) -> dict[str, Any]:
    counted = [o for o in orders if o["status"] != "cancelled"]
    revenue = sum((o["total_amount"] for o in counted), Decimal(0))
    return {
        "total_orders": len(counted),
        "total_revenue": revenue,
        "average_order_value": (pg_round(Fraction(revenue) / len(counted), 2) if counted else None),
        "delivery_orders": sum(o["delivery_type"] == "delivery" for o in counted),
        "dine_in_orders": sum(o["delivery_type"] == "dine_in" for o in counted),
        "takeaway_orders": sum(o["delivery_type"] == "takeaway" for o in counted),
        "cancelled_orders": len(orders) - len(counted),
    }


def _call_row(calls: list[tuple[Row, int]]) -> dict[str, Any]:
    answered = [c for c, _ in calls if c["status"] == "answered"]
    durations = [c["duration_seconds"] for c in answered if c["duration_seconds"] is not None]
    per_hour: dict[int, int] = defaultdict(int)
    for _, hour in calls:
        per_hour[hour] += 1
    # The earliest hour wins a tie: sort by count descending, then hour ascending.
    peak = min(per_hour, key=lambda h: (-per_hour[h], h)) if per_hour else None
    average = _average(durations, 0)
    return {
        "total_calls": len(calls),
        "answered_calls": len(answered),
        "missed_calls": len(calls) - len(answered),
        "average_duration": None if average is None else int(average),
        "peak_hour": peak,
    }


def _review_row(reviews: list[Row]) -> dict[str, Any]:
    ratings = [r["rating"] for r in reviews]
    return {
        "total_reviews": len(ratings),
        "average_rating": _average(ratings, 2),
        "positive_reviews": sum(r >= 4 for r in ratings),
        "negative_reviews": sum(r <= 2 for r in ratings),
    }


def _reservation_row(reservations: list[Row]) -> dict[str, Any]:
    statuses = [r["status"] for r in reservations]
    sizes = [r["party_size"] for r in reservations if r["status"] != "cancelled"]
    return {
        "total_reservations": len(statuses),
        "confirmed_reservations": sum(s in ("confirmed", "completed") for s in statuses),
        "cancelled_reservations": statuses.count("cancelled"),
        "no_show_reservations": statuses.count("no_show"),
        "average_party_size": _average(sizes, 2),
    }


def _hourly_rows(cafe_id: str, day: date, calls: list[tuple[Row, int]]) -> Table:
    rows: Table = {}
    for call, hour in calls:
        row = rows.setdefault(
            (cafe_id, day, hour), {"total_calls": 0, "answered_calls": 0, "missed_calls": 0}
        )
        row["total_calls"] += 1
        row["answered_calls" if call["status"] == "answered" else "missed_calls"] += 1
    return rows


def _item_rows(source: Mapping[str, list[Row]], day_rows: _Day, day: date) -> Table:
    # An item counts only with an order that order_analytics counts: valid, not cancelled, dated.
    counted: dict[str, list[str]] = defaultdict(list)
    for cafe_id, orders in day_rows.orders.items():
        for order in orders:
            if order["status"] != "cancelled":
                counted[str(order["id"])].append(cafe_id)
    sales: dict[Key, dict[str, Any]] = {}
    for item in source["order_items"]:
        if not item_is_valid(item):
            continue
        # Like a join: an item meets every counted order row that carries its order id.
        for cafe_id in counted.get(str(item["order_id"]), []):
            key = (cafe_id, day, item["item_name"])
            sale = sales.setdefault(
                key, {"quantity_sold": 0, "revenue": Decimal(0), "orders": set()}
            )
            sale["quantity_sold"] += item["quantity"]
            sale["revenue"] += item["quantity"] * item["unit_price"]
            sale["orders"].add(str(item["order_id"]))
    return {
        key: {
            "quantity_sold": s["quantity_sold"],
            "revenue": s["revenue"],
            "order_count": len(s["orders"]),
        }
        for key, s in sales.items()
    }


def compute_day(source: Mapping[str, list[Row]], day: date) -> dict[str, Table]:
    """Every analytics table's rows for business date `day`, keyed like `read_analytics`."""
    day_rows = _collect(source, day)
    result: dict[str, Table] = {table: {} for table in ANALYTICS_KEYS}
    for cafe in day_rows.cafes:
        key = (cafe.id, day)
        calls = day_rows.calls.get(cafe.id, [])
        result["order_analytics"][key] = _order_row(day_rows.orders.get(cafe.id, []))
        result["call_metrics"][key] = _call_row(calls)
        result["customer_satisfaction"][key] = _review_row(day_rows.reviews.get(cafe.id, []))
        result["reservation_analytics"][key] = _reservation_row(
            day_rows.reservations.get(cafe.id, [])
        )
        result["call_metrics_hourly"].update(_hourly_rows(cafe.id, day, calls))
    result["menu_item_sales"] = _item_rows(source, day_rows, day)
    return result


def differences(expected: Mapping[str, Table], actual: Mapping[str, Table]) -> list[str]:
    """Readable differences, one line per missing, extra or differing row; empty when equal."""
    lines: list[str] = []
    for table in ANALYTICS_KEYS:
        want, got = expected.get(table, {}), actual.get(table, {})
        for key in sorted(want.keys() - got.keys(), key=repr):
            lines.append(f"{table} {key}: missing, expected {want[key]}")
        for key in sorted(got.keys() - want.keys(), key=repr):
            lines.append(f"{table} {key}: unexpected row {got[key]}")
        for key in sorted(want.keys() & got.keys(), key=repr):
            for column in ANALYTICS_VALUES[table]:
                w, g = want[key][column], got[key][column]
                # Exact: types must agree on NULL, and values (Decimal or int) must be equal.
                if (w is None) != (g is None) or w != g:
                    lines.append(f"{table} {key} {column}: expected {w!r}, got {g!r}")
    return lines
