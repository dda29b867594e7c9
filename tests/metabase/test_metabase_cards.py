"""Every card's SQL on a real, populated PostgreSQL, connected as Metabase's read-only role."""

import datetime as dt
import numbers
import re
from decimal import Decimal

import psycopg2
import pytest
from tests.metabase.conftest import CAFE_A, CAFE_B, DAYS, FIRST_DAY

from aans_analytics.metabase import native
from aans_analytics.metabase.definitions import load_dashboards

CARDS = [(dashboard, card) for dashboard in load_dashboards() for card in dashboard.cards]
CARD_IDS = [f"{dashboard.slug}/{card.key}" for dashboard, card in CARDS]
FILTER_VALUES = {
    "cafe_id": str(CAFE_A),
    "date_from": FIRST_DAY + dt.timedelta(days=2),
    "date_to": FIRST_DAY + dt.timedelta(days=DAYS - 1),
    "endpoint": "/api/menu",
    "table_name": "calls",
}


def _table_exists(conn, name: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (name,))
        return cur.fetchone()[0]


def _run(conn, sql: str, values: dict) -> tuple[list[str], list[tuple]]:
    statement, params = native.bind(sql, values)
    with conn.cursor() as cur:
        cur.execute(statement, params)
        columns = [column.name for column in cur.description]
        rows = cur.fetchall()
    conn.rollback()
    return columns, rows


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number | Decimal) and not isinstance(value, bool)


def _check_shape(display: str, columns: list[str], rows: list[tuple]) -> None:
    assert rows, "the populated warehouse should give every card some rows"
    if display in ("scalar", "gauge"):
        assert len(rows) == 1 and len(columns) == 1, (columns, rows)
        if display == "gauge":
            assert _is_number(rows[0][0]) and 0 <= rows[0][0] <= 1, rows
        else:
            assert rows[0][0] is not None
    elif display == "line":
        assert len(columns) >= 2
        for row in rows:
            assert isinstance(row[0], dt.date), row
            assert all(value is None or _is_number(value) for value in row[1:]), row
        assert [row[0] for row in rows] == sorted(row[0] for row in rows), "x axis not in order"
    elif display in ("bar", "row", "pie"):
        assert len(columns) >= 2
        for row in rows:
            assert row[0] is not None
            assert all(_is_number(value) for value in row[1:]), row
        if display == "pie":
            assert len(columns) == 2
    else:
        assert columns


@pytest.mark.parametrize(("dashboard", "card"), CARDS, ids=CARD_IDS)
def test_card_sql_runs_as_reader_with_and_without_filters(reader_conn, dashboard, card):
    if "analytics.alert_events" in card.sql and not _table_exists(
        reader_conn, "analytics.alert_events"
    ):
        pytest.skip("analytics.alert_events does not exist yet (its migration is not in the tree)")
    assert re.findall(r"\b(?:from|join)\s+(\w+)\.", card.sql, re.I), "tables must be qualified"
    assert set(re.findall(r"\b(?:from|join)\s+(\w+)\.", card.sql, re.I)) == {"analytics"}

    columns, rows = _run(reader_conn, card.sql, dashboard.defaults())
    _check_shape(card.display, columns, rows)

    filtered = {tag: FILTER_VALUES[tag] for tag in card.tags}
    columns, rows = _run(reader_conn, card.sql, filtered)
    _check_shape(card.display, columns, rows)


def _card(key: str):
    return next(card for _, card in CARDS if card.key == key)


def test_averages_are_weighted_not_averages_of_averages(reader_conn):
    # Independently of the card: total revenue over total orders for cafe A.
    with reader_conn.cursor() as cur:
        cur.execute(
            "select sum(total_revenue) / sum(total_orders), avg(average_order_value)"
            " from analytics.order_analytics where cafe_id = %s",
            (CAFE_A,),
        )
        weighted, naive = cur.fetchone()
    reader_conn.rollback()
    assert round(weighted, 2) != round(naive, 2), "test data must tell the two apart"
    _, rows = _run(reader_conn, _card("average_order_value").sql, {"cafe_id": str(CAFE_A)})
    assert rows[0][0] == round(weighted, 2)

    # Ratings: cafe A rates 4.5 with 2 reviews a day, cafe B 3.0 with 6: weighted mean 3.375.
    _, rows = _run(reader_conn, _card("average_rating").sql, {})
    assert rows[0][0] == Decimal("3.38")


def test_today_cards_read_the_provisional_latest_day(reader_conn):
    last = DAYS  # orders on the last (provisional) day: DAYS * scale, scale 1 and 3
    _, rows = _run(reader_conn, _card("orders_today").sql, {})
    assert rows == [(last * 1 + last * 3,)]
    _, rows = _run(reader_conn, _card("orders_today").sql, {"cafe_id": str(CAFE_B)})
    assert rows == [(last * 3,)]
    _, rows = _run(reader_conn, _card("data_complete_through").sql, {})
    last_day = FIRST_DAY + dt.timedelta(days=DAYS - 1)
    assert rows == [(f"{last_day:%Y-%m-%d} 14:45 UTC, provisional",)]


def test_reader_role_cannot_write_or_read_outside_analytics(reader_conn, populated_db):
    with reader_conn.cursor() as cur, pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
        cur.execute("delete from analytics.order_analytics")
    reader_conn.rollback()
    with reader_conn.cursor() as cur:
        cur.execute("set transaction read write")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("delete from analytics.order_analytics")
    reader_conn.rollback()
    with reader_conn.cursor() as cur:
        cur.execute("set transaction read write")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("create table analytics.intruder (id int)")
    reader_conn.rollback()
    with reader_conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        cur.execute("select * from analytics_work.scope")
    reader_conn.rollback()
    # A table created later by the owner (a future migration) is readable without a new grant.
    populated_db.query("create table analytics.later_table (id int)")
    with reader_conn.cursor() as cur:
        cur.execute("select count(*) from analytics.later_table")
        assert cur.fetchone() == (0,)
    reader_conn.rollback()


def test_role_is_idempotent_and_refuses_unlisted_names(populated_db):
    from aans_analytics.metabase.role import DEFAULT_ROLE, ensure_readonly_role

    conn = populated_db.connect()
    try:
        assert ensure_readonly_role(conn, DEFAULT_ROLE, "another-pw-1") is False
        with pytest.raises(ValueError, match="not one of"):
            ensure_readonly_role(conn, "postgres; drop table x", "pw")
        # A quote in the password is bound as a literal, not spliced into the statement.
        assert ensure_readonly_role(conn, DEFAULT_ROLE, "it's'; drop role postgres; --") is False
    finally:
        conn.close()
    rows = populated_db.query(
        "select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = %s",
        (DEFAULT_ROLE,),
    )
    assert rows == [(True, False, False, False)]
    assert populated_db.query("select 1 from pg_roles where rolname = 'postgres'") == [(1,)]


def test_every_sql_file_belongs_to_a_card(sql_files):
    used = {f"{dashboard.slug}/{card.key}" for dashboard, card in CARDS}
    on_disk = {f"{path.parent.name}/{path.stem}" for path in sql_files}
    assert on_disk == used
