"""The provisioning steps with their Airflow connections: the read-only role, then the sync.

Shared by the `metabase_provision` DAG and the command line, so both do exactly the same.
"""

import logging
from typing import Any

from aans_analytics.metabase.client import MetabaseClient, settings_from_connection
from aans_analytics.metabase.definitions import load_dashboards
from aans_analytics.metabase.role import ensure_readonly_role
from aans_analytics.metabase.sync import SyncReport, sync, warehouse_from_connection

log = logging.getLogger(__name__)

METABASE_CONN_ID = "metabase_default"
WAREHOUSE_CONN_ID = "metabase_warehouse"


def ensure_role(postgres_conn: Any, warehouse_conn: Any) -> bool:
    """Create or check the role named by the warehouse connection's login, with its password,
    through `postgres_conn` (a psycopg2 connection with rights over schema analytics).
    """
    return ensure_readonly_role(postgres_conn, warehouse_conn.login, warehouse_conn.password)


def sync_metabase(metabase_conn: Any, warehouse_conn: Any, plan: bool = False) -> SyncReport:
    """Set Metabase up if it is new, then make it match the definitions (or only plan that)."""
    dashboards = load_dashboards()
    warehouse = warehouse_from_connection(warehouse_conn)
    with MetabaseClient(settings_from_connection(metabase_conn)) as client:
        if not plan:
            client.setup_if_needed()
        return sync(client, dashboards, warehouse, apply=not plan)
