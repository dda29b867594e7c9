"""The independent reference itself, on tiny cases whose answers were worked out by hand from
DESIGN sections 4 and 5. Timestamps here are written in UTC on purpose, with the local time they
stand for beside them, so that the reference's time-zone handling is checked, not reused."""

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from tests import reference
from tests.reference import compute_day, pg_round
from tests.scenarios import (
    EDGE_DATES,
    FALL_LONDON,
    FALL_NEW_YORK,
    SPRING_NEW_YORK,
    Source,
    build_edge_scenario,
    build_random_scenario,
)

LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Fraction(1005, 1000), 2, Decimal("1.01")),  # a half goes away from zero, not to even
        (Fraction(1015, 1000), 2, Decimal("1.02")),
        (Fraction(25, 8), 2, Decimal("3.13")),
        (Fraction(21, 2), 0, Decimal("11")),
        (Fraction(5, 2), 0, Decimal("3")),
        (Fraction(-5, 2), 0, Decimal("-3")),
        (Fraction(7, 3), 2, Decimal("2.33")),
        (Fraction(2), 2, Decimal("2.00")),
    ],
)
def test_pg_round_is_half_away_from_zero(value, places, expected):
    assert pg_round(value, places) == expected


def test_orders_and_items_on_london_spring_forward_day():
    # Europe/London 2026-03-29: local day runs from 00:00 UTC (GMT) to 23:00 UTC (BST).
    src = Source("t")
    cafe = src.cafe("Europe/London", LONG_AGO)
    day = date(2026, 3, 29)
    a = src.order(cafe, utc(2026, 3, 29, 0, 0), "delivery", "completed", "1.00")  # 00:00 GMT
    b = src.order(cafe, utc(2026, 3, 29, 22, 59, 59, 999_999), "takeaway", "completed", "1.01")
    c = src.order(cafe, utc(2026, 3, 29, 12), "dine_in", "cancelled", "50.00")
    d = src.order(cafe, utc(2026, 3, 29, 12), "dine_in", "refunded", "99.00")  # invalid status
    before = src.order(cafe, utc(2026, 3, 28, 23, 59, 59, 999_999))  # 23:59:59.999999 GMT, 28th
    after = src.order(cafe, utc(2026, 3, 29, 23))  # 00:00 BST on the 30th
    src.item(a, "Latte", 2, "3.50")
    src.item(a, "Latte", 1, "3.50")
    src.item(b, "Latte", 1, "4.00")
    src.item(b, "Scone", 0, "2.00")  # quantity 0: invalid
    src.item(c, "Latte", 5, "1.00")  # cancelled order
    src.item(d, "Latte", 1, "1.00")  # invalid order
    src.item(before, "Latte", 1, "1.00")
    src.item(after, "Scone", 1, "1.00")

    result = compute_day(src.rows, day)

    assert result["order_analytics"] == {
        (cafe, day): {
            "total_orders": 2,
            "total_revenue": Decimal("2.01"),
            "average_order_value": Decimal("1.01"),  # 2.01 / 2 = 1.005
            "delivery_orders": 1,
            "dine_in_orders": 0,
            "takeaway_orders": 1,
            "cancelled_orders": 1,
        }
    }
    assert result["menu_item_sales"] == {
        (cafe, day, "Latte"): {
            "quantity_sold": 4,
            "revenue": Decimal("14.50"),
            "order_count": 2,
        }
    }


