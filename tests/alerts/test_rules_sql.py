"""Each SQL measurement of the default rules against hand-made rows on a real PostgreSQL.

The clock is 2026-03-10 12:00 UTC: 17:30 in Asia/Kolkata (yesterday 2026-03-09) but already 01:00
on 2026-03-11 in Pacific/Auckland (yesterday 2026-03-10).
"""

from datetime import date, timedelta

import pytest
from tests.alerts.conftest import NOW, add_cafe

from aans_analytics.alerts import engine
from aans_analytics.alerts.rules import load_rules

KOLKATA_YESTERDAY = date(2026, 3, 9)
AUCKLAND_YESTERDAY = date(2026, 3, 10)

DEFAULTS = {
    "order_analytics": {
        "total_orders": 0,
        "total_revenue": 0,
        "delivery_orders": 0,
        "dine_in_orders": 0,
        "takeaway_orders": 0,
        "cancelled_orders": 0,
    },
    "call_metrics": {"total_calls": 0, "answered_calls": 0, "missed_calls": 0},
    "customer_satisfaction": {"total_reviews": 0, "positive_reviews": 0, "negative_reviews": 0},
    "reservation_analytics": {
        "total_reservations": 0,
        "confirmed_reservations": 0,
        "cancelled_reservations": 0,
        "no_show_reservations": 0,
    },
}


def put(db, table, cafe_id, day, is_final=True, **columns):
    values = {**DEFAULTS[table], **columns, "cafe_id": cafe_id, "date": day, "is_final": is_final}
    names = ", ".join([*values, "complete_through"])
    marks = ", ".join(["%s"] * len(values) + ["now()"])
    db.query(f"insert into analytics.{table} ({names}) values ({marks})", tuple(values.values()))


def measured(db, rule_name):
    """{subject label: (value, fires)} of one rule at NOW."""
    rule = load_rules().by_name(rule_name)
    conn = db.connect()
    try:
        result = engine.measure(conn, rule, NOW)
    finally:
        conn.close()
    assert result.error is None, result.error
    labels = {cafe: label for cafe, label in db.query("select id::text, name from cafes")}
    found = {labels.get(f.subject, f.subject): (f.value, f.is_firing) for f in result.findings}
    return found, {labels.get(subject, subject) for subject in result.unknown}


def test_answer_rate_uses_each_cafes_own_yesterday(alert_db):
    kolkata = add_cafe(alert_db, "Kolkata", "Asia/Kolkata")
    auckland = add_cafe(alert_db, "Auckland", "Pacific/Auckland")
    add_cafe(alert_db, "Broken zone", "Mars/Olympus")  # left out, must not break the rule
    put(alert_db, "call_metrics", kolkata, KOLKATA_YESTERDAY, total_calls=20, answered_calls=15)
    put(alert_db, "call_metrics", auckland, KOLKATA_YESTERDAY, total_calls=20, answered_calls=2)
    put(alert_db, "call_metrics", auckland, AUCKLAND_YESTERDAY, total_calls=40, answered_calls=38)

    found, unknown = measured(alert_db, "answer_rate_low")

    assert found == {"Kolkata": (0.75, True), "Auckland": (0.95, False)}
    assert unknown == set()


def test_answer_rate_waits_for_a_sealed_day_and_ignores_quiet_days(alert_db):
    provisional = add_cafe(alert_db, "Provisional")
    quiet = add_cafe(alert_db, "Quiet")
    put(
        alert_db,
        "call_metrics",
        provisional,
        KOLKATA_YESTERDAY,
        is_final=False,
        total_calls=20,
        answered_calls=1,
    )
    put(alert_db, "call_metrics", quiet, KOLKATA_YESTERDAY, total_calls=3, answered_calls=0)

    found, unknown = measured(alert_db, "answer_rate_low")

    assert found == {}
    assert unknown == {"Provisional"}  # NULL: the alert neither fires nor resolves yet


def test_no_show_rate_counts_reservations_that_were_due(alert_db):
    high = add_cafe(alert_db, "High")
    low = add_cafe(alert_db, "Low")
    small = add_cafe(alert_db, "Small")
    put(
        alert_db,
        "reservation_analytics",
        high,
        KOLKATA_YESTERDAY,
        total_reservations=10,
        cancelled_reservations=2,
        no_show_reservations=3,
    )
    put(
        alert_db,
        "reservation_analytics",
        low,
        KOLKATA_YESTERDAY,
        total_reservations=10,
        no_show_reservations=1,
    )
    put(
        alert_db,
        "reservation_analytics",
        small,
        KOLKATA_YESTERDAY,
        total_reservations=3,
        no_show_reservations=3,
    )

    found, _ = measured(alert_db, "no_show_rate_high")

    assert found == {"High": (0.375, True), "Low": (0.1, False)}


