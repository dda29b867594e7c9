"""The quality gate of analytics_daily, through real Airflow runs on a real PostgreSQL.

Each kind of bad input is its own test: what is excluded from the aggregates, what is recorded in
analytics.data_quality_results, and whether the day is published or refused with the previous
rows untouched. The clean day has 200 rows per event table, so one bad row (0.5%) stays under the
default 1% threshold and ten (about 5%) go over it.
"""

from datetime import UTC, datetime

import pytest

BUSINESS_DATE = "2026-11-05"
LOGICAL_DATE = datetime(2026, 11, 5, tzinfo=UTC)
KOLKATA = "00000000-0000-0000-0000-00000000000a"
NEW_YORK = "00000000-0000-0000-0000-00000000000b"
ROWS = 200

CLEAN_DAY = f"""
insert into cafes values
    ('{KOLKATA}', 'Chai Corner', 'Asia/Kolkata', '2026-01-01'),
    ('{NEW_YORK}', 'Bagel Bar', 'America/New_York', '2026-01-01');

-- 100 orders per cafe, one every 10 minutes from local 06:00, each with two items.
insert into orders
select
    md5('order' || cafe || n)::uuid,
    cafe::uuid,
    ('{BUSINESS_DATE} 06:00'::timestamp + n * interval '10 minutes') at time zone tz,
    (array['delivery', 'dine_in', 'takeaway'])[1 + n % 3],
    case when n % 10 = 0 then 'cancelled' else 'completed' end,
    10.00 + n
from (values ('{KOLKATA}', 'Asia/Kolkata'), ('{NEW_YORK}', 'America/New_York')) as c (cafe, tz)
cross join generate_series(0, {ROWS // 2 - 1}) as n;

insert into order_items (id, order_id, item_name, quantity, unit_price)
select row_number() over (order by o.created_at, o.id, k), o.id, 'item ' || k, 1, 5.00
from orders as o
cross join generate_series(1, 2) as k;

insert into calls
select
    md5('call' || cafe || n)::uuid,
    cafe::uuid,
    ('{BUSINESS_DATE} 08:00'::timestamp + n * interval '5 minutes') at time zone tz,
    case when n % 4 = 0 then 'missed' else 'answered' end,
    case when n % 4 = 0 then null else 60 + n end,
    '+1555000' || lpad(n::text, 4, '0')
from (values ('{KOLKATA}', 'Asia/Kolkata'), ('{NEW_YORK}', 'America/New_York')) as c (cafe, tz)
cross join generate_series(0, {ROWS // 2 - 1}) as n;

insert into reviews
select
    md5('review' || cafe || n)::uuid,
    cafe::uuid,
    ('{BUSINESS_DATE} 09:00'::timestamp + n * interval '6 minutes') at time zone tz,
    1 + n % 5,
    null
from (values ('{KOLKATA}', 'Asia/Kolkata'), ('{NEW_YORK}', 'America/New_York')) as c (cafe, tz)
cross join generate_series(0, {ROWS // 2 - 1}) as n;

insert into reservations
select
    md5('reservation' || cafe || n)::uuid,
    cafe::uuid,
    '2026-11-01 12:00+00',
    ('{BUSINESS_DATE} 11:00'::timestamp + n * interval '6 minutes') at time zone tz,
    1 + n % 6,
    (array['pending', 'confirmed', 'completed', 'cancelled', 'no_show'])[1 + n % 5]
from (values ('{KOLKATA}', 'Asia/Kolkata'), ('{NEW_YORK}', 'America/New_York')) as c (cafe, tz)
cross join generate_series(0, {ROWS // 2 - 1}) as n;
"""

# A timestamp inside both cafes' local day.
NOON_UTC = f"{BUSINESS_DATE} 17:00+00"


def bad_order(n: int, **values: str) -> str:
    row = {
        "id": f"md5('bad order {n}')::uuid",
        "cafe_id": f"'{KOLKATA}'",
        "created_at": f"'{BUSINESS_DATE} 07:00+00'",
        "delivery_type": "'delivery'",
        "status": "'completed'",
        "total_amount": "1000.00",
    }
    row.update(values)
    return f"insert into orders values ({', '.join(row.values())})"


def many(statement_for_n, count: int) -> str:
    return ";\n".join(statement_for_n(n) for n in range(count))


@pytest.fixture
def day(app_db, airflow_db):
    """The clean day loaded, and a way to run analytics_daily for it."""
    from dags.analytics_daily import analytics_daily

    app_db.query(CLEAN_DAY)

    def run(**conf):
        dag_run = analytics_daily.test(logical_date=LOGICAL_DATE, run_conf=conf or None)
        return dag_run.state

    return app_db, run


def published(db, table: str = "order_analytics") -> list[tuple]:
    return db.query(
        f"select * from analytics.{table} where date = %s order by cafe_id",
        (BUSINESS_DATE,),
    )


def orders_published(db) -> dict[str, tuple]:
    rows = db.query(
        "select cafe_id::text, total_orders, total_revenue, cancelled_orders"
        " from analytics.order_analytics where date = %s",
        (BUSINESS_DATE,),
    )
    return {row[0]: row[1:] for row in rows}