def test_calls_on_new_york_fall_back_day():
    # America/New_York 2026-11-01: EDT (UTC-4) until 06:00 UTC, then EST (UTC-5); the local day
    # runs 04:00 UTC to 05:00 UTC next day, and local hour 1 happens twice.
    src = Source("t")
    cafe = src.cafe("America/New_York", LONG_AGO)
    day = date(2026, 11, 1)
    src.call(cafe, utc(2026, 11, 1, 5, 10), "answered", 10)  # 01:10 EDT
    src.call(cafe, utc(2026, 11, 1, 6, 10), "answered", 11)  # 01:10 EST
    src.call(cafe, utc(2026, 11, 1, 4, 0), "missed", None)  # 00:00
    src.call(cafe, utc(2026, 11, 2, 4, 30), "answered", None)  # 23:30, no duration
    src.call(cafe, utc(2026, 11, 2, 4, 59, 59, 999_999), "missed", 100)  # 23:59:59.999999
    src.call(cafe, utc(2026, 11, 2, 5, 0), "answered", 1)  # next day
    src.call(cafe, utc(2026, 11, 1, 3, 59, 59), "answered", 1)  # previous day
    for _ in range(3):
        src.call(cafe, utc(2026, 11, 1, 10), "voicemail", 1)  # 05:00, invalid status
    src.call(cafe, utc(2026, 11, 1, 10), "answered", -5)  # invalid duration

    result = compute_day(src.rows, day)

    assert result["call_metrics"] == {
        (cafe, day): {
            "total_calls": 5,
            "answered_calls": 3,
            "missed_calls": 2,
            "average_duration": 11,  # (10 + 11) / 2 = 10.5, half away from zero
            "peak_hour": 1,  # hours 1 and 23 both have two calls
        }
    }
    assert result["call_metrics_hourly"] == {
        (cafe, day, 0): {"total_calls": 1, "answered_calls": 0, "missed_calls": 1},
        (cafe, day, 1): {"total_calls": 2, "answered_calls": 2, "missed_calls": 0},
        (cafe, day, 23): {"total_calls": 2, "answered_calls": 1, "missed_calls": 1},
    }


def test_reviews_in_a_45_minute_zone():
    # Asia/Kathmandu is UTC+05:45: local 2026-06-15 runs from 06-14 18:15 UTC to 06-15 18:15 UTC.
    src = Source("t")
    cafe = src.cafe("Asia/Kathmandu", LONG_AGO)
    day = date(2026, 6, 15)
    for rating in (5, 5, 3, 3, 3, 3, 2):
        src.review(cafe, utc(2026, 6, 15, 9), rating)
    src.review(cafe, utc(2026, 6, 14, 18, 15), 1)  # local 00:00:00
    src.review(cafe, utc(2026, 6, 14, 18, 14, 59, 999_999), 4)  # previous local day
    src.review(cafe, utc(2026, 6, 15, 18, 15), 4)  # next local day
    src.review(cafe, utc(2026, 6, 15, 9), 6)  # invalid
    src.review(cafe, utc(2026, 6, 15, 9), 0)  # invalid
    src.review(cafe, None, 5)  # invalid

    result = compute_day(src.rows, day)

    assert result["customer_satisfaction"] == {
        (cafe, day): {
            "total_reviews": 8,
            "average_rating": Decimal("3.13"),  # 25 / 8 = 3.125
            "positive_reviews": 2,
            "negative_reviews": 2,
        }
    }


def test_reservations_in_a_half_hour_zone_dated_by_reserved_for():
    # Asia/Kolkata is UTC+05:30: local 2026-06-15 runs from 06-14 18:30 UTC to 06-15 18:30 UTC.
    src = Source("t")
    cafe = src.cafe("Asia/Kolkata", LONG_AGO)
    day = date(2026, 6, 15)
    at = utc(2026, 6, 14, 18, 30)  # local 00:00
    src.reservation(cafe, at, 2, "confirmed")
    src.reservation(cafe, at, 4, "completed")
    src.reservation(cafe, at, 3, "pending")
    src.reservation(cafe, at, 10, "cancelled")  # not in the average
    src.reservation(cafe, utc(2026, 6, 15, 18, 29), 1, "no_show")  # local 23:59
    # Made during the day, for the next local day: not this day's.
    src.reservation(cafe, utc(2026, 6, 15, 18, 30), 8, "confirmed", created_at=at)
    src.reservation(cafe, at, 0, "confirmed")  # invalid party size
    src.reservation(cafe, at, 2, "confirmed", created_at=None)  # invalid: created_at missing
    src.reservation(cafe, at, 2, "waitlisted")  # invalid status

    result = compute_day(src.rows, day)

    assert result["reservation_analytics"] == {
        (cafe, day): {
            "total_reservations": 5,
            "confirmed_reservations": 2,
            "cancelled_reservations": 1,
            "no_show_reservations": 1,
            "average_party_size": Decimal("2.50"),  # (2 + 4 + 3 + 1) / 4
        }
    }


