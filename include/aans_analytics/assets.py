"""The Assets the pipeline produces: one per analytics table, for DAGs scheduled on them."""

from airflow.sdk import Asset

# The tables a daily run publishes together, in one transaction.
DAILY_TABLES = (
    "order_analytics",
    "menu_item_sales",
    "call_metrics",
    "call_metrics_hourly",
    "customer_satisfaction",
    "reservation_analytics",
)


def table_asset(table: str) -> Asset:
    """The Asset of `analytics.<table>` in the `aans_postgres` database."""
    return Asset(name=f"analytics.{table}", uri=f"aans://aans_postgres/analytics/{table}")


DAILY_ASSETS = [table_asset(table) for table in DAILY_TABLES]
API_PERFORMANCE_ASSET = table_asset("api_performance")
