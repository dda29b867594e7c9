"""
### alert_failure_probe

Test-only DAG: one task that fails, with the project's default_args, so tests can check that the
shared failure callback pages through the alert channels.
"""

from datetime import datetime

from airflow.sdk import dag, task

from aans_analytics.dag_defaults import PROJECT_TAG, default_args


@dag(
    dag_id="alert_failure_probe",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=default_args(retries=0),
    tags=[PROJECT_TAG, "test"],
    doc_md=__doc__,
)
def alert_failure_probe() -> None:
    @task
    def load_rows() -> None:
        raise ValueError("the source table is missing")

    load_rows()


alert_failure_probe = alert_failure_probe()