def test_which_cafes_count_on_a_day():
    # America/St_Johns in June is UTC-02:30: local 2026-06-15 ends at 06-16 02:30 UTC.
    src = Source("t")
    day = date(2026, 6, 15)
    just_in = src.cafe("America/St_Johns", utc(2026, 6, 16, 2, 29, 59, 999_999))
    too_late = src.cafe("America/St_Johns", utc(2026, 6, 16, 2, 30))
    src.call(too_late, utc(2026, 6, 15, 12))
    src.item(src.order(too_late, utc(2026, 6, 15, 12)), "Latte")
    for zone in ("Mars/Olympus_Mons", None, ""):
        undatable = src.cafe(zone, LONG_AGO)
        src.call(undatable, utc(2026, 6, 15, 12))
        src.item(src.order(undatable, utc(2026, 6, 15, 12)), "Latte")
    nameless = src.cafe("UTC", LONG_AGO, name=None)
    src.call(nameless, utc(2026, 6, 15, 12))
    src.call("00000000-0000-0000-0000-000000000000", utc(2026, 6, 15, 12))  # unknown cafe

    result = compute_day(src.rows, day)

    key = (just_in, day)
    assert result["order_analytics"] == {
        key: {
            "total_orders": 0,
            "total_revenue": Decimal(0),
            "average_order_value": None,
            "delivery_orders": 0,
            "dine_in_orders": 0,
            "takeaway_orders": 0,
            "cancelled_orders": 0,
        }
    }
    assert result["call_metrics"] == {
        key: {
            "total_calls": 0,
            "answered_calls": 0,
            "missed_calls": 0,
            "average_duration": None,
            "peak_hour": None,
        }
    }
    assert result["customer_satisfaction"] == {
        key: {
            "total_reviews": 0,
            "average_rating": None,
            "positive_reviews": 0,
            "negative_reviews": 0,
        }
    }
    assert result["reservation_analytics"] == {
        key: {
            "total_reservations": 0,
            "confirmed_reservations": 0,
            "cancelled_reservations": 0,
            "no_show_reservations": 0,
            "average_party_size": None,
        }
    }
    assert result["call_metrics_hourly"] == {}
    assert result["menu_item_sales"] == {}
    assert compute_day(src.rows, date(2026, 6, 16))["call_metrics"].keys() == {
        (just_in, date(2026, 6, 16)),
        (too_late, date(2026, 6, 16)),
    }


def test_repeated_primary_keys_are_all_counted():
    src = Source("t")
    cafe = src.cafe("UTC", LONG_AGO)
    call_id = src.call(cafe, utc(2026, 6, 15, 8), "answered", 20)
    src.call(cafe, utc(2026, 6, 15, 9), "answered", 40, id=call_id)

    result = compute_day(src.rows, date(2026, 6, 15))

    assert result["call_metrics"][(cafe, date(2026, 6, 15))]["total_calls"] == 2
    assert result["call_metrics"][(cafe, date(2026, 6, 15))]["average_duration"] == 30


def test_differences_reports_each_kind_of_mismatch():
    day = date(2026, 6, 15)
    want = {
        "call_metrics_hourly": {
            ("c", day, 1): {"total_calls": 1, "answered_calls": 1, "missed_calls": 0}
        }
    }
    got = {
        "call_metrics_hourly": {
            ("c", day, 2): {"total_calls": 1, "answered_calls": 1, "missed_calls": 0}
        }
    }
    same = {
        "order_analytics": {
            ("c", day): {
                "total_orders": 0,
                "total_revenue": Decimal("0.00"),
                "average_order_value": None,
                "delivery_orders": 0,
                "dine_in_orders": 0,
                "takeaway_orders": 0,
                "cancelled_orders": 0,
            }
        }
    }
    null_vs_zero = {
        "order_analytics": {
            ("c", day): {**same["order_analytics"][("c", day)], "average_order_value": Decimal(0)}
        }
    }

    assert len(reference.differences(want, got)) == 2
    assert reference.differences(same, same) == []
    assert len(reference.differences(same, null_vs_zero)) == 1


