from aans_analytics import warehouse


def test_migrate_creates_the_analytics_tables_once(empty_db):
    conn = empty_db.connect()
    try:
        first = warehouse.migrate(conn)
        second = warehouse.migrate(conn)
    finally:
        conn.close()

    tables = {
        row[0]
        for row in empty_db.query(
            "select table_name from information_schema.tables where table_schema = 'analytics'"
        )
    }
    assert "001_daily_tables" in first
    assert second == []
    assert {"order_analytics", "call_metrics", "menu_item_sales", "schema_migrations"} <= tables
