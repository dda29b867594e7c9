"""Re-running days of the real `analytics_daily` DAG (`dag.test()`, real PostgreSQL): the same
source gives the same tables whatever the order of the runs, a re-run replaces exactly its own
day with what the source says now, and other days' rows are left alone."""

from datetime import date

import pytest
from tests import reference
from tests.scenarios import DAG_FILE, build_random_scenario, run_daily

pytestmark = pytest.mark.skipif(not DAG_FILE.exists(), reason="dags/analytics_daily.py is missing")

GATE_OPEN = {"max_invalid_share": 1.0}
DAY_1 = date(2026, 10, 24)
DAY_2 = date(2026, 10, 25)  # London falls back


def published(db) -> dict[str, set[tuple]]:
    """Every analytics row, all columns but the created_at and updated_at stamps."""
    tables: dict[str, set[tuple]] = {}
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            for table in reference.ANALYTICS_KEYS:
                cur.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'analytics' and table_name = %s"
                    " and column_name not in ('created_at', 'updated_at') order by column_name",
                    (table,),
                )
                columns = [row[0] for row in cur.fetchall()]
                cur.execute(f"select {', '.join(columns)} from analytics.{table}")
                tables[table] = {tuple(map(str, row)) for row in cur.fetchall()}
        conn.rollback()
    finally:
        conn.close()
    return tables


def of_day(tables: dict[str, set[tuple]], day: date) -> dict[str, set[tuple]]:
    return {table: {row for row in rows if str(day) in row} for table, rows in tables.items()}


def matches_reference(db, day: date) -> list[str]:
    conn = db.connect()
    try:
        source = reference.read_source(conn)
        written = reference.read_analytics(conn, day)
    finally:
        conn.close()
    return reference.differences(reference.compute_day(source, day), written)


def _sales(tables: dict[str, set[tuple]]) -> list[tuple]:
    # Columns come sorted by name: cafe_id, complete_through, date, is_final, item_name, ...
    return [(r[0], r[2], r[4]) for r in tables["menu_item_sales"]]


def load_random_scenario(db) -> None:
    scenario = build_random_scenario(seed=1025, first_day=DAY_1 - date.resolution, days=4)
    conn = db.connect()
    try:
        scenario.source.insert(conn)
    finally:
        conn.close()


def test_rerunning_days_in_any_order_gives_the_same_tables(app_db, airflow_db):
    load_random_scenario(app_db)

    run_daily(DAY_1, GATE_OPEN)
    first = published(app_db)
    run_daily(DAY_1, GATE_OPEN)
    again = published(app_db)
    run_daily(DAY_2, GATE_OPEN)
    day_1_then_2 = published(app_db)
    run_daily(DAY_1, GATE_OPEN)
    run_daily(DAY_2, GATE_OPEN)
    day_2_then_1_then_2 = published(app_db)

    assert all(first.values()), "the first run published nothing"
    assert again == first
    assert of_day(day_1_then_2, DAY_1) == first, "running day 2 changed day 1"
    assert day_2_then_1_then_2 == day_1_then_2
    assert matches_reference(app_db, DAY_1) == []
    assert matches_reference(app_db, DAY_2) == []


def test_rerun_replaces_the_day_with_the_changed_source(app_db, airflow_db):
    load_random_scenario(app_db)
    run_daily(DAY_1, GATE_OPEN)
    run_daily(DAY_2, GATE_OPEN)
    before = published(app_db)
    cafe = app_db.query(
        "select id from cafes where timezone = 'Europe/London' and name = %s", ("Europe/London",)
    )[0][0]
    day_1_noon = "2026-10-24 12:00+01"  # London, summer time

    # Late data, changed statuses and deleted rows, for day 1 only; and a change to day 2 that a
    # re-run of day 1 must not publish.
    app_db.query(
        "update orders set status = 'cancelled' where cafe_id = %s and status = 'completed'"
        " and (created_at at time zone 'Europe/London')::date = %s",
        (cafe, DAY_1),
    )
    order = app_db.query(
        "insert into orders values (gen_random_uuid(), %s, %s, 'takeaway', 'completed', 1234.56)"
        " returning id",
        (cafe, day_1_noon),
    )[0][0]
    app_db.query("insert into order_items values (900001, %s, 'Late special', 3, 7.77)", (order,))
    app_db.query(
        "insert into calls values (gen_random_uuid(), %s, %s, 'answered', 7200, null)",
        (cafe, day_1_noon),
    )
    app_db.query("delete from reviews where (created_at at time zone 'UTC')::date = %s", (DAY_1,))
    app_db.query(
        "update reservations set status = 'cancelled', party_size = 1"
        " where (reserved_for at time zone 'UTC')::date = %s",
        (DAY_1,),
    )
    app_db.query("delete from calls where (started_at at time zone 'UTC')::date = %s", (DAY_2,))
    run_daily(DAY_1, GATE_OPEN)
    after = published(app_db)

    assert of_day(after, DAY_2) == of_day(before, DAY_2), "a re-run of day 1 touched day 2"
    assert of_day(after, DAY_1) != of_day(before, DAY_1), "the changes did not reach day 1"
    assert matches_reference(app_db, DAY_1) == []
    assert (str(cafe), str(DAY_1), "Late special") in _sales(after)

    run_daily(DAY_2, GATE_OPEN)

    assert matches_reference(app_db, DAY_2) == []