def results(db, table: str) -> dict[str, tuple]:
    """The latest run's results for one table: rule -> (checked, failed, examples, outcome)."""
    rows = db.query(
        "select rule, rows_checked, rows_failed, example_ids, outcome"
        " from analytics.data_quality_results"
        " where business_date = %s and table_name = %s"
        " and run_id = (select run_id from analytics.data_quality_results"
        "               order by checked_at desc limit 1)",
        (BUSINESS_DATE, table),
    )
    return {row[0]: row[1:] for row in rows}


def test_a_clean_day_passes_with_no_warnings(day):
    db, run = day

    assert run() == "success"

    recorded = db.query(
        "select table_name, rule, rows_failed, outcome from analytics.data_quality_results"
    )
    assert recorded, "the gate records its results"
    assert {row[3] for row in recorded} == {"passed"}
    assert {row[0] for row in recorded} >= {
        "cafes",
        "orders",
        "order_items",
        "calls",
        "reviews",
        "reservations",
        "order_analytics",
        "call_metrics",
    }
    # 90 of 100 orders per cafe are not cancelled; revenue sums 10 + n over them.
    expected_revenue = sum(10 + n for n in range(100) if n % 10)
    assert orders_published(db) == {
        KOLKATA: (90, expected_revenue, 10),
        NEW_YORK: (90, expected_revenue, 10),
    }


CLEAN_KOLKATA = (90, sum(10 + n for n in range(100) if n % 10), 10)

# Order rows that break one rule each: (rule recorded, column values of the bad row).
BAD_ORDERS = {
    "null_cafe_id": ("cafe_id_present", {"cafe_id": "null"}),
    "unknown_cafe": ("cafe_known", {"cafe_id": "'00000000-0000-0000-0000-0000000000ff'"}),
    "unknown_status": ("status_known", {"status": "'refunded'"}),
    "unknown_delivery_type": ("delivery_type_known", {"delivery_type": "'drone'"}),
    "negative_total_amount": ("total_amount_not_negative", {"total_amount": "-5.00"}),
}


@pytest.mark.parametrize("kind", sorted(BAD_ORDERS))
def test_one_bad_order_is_excluded_recorded_and_the_day_published(day, kind):
    db, run = day
    rule, values = BAD_ORDERS[kind]
    db.query(bad_order(1, **values))

    assert run() == "success"

    assert orders_published(db)[KOLKATA] == CLEAN_KOLKATA
    checked, failed, examples, outcome = results(db, "orders")[rule]
    assert (failed, outcome) == (1, "warning")
    assert checked >= ROWS
    assert examples == [db.query("select md5('bad order 1')::uuid::text")[0][0]]


@pytest.mark.parametrize("kind", sorted(BAD_ORDERS))
def test_many_bad_orders_refuse_the_day_and_keep_the_published_one(day, kind):
    db, run = day
    rule, values = BAD_ORDERS[kind]
    assert run() == "success"
    before = published(db)
    db.query(many(lambda n: bad_order(n, **values), 10))

    assert run() == "failed"

    assert published(db) == before
    assert results(db, "orders")[rule][1:] == (10, results(db, "orders")[rule][2], "refused")


def test_an_order_with_no_timestamp_is_reported_but_blocks_no_day(day):
    db, run = day
    db.query(many(lambda n: bad_order(n, created_at="null"), 10))

    assert run() == "success"

    assert orders_published(db)[KOLKATA] == CLEAN_KOLKATA
    _, failed, examples, outcome = results(db, "orders")["created_at_present"]
    assert (failed, outcome) == (10, "warning")
    assert len(examples) == 5


def test_ratings_zero_and_six_are_excluded(day):
    db, run = day
    bad = ["r0", "r6", "r6b"]
    for key, rating in zip(bad, (0, 6, 6), strict=True):
        db.query(
            "insert into reviews values (md5(%s)::uuid, %s, %s, %s, null)",
            (key, KOLKATA, NOON_UTC, rating),
        )

    assert run() == "failed"  # 3 of 203 reviews (1.5%) is above the 1% threshold

    _, failed, examples, outcome = results(db, "reviews")["rating_from_one_to_five"]
    bad_ids = db.query("select md5(x)::uuid::text from unnest(%s) as x", (bad,))
    assert (failed, sorted(examples), outcome) == (3, sorted(r[0] for r in bad_ids), "refused")
    assert published(db, "customer_satisfaction") == []

    assert run(max_invalid_share=0.05) == "success"

    totals = db.query(
        "select total_reviews, average_rating from analytics.customer_satisfaction"
        " where cafe_id = %s",
        (KOLKATA,),
    )
    # The clean 100 reviews rate 1..5 evenly: 20 of each, an average of exactly 3.
    assert [(t[0], str(t[1])) for t in totals] == [(100, "3.00")]


