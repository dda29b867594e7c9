"""analytics_intraday through real Airflow runs: provisional "so far" rows, sealed by the daily run.

A refresh computes as of the real clock, so the rows are placed relative to the moment the test
runs, and the expected figures are computed here from those rows with zoneinfo.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

CAFE = "00000000-0000-0000-0000-0000000000c1"
TIMEZONE = "Asia/Kathmandu"  # UTC+05:45: local midnight is never a UTC hour
ZONE = ZoneInfo(TIMEZONE)


@pytest.fixture
def intraday(app_db, airflow_db):
    from dags.analytics_intraday import analytics_intraday

    app_db.query("insert into cafes values (%s, 'Momo House', %s, '2025-01-01')", (CAFE, TIMEZONE))

    def refresh() -> str:
        return analytics_intraday.test().state

    return app_db, refresh


def add_orders(db, moments: list[datetime], amount: str = "10.00") -> None:
    for moment in moments:
        db.query(
            "insert into orders values (gen_random_uuid(), %s, %s, 'dine_in', 'completed', %s)",
            (CAFE, moment, amount),
        )


def expected_orders(moments: list[datetime], now: datetime) -> dict:
    """Orders so far per local date of the cafe: only those before `now` count."""
    counts: dict = {}
    for moment in moments:
        if moment < now:
            local_date = moment.astimezone(ZONE).date()
            counts[local_date] = counts.get(local_date, 0) + 1
    return counts


def provisional(db) -> dict:
    rows = db.query(
        "select date, total_orders, is_final, complete_through"
        " from analytics.order_analytics where cafe_id = %s",
        (CAFE,),
    )
    return {row[0]: row[1:] for row in rows}


def test_a_refresh_counts_the_day_so_far_and_a_later_one_replaces_it(intraday):
    db, refresh = intraday
    now = datetime.now(UTC)
    first = [now - timedelta(minutes=m) for m in (5, 50, 200, 600)] + [now + timedelta(hours=2)]
    add_orders(db, first)

    assert refresh() == "success"

    rows = provisional(db)
    today = now.astimezone(ZONE).date()
    expected = expected_orders(first, now)
    assert {d: r[0] for d, r in rows.items() if r[0]} == expected
    assert today in rows
    assert all(not is_final for _, is_final, _ in rows.values())
    # Complete up to the refresh itself, which started after `now`.
    assert rows[today][2] >= now

    second = [datetime.now(UTC) - timedelta(minutes=1)]
    add_orders(db, second)
    later = datetime.now(UTC)

    assert refresh() == "success"

    rows = provisional(db)
    expected = expected_orders(first + second, later)
    assert {d: r[0] for d, r in rows.items() if r[0]} == expected
    assert rows[today][2] >= later


def test_the_daily_run_seals_a_day_and_refreshes_leave_it_alone(intraday):
    from dags.analytics_daily import analytics_daily

    db, refresh = intraday
    now = datetime.now(UTC)
    yesterday = now.astimezone(ZONE).date() - timedelta(days=1)
    noon_yesterday = datetime(
        yesterday.year, yesterday.month, yesterday.day, 12, tzinfo=ZONE
    ).astimezone(UTC)
    add_orders(db, [noon_yesterday, noon_yesterday + timedelta(minutes=1)])
    assert refresh() == "success"
    assert provisional(db)[yesterday][:2] == (2, False)

    # The daily run for that business date (logical date = the date at midnight UTC).
    logical = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=UTC)
    assert analytics_daily.test(logical_date=logical).state == "success"
    sealed = provisional(db)[yesterday]
    assert sealed[:2] == (2, True)

    add_orders(db, [noon_yesterday + timedelta(minutes=2)])  # late data, after the seal

    assert refresh() == "success"
    assert provisional(db)[yesterday] == sealed


def test_a_failed_refresh_keeps_the_last_good_numbers(intraday):
    db, refresh = intraday
    now = datetime.now(UTC)
    add_orders(db, [now - timedelta(minutes=m) for m in range(1, 30)], amount="12.50")
    assert refresh() == "success"
    before = db.query("select * from analytics.order_analytics order by date")
    revenue = db.query("select sum(total_revenue) from analytics.order_analytics")[0][0]
    assert revenue == Decimal("12.50") * 29

    # A quarter of the day's orders invalid: the gate refuses the refresh.
    add_orders(db, [now - timedelta(minutes=m) for m in range(1, 10)], amount="-1.00")

    assert refresh() == "failed"
    assert db.query("select * from analytics.order_analytics order by date") == before


def test_a_backfilled_refresh_writes_nothing(intraday):
    from dags.analytics_intraday import analytics_intraday

    db, _ = intraday
    add_orders(db, [datetime.now(UTC) - timedelta(minutes=5)])

    old = datetime.now(UTC) - timedelta(days=3)
    assert analytics_intraday.test(logical_date=old, run_after=old).state == "success"

    # It stopped before touching the warehouse: not even the schema was created.
    assert db.query("select to_regclass('analytics.order_analytics')") == [(None,)]


def test_the_daily_run_waits_until_every_cafe_has_ended_its_day(app_db):
    from aans_analytics import pipeline

    app_db.query(
        "insert into cafes values (%s, 'West', 'Pacific/Pago_Pago', '2025-01-01')", (CAFE,)
    )
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    # Pago Pago (UTC-11) ends today's UTC date at 11:00 UTC tomorrow: not yet.
    assert pipeline.stage_business_day(today, "manual__wait") is None
    assert app_db.query("select count(*) from analytics_work.scope") == [(0,)]

    # Two days ago has ended everywhere.
    batch = pipeline.stage_business_day(today - timedelta(days=2), "manual__wait")
    assert batch is not None
    assert app_db.query(
        "select count(*) from analytics_work.scope where batch_id = %s", (batch,)
    ) == [(1,)]