def test_rating_drop_compares_with_the_review_weighted_28_days(alert_db):
    falling = add_cafe(alert_db, "Falling")
    steady = add_cafe(alert_db, "Steady")
    for days_back in range(1, 29):
        day = KOLKATA_YESTERDAY - timedelta(days=days_back)
        # Weighted: 27 days at 4.5 with 2 reviews, one day at 2.0 with 10 reviews -> 3.90625.
        rating, reviews = (2.0, 10) if days_back == 5 else (4.5, 2)
        for cafe in (falling, steady):
            put(
                alert_db,
                "customer_satisfaction",
                cafe,
                day,
                total_reviews=reviews,
                average_rating=rating,
            )
    # Outside the 28 days: must not count.
    put(
        alert_db,
        "customer_satisfaction",
        falling,
        KOLKATA_YESTERDAY - timedelta(days=29),
        total_reviews=100,
        average_rating=1.0,
    )
    put(
        alert_db,
        "customer_satisfaction",
        falling,
        KOLKATA_YESTERDAY,
        total_reviews=3,
        average_rating=2.5,
    )
    put(
        alert_db,
        "customer_satisfaction",
        steady,
        KOLKATA_YESTERDAY,
        total_reviews=4,
        average_rating=3.5,
    )

    found, _ = measured(alert_db, "rating_drop")

    level = (27 * 2 * 4.5 + 10 * 2.0) / (27 * 2 + 10)
    assert found["Falling"] == (pytest.approx(round(level - 2.5, 2)), True)
    assert found["Steady"] == (pytest.approx(round(level - 3.5, 2)), False)


def test_orders_stopped_needs_a_busy_week_and_an_empty_yesterday(alert_db):
    stopped = add_cafe(alert_db, "Stopped")
    busy = add_cafe(alert_db, "Busy")
    gap = add_cafe(alert_db, "Gap")
    for days_back in range(1, 8):
        day = KOLKATA_YESTERDAY - timedelta(days=days_back)
        put(alert_db, "order_analytics", stopped, day, total_orders=12)
        put(alert_db, "order_analytics", busy, day, total_orders=12)
        put(alert_db, "order_analytics", gap, day, total_orders=0 if days_back == 3 else 12)
    put(alert_db, "order_analytics", stopped, KOLKATA_YESTERDAY, total_orders=0)
    put(alert_db, "order_analytics", busy, KOLKATA_YESTERDAY, total_orders=9)
    put(alert_db, "order_analytics", gap, KOLKATA_YESTERDAY, total_orders=0)

    found, _ = measured(alert_db, "orders_stopped")

    assert found == {"Stopped": (0.0, True), "Busy": (9.0, False)}


def test_daily_not_published_counts_cafes_past_their_local_deadline(alert_db):
    published = add_cafe(alert_db, "Published", "Asia/Kolkata")
    add_cafe(alert_db, "Late", "Asia/Kolkata")  # 17:30 local, past 09:00, nothing sealed
    add_cafe(alert_db, "Early morning", "Pacific/Auckland")  # 01:00 local: not due yet
    put(alert_db, "order_analytics", published, KOLKATA_YESTERDAY, total_orders=5)

    rule = load_rules().by_name("daily_not_published")
    conn = alert_db.connect()
    try:
        [finding] = engine.measure(conn, rule, NOW).findings
    finally:
        conn.close()

    assert (finding.subject, finding.value, finding.is_firing) == ("analytics_daily", 1.0, True)
    assert finding.detail.endswith(": Late")


def test_cache_hit_rate_weighs_hours_by_requests(alert_db):
    hour = NOW.replace(minute=0) - timedelta(hours=1)
    for endpoint, requests, rate in (("/a", 300, 0.2), ("/b", 100, 0.8), ("/c", 500, None)):
        alert_db.query(
            "insert into analytics.api_performance (hour, endpoint, requests, errors,"
            " p50_ms, p95_ms, p99_ms, cache_hit_rate) values (%s, %s, %s, 0, 1, 2, 3, %s)",
            (hour, endpoint, requests, rate),
        )

    found, _ = measured(alert_db, "api_cache_hit_rate")

    assert found == {"api": (pytest.approx((300 * 0.2 + 100 * 0.8) / 400), True)}