def test_negative_call_duration_is_excluded(day):
    db, run = day
    db.query(
        f"insert into calls values (md5('c1')::uuid, '{KOLKATA}', '{NOON_UTC}', 'answered', -30,"
        " null)"
    )

    assert run() == "success"

    total_calls = db.query(
        "select total_calls from analytics.call_metrics where cafe_id = %s", (KOLKATA,)
    )
    assert total_calls == [(100,)]
    assert results(db, "calls")["duration_seconds_not_negative"][1:] == (
        1,
        [db.query("select md5('c1')::uuid::text")[0][0]],
        "warning",
    )


def test_party_size_zero_is_excluded(day):
    db, run = day
    db.query(
        f"insert into reservations values (md5('p0')::uuid, '{KOLKATA}', '2026-11-01', "
        f"'{NOON_UTC}', 0, 'confirmed')"
    )

    assert run() == "success"

    assert db.query(
        "select total_reservations from analytics.reservation_analytics where cafe_id = %s",
        (KOLKATA,),
    ) == [(100,)]
    assert results(db, "reservations")["party_size_at_least_one"][1] == 1


@pytest.mark.parametrize(
    ("rule", "values"),
    [("quantity_at_least_one", "0, 5.00"), ("unit_price_not_negative", "1, -5.00")],
)
def test_a_bad_order_item_is_excluded(day, rule, values):
    db, run = day
    db.query(
        "insert into order_items (id, order_id, item_name, quantity, unit_price)"
        f" select 100000, id, 'bad item', {values} from orders"
        f" where cafe_id = '{KOLKATA}' and status = 'completed' order by created_at limit 1"
    )

    assert run() == "success"

    sold = db.query("select count(*) from analytics.menu_item_sales where item_name = 'bad item'")
    assert sold == [(0,)]
    assert results(db, "order_items")[rule][1:] == (1, ["100000"], "warning")


def test_an_order_item_without_its_order_is_recorded(day):
    db, run = day
    # Its id lies among the day's item ids, where the app would have appended it.
    db.query(
        "update order_items set id = id * 10;"
        "insert into order_items values (55, gen_random_uuid(), 'ghost', 1, 5.00);"
        # An item without an id as well: the id column then holds a NULL among its integers.
        "insert into order_items select null, id, 'no id', 1, 5.00 from orders limit 1"
    )

    assert run() == "success"

    recorded = results(db, "order_items")
    assert recorded["order_exists"][1:] == (1, ["55"], "warning")
    assert recorded["id_present"][1:] == (1, ["(null)"], "warning")


def test_a_duplicated_primary_key_is_recorded(day):
    db, run = day
    db.query(
        "insert into calls select * from calls"
        f" where cafe_id = '{NEW_YORK}' order by started_at limit 1"
    )

    assert run() == "success"

    failed, examples = results(db, "calls")["id_unique"][1:3]
    # Both copies fail the uniqueness rule.
    assert failed == 2
    assert len(set(examples)) == 1


def test_a_cafe_with_an_unknown_time_zone_refuses_the_day(day):
    db, run = day
    assert run() == "success"
    before = published(db)
    db.query(f"update cafes set timezone = 'Mars/Olympus_Mons' where id = '{NEW_YORK}'")

    assert run() == "failed"

    assert published(db) == before
    assert results(db, "cafes")["timezone_known"][1:] == (1, [NEW_YORK], "refused")
    # Its orders are now orders of an unusable cafe, looked for in the UTC day of the date.
    in_utc_day = db.query(
        "select count(*) from orders where cafe_id = %s"
        " and created_at >= %s::timestamp at time zone 'UTC'"
        " and created_at < (%s::date + 1)::timestamp at time zone 'UTC'",
        (NEW_YORK, BUSINESS_DATE, BUSINESS_DATE),
    )[0][0]
    assert 0 < in_utc_day < ROWS // 2
    assert results(db, "orders")["cafe_known"][1] == in_utc_day


def test_a_day_where_every_review_is_invalid_is_refused(day):
    db, run = day
    assert run() == "success"
    before = published(db, "customer_satisfaction")
    db.query("update reviews set rating = 9")

    assert run() == "failed"

    assert published(db, "customer_satisfaction") == before
    recorded = results(db, "reviews")
    assert recorded["all_rules"][:2] == (ROWS, ROWS)
    assert recorded["all_rules"][3] == "refused"


def test_fixing_the_source_and_rerunning_publishes_the_day(day):
    db, run = day
    db.query(many(lambda n: bad_order(n, status="'lost'"), 10))
    assert run() == "failed"
    assert published(db) == []

    db.query("delete from orders where status = 'lost'")

    assert run() == "success"
    assert orders_published(db)[KOLKATA] == CLEAN_KOLKATA


def test_the_data_docs_of_a_run_are_written(day, tmp_path, monkeypatch):
    _, run = day
    monkeypatch.setenv("AANS_DATA_DOCS", "on")
    monkeypatch.setenv("AANS_DATA_DOCS_DIR", str(tmp_path))

    assert run() == "success"

    pages = list(tmp_path.glob(f"{BUSINESS_DATE}/*/index.html"))
    assert len(pages) == 1
    assert "orders" in pages[0].read_text()
