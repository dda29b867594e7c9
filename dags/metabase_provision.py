"""
### metabase_provision

Keeps Metabase in step with the dashboard definitions of this repository.

- **Sources**: `include/dashboards/*.yaml` (dashboards, filters, layout) and
  `sql/dashboards/<dashboard>/<card>.sql` (card SQL, reading schema `analytics` only).
- **Targets**: the Metabase of connection `metabase_default`: the collection "AANS analytics", the
  warehouse database entry, the groups "AANS analysts" and "AANS cafe managers" with their
  permissions, and every card and dashboard in that collection. In PostgreSQL (`aans_postgres`):
  the read-only role Metabase signs in as, named with its password by connection
  `metabase_warehouse`.
- **Flow**: `ensure_reader_role` creates or corrects the role (USAGE on schema `analytics`, SELECT
  on its tables, nothing else); `sync_dashboards` sets up a brand-new Metabase through its setup
  token if needed, then makes it match the definitions: creates what is missing, puts back what
  was edited by hand (and logs it), archives what is no longer defined. A run with nothing to
  change writes nothing.
- **Schedule**: whenever `analytics_daily` publishes `analytics.order_analytics`, and by hand.
  Trigger with `{"plan": true}` to only log the changes a sync would make.
"""

from datetime import datetime

from airflow.sdk import dag, task

from aans_analytics.assets import table_asset
from aans_analytics.dag_defaults import POSTGRES_CONN_ID, PROJECT_TAG, default_args


@dag(
    dag_id="metabase_provision",
    schedule=[table_asset("order_analytics")],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=[PROJECT_TAG, "metabase"],
    doc_md=__doc__,
    params={"plan": False},
)
def metabase_provision() -> None:
    @task
    def ensure_reader_role(params=None) -> bool:
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from airflow.sdk import BaseHook

        from aans_analytics.metabase.provision import WAREHOUSE_CONN_ID, ensure_role
        from aans_analytics.warehouse import migrate

        if params and params.get("plan"):
            return False
        conn = PostgresHook(postgres_conn_id=POSTGRES_CONN_ID).get_conn()
        try:
            # The grants need schema analytics; on an empty database this creates it.
            migrate(conn)
            return ensure_role(conn, BaseHook.get_connection(WAREHOUSE_CONN_ID))
        finally:
            conn.close()

    @task
    def sync_dashboards(params=None) -> dict:
        from airflow.sdk import BaseHook

        from aans_analytics.metabase.provision import (
            METABASE_CONN_ID,
            WAREHOUSE_CONN_ID,
            sync_metabase,
        )

        report = sync_metabase(
            BaseHook.get_connection(METABASE_CONN_ID),
            BaseHook.get_connection(WAREHOUSE_CONN_ID),
            plan=bool(params and params.get("plan")),
        )
        return {
            "applied": report.applied,
            "changes": [str(change) for change in report.changes],
            "put_back": [str(change) for change in report.drift],
        }

    ensure_reader_role() >> sync_dashboards()


metabase_provision()