def test_read_source_returns_what_was_inserted(app_db):
    src = build_edge_scenario().source
    conn = app_db.connect()
    try:
        src.insert(conn)
        read = reference.read_source(conn)
    finally:
        conn.close()

    for table, rows in src.rows.items():
        assert sorted(read[table], key=_row_key) == sorted(rows, key=_row_key), table


def _row_key(row: dict) -> str:
    # Equal rows give equal keys whatever the tzinfo object or the Decimal's trailing zeros.
    def plain(value: object) -> str:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, Decimal):
            return str(value.normalize())
        return repr(value)

    return "|".join(plain(row[column]) for column in sorted(row))


def test_edge_scenario_covers_its_cases():
    scenario = build_edge_scenario()
    cafes = scenario.cafes

    per_day = {day: compute_day(scenario.source.rows, day) for day in EDGE_DATES}

    for day, result in per_day.items():
        dense = {cafe for cafe, _ in result["order_analytics"]}
        assert cafes["quiet"] in dense
        assert (cafes["opened_june"] in dense) == (day > date(2026, 6, 1))
        assert (cafes["opened_last_moment"] in dense) == (day >= FALL_LONDON)
        assert cafes["opened_next_midnight"] not in dense
        not_counted = {cafes["tz Mars/Olympus_Mons"], cafes["tz None"], cafes["None UTC"]}
        assert not_counted.isdisjoint(dense)
        assert result["call_metrics"][(cafes["tie"], day)]["peak_hour"] == (
            1 if day == FALL_NEW_YORK else 9
        )
        assert result["call_metrics"][(cafes["durations"], day)]["average_duration"] == 2
        assert result["order_analytics"][(cafes["orders"], day)]["cancelled_orders"] == 3
        bad = cafes["invalid"]
        assert result["call_metrics"][(bad, day)] == {
            "total_calls": 1,
            "answered_calls": 1,
            "missed_calls": 0,
            "average_duration": 100,
            "peak_hour": 10,
        }
        assert result["customer_satisfaction"][(bad, day)]["average_rating"] == Decimal("5.00")
        assert result["reservation_analytics"][(bad, day)]["total_reservations"] == 1
        assert result["order_analytics"][(bad, day)]["total_revenue"] == Decimal("20.00")
        assert result["menu_item_sales"][(bad, day, "Chai")] == {
            "quantity_sold": 2,
            "revenue": Decimal("20.00"),
            "order_count": 1,
        }
    late = per_day[FALL_LONDON]["call_metrics"][(cafes["opened_last_moment"], FALL_LONDON)]
    assert late["total_calls"] == 1 and late["peak_hour"] == 23
    # New York's fall-back day has 25 hours: the repeated 01:xx hour holds both passes.
    ny = cafes["America/New_York"]
    hourly = per_day[FALL_NEW_YORK]["call_metrics_hourly"]
    assert hourly[(ny, FALL_NEW_YORK, 1)]["total_calls"] == 2  # 01:30 EDT and 01:30 EST
    assert (ny, SPRING_NEW_YORK, 2) not in per_day[SPRING_NEW_YORK]["call_metrics_hourly"]


def test_random_scenario_is_deterministic_and_mixes_invalid_rows():
    first = build_random_scenario(7, date(2026, 10, 3))
    again = build_random_scenario(7, date(2026, 10, 3))

    assert first.source.rows == again.source.rows
    for table, count in first.invalid.items():
        rows = len(first.source.rows[table])
        assert 1 <= count <= 0.01 * rows + 1, table
    result = compute_day(first.source.rows, date(2026, 10, 4))
    assert len(result["menu_item_sales"]) > 5
    assert len(result["call_metrics_hourly"]) > 20
