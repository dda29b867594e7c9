"""HTTP endpoints of the alerts, served on Airflow's API server by the plugin `plugins/aans_api.py`.

- `GET /alerts`: the alerts with their state, since when, last notified and last delivered;
- `POST /alerts/check`: starts a run of the DAG `alert_checks`;
- `GET /performance/summary`: the API's requests, error rate, p95 and cache hit rate over a window.

Every route requires an Airflow user allowed to read (or, to start a run, to trigger) the DAG
behind it, checked by Airflow's own auth manager: no token, no answer.
"""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from aans_analytics.alerts import store
from aans_analytics.alerts.runs import DAG_ID
from aans_analytics.dag_defaults import POSTGRES_CONN_ID
from aans_analytics.sqlfiles import load_sql

log = logging.getLogger(__name__)

MAX_WINDOW_HOURS = 24 * 90

router = APIRouter(tags=["alerts"])


class Alert(BaseModel):
    rule: str
    subject: str
    subject_label: str
    kind: str
    severity: str
    status: str
    measured_value: float | None
    comparison: str | None
    threshold: float | None
    detail: str | None
    since: datetime
    last_seen_at: datetime
    last_notified_at: datetime | None
    last_delivered_at: datetime | None
    resolved_at: datetime | None
    pending_deliveries: int


class CheckRun(BaseModel):
    dag_id: str
    run_id: str
    state: str
    url: str


class PerformanceSummary(BaseModel):
    since: datetime
    until: datetime
    requests: int
    errors: int
    error_rate: float | None
    p95_ms: float | None
    worst_hour_p95_ms: float | None
    cache_hit_rate: float | None
    endpoints: int
    hours_with_traffic: int


def warehouse() -> Iterator[Any]:
    """A warehouse connection for one request; 503 when the warehouse does not answer."""
    import psycopg2
    from airflow.models.connection import Connection

    try:
        conn = store.connect_warehouse(Connection.get_connection_from_secrets(POSTGRES_CONN_ID))
    except psycopg2.Error as error:
        log.warning("Warehouse unreachable for the alert API: %s", error)
        raise HTTPException(503, "The analytics warehouse does not answer") from error
    try:
        yield conn
    finally:
        conn.close()


Warehouse = Annotated[Any, Depends(warehouse)]


@router.get(
    "/alerts",
    dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN, DAG_ID))],
)
def list_alerts(
    conn: Warehouse,
    status: Literal["firing", "resolved", "all"] = "all",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Alert]:
    """The alerts, newest activity first."""
    rows = _query(conn, load_sql("alerts/alert_list"), {"status": status, "row_limit": limit})
    return [Alert(rule=row.pop("rule_name"), since=row.pop("first_seen_at"), **row) for row in rows]


@router.post(
    "/alerts/check",
    status_code=201,
    dependencies=[Depends(requires_access_dag("POST", DagAccessEntity.RUN, DAG_ID))],
)
def start_check(user: GetUserDep) -> CheckRun:
    """Queue a run of `alert_checks` now; the scheduler runs it like any other run."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.exceptions import DagNotFound
    from airflow.utils.types import DagRunTriggeredByType

    from aans_analytics.alerts.runs import airflow_url

    try:
        dag_run = trigger_dag(
            DAG_ID,
            triggered_by=DagRunTriggeredByType.REST_API,
            triggering_user_name=user.get_name(),
            conf={},
        )
    except DagNotFound as error:
        raise HTTPException(404, f"DAG {DAG_ID} is not known to Airflow yet") from error
    if dag_run is None:
        raise HTTPException(500, f"Airflow created no run of {DAG_ID}")
    log.info("Run %s of %s started by %s", dag_run.run_id, DAG_ID, user.get_name())
    return CheckRun(
        dag_id=DAG_ID,
        run_id=dag_run.run_id,
        state=str(dag_run.state),
        url=f"{airflow_url()}/dags/{DAG_ID}/runs/{dag_run.run_id}",
    )


@router.get(
    "/performance/summary",
    dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN, "api_performance"))],
)
def performance_summary(
    conn: Warehouse,
    hours: Annotated[int, Query(ge=1, le=MAX_WINDOW_HOURS)] = 24,
    until: datetime | None = None,
) -> PerformanceSummary:
    """The API over the `hours` before `until` (default: now), from analytics.api_performance."""
    end = (until or datetime.now(UTC)).astimezone(UTC)
    start = end - timedelta(hours=hours)
    [row] = _query(conn, load_sql("alerts/api_performance_summary"), {"since": start, "until": end})
    return PerformanceSummary(since=start, until=end, **row)


def _query(conn: Any, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        columns = [column.name for column in cur.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    conn.rollback()
    return rows
