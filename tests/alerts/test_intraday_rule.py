"""The rule that reads the intraday refresh: a usually busy cafe with no order by its usual hour.

The clock is 2026-03-10 12:00 UTC, 17:30 in Asia/Kolkata (past the 12:00 default) and 07:00 in
America/New_York (before it).
"""

from datetime import date, datetime, timedelta

from tests.alerts.conftest import NOW, add_cafe

from aans_analytics.alerts import engine
from aans_analytics.alerts.rules import load_rules

TODAY = date(2026, 3, 10)


def put_orders(db, cafe_id: str, day: date, orders: int, is_final: bool, complete: datetime):
    db.query(
        "insert into analytics.order_analytics (cafe_id, date, total_orders, total_revenue,"
        " delivery_orders, dine_in_orders, takeaway_orders, cancelled_orders, is_final,"
        " complete_through) values (%s, %s, %s, 0, 0, 0, 0, 0, %s, %s)",
        (cafe_id, day, orders, is_final, complete),
    )


def busy_week(db, cafe_id: str, orders_per_day: int = 40) -> None:
    for back in range(1, 8):
        put_orders(db, cafe_id, TODAY - timedelta(days=back), orders_per_day, True, NOW)


def measured(db) -> dict[str, tuple[float, bool]]:
    rule = load_rules().by_name("no_orders_by_usual_hour")
    conn = db.connect()
    try:
        result = engine.measure(conn, rule, NOW)
    finally:
        conn.close()
    assert result.error is None, result.error
    return {finding.subject: (finding.value, finding.is_firing) for finding in result.findings}


def test_a_busy_cafe_silent_past_its_hour_fires(alert_db):
    silent = add_cafe(alert_db, "Silent", "Asia/Kolkata")
    trading = add_cafe(alert_db, "Trading", "Asia/Kolkata")
    for cafe in (silent, trading):
        busy_week(alert_db, cafe)
    put_orders(alert_db, silent, TODAY, 0, False, NOW - timedelta(minutes=10))
    put_orders(alert_db, trading, TODAY, 12, False, NOW - timedelta(minutes=10))

    assert measured(alert_db) == {silent: (0.0, True), trading: (12.0, False)}


def test_no_alert_before_the_hour_for_a_quiet_week_or_on_a_stale_refresh(alert_db):
    early = add_cafe(alert_db, "Early", "America/New_York")  # 07:00 local
    quiet = add_cafe(alert_db, "Quiet", "Asia/Kolkata")
    stale = add_cafe(alert_db, "Stale", "Asia/Kolkata")
    busy_week(alert_db, early)
    busy_week(alert_db, stale)
    for back in range(1, 7):  # one day without orders in the week
        put_orders(alert_db, quiet, TODAY - timedelta(days=back), 5, True, NOW)
    put_orders(alert_db, quiet, TODAY - timedelta(days=7), 0, True, NOW)
    for cafe in (early, quiet):
        put_orders(alert_db, cafe, TODAY, 0, False, NOW - timedelta(minutes=10))
    # The refresh stopped three hours ago: its zero is no evidence of a silent cafe.
    put_orders(alert_db, stale, TODAY, 0, False, NOW - timedelta(hours=3))

    assert measured(alert_db) == {}
