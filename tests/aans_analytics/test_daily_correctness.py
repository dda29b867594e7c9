"""Every column of every analytics table, as the real `analytics_daily` DAG writes it through
Airflow (`dag.test()`) into a real PostgreSQL, against the independent Python computation of
tests/reference.py on the same raw rows.

Business dates: the daylight-saving change days of the edge scenario (New York and St John's
spring forward, London spring forward, Adelaide and Chatham fall back, London fall back, New York
and St John's fall back), and two days of the seeded random scenario, one of them Adelaide's
spring forward."""

from datetime import date

import pytest
from tests import reference
from tests.scenarios import (
    DAG_FILE,
    EDGE_DATES,
    build_edge_scenario,
    build_random_scenario,
    run_daily,
)

pytestmark = pytest.mark.skipif(not DAG_FILE.exists(), reason="dags/analytics_daily.py is missing")

# The scenarios hold invalid rows on purpose, far above the gate's default share; the gate's
# refusals have their own tests, these check the numbers of a published day.
GATE_OPEN = {"max_invalid_share": 1.0}
RANDOM_FIRST_DAY = date(2026, 10, 3)  # Adelaide springs forward on 2026-10-04
RANDOM_DATES = (date(2026, 10, 4), date(2026, 10, 5))


def assert_day_matches_reference(db, day: date) -> None:
    """The published tables hold exactly the reference's rows of `day`, and no other day."""
    conn = db.connect()
    try:
        source = reference.read_source(conn)
        written = reference.read_analytics(conn)
        with conn.cursor() as cur:
            for table in reference.ANALYTICS_KEYS:
                cur.execute(f"select distinct is_final from analytics.{table}")
                assert {row[0] for row in cur.fetchall()} <= {True}, table
        conn.rollback()
    finally:
        conn.close()
    expected = reference.compute_day(source, day)

    eligible = {
        cafe.id for cafe in reference.dated_cafes(source["cafes"]).values() if cafe.first_day <= day
    }
    for table in reference.DENSE_TABLES:
        cafes = [cafe_id for cafe_id, _ in written[table]]
        assert sorted(cafes) == sorted(eligible), f"{table}: not one row per cafe of {day}"
    assert reference.differences(expected, written) == []


@pytest.mark.parametrize("day", EDGE_DATES, ids=str)
def test_edge_scenario_day_matches_reference(app_db, airflow_db, day):
    scenario = build_edge_scenario()
    conn = app_db.connect()
    try:
        scenario.source.insert(conn)
    finally:
        conn.close()

    run_daily(day, GATE_OPEN)

    assert_day_matches_reference(app_db, day)


@pytest.mark.parametrize("day", RANDOM_DATES, ids=str)
def test_random_scenario_day_matches_reference(app_db, airflow_db, day):
    scenario = build_random_scenario(seed=20261003, first_day=RANDOM_FIRST_DAY, days=4)
    conn = app_db.connect()
    try:
        scenario.source.insert(conn)
    finally:
        conn.close()

    run_daily(day, GATE_OPEN)

    assert_day_matches_reference(app_db, day)
