"""
### elk_log_probe

Test-only DAG: one task that logs a caller's phone number through the three ways task code logs
(stdlib logging, the task's structlog logger, print), so tests can check what reaches the task
log file and Elasticsearch.
"""

import logging
from datetime import datetime

from airflow.sdk import dag, task

from aans_analytics.dag_defaults import PROJECT_TAG, default_args

CALLER = "+15551234567"


@dag(
    dag_id="elk_log_probe",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=default_args(retries=0),
    tags=[PROJECT_TAG, "test"],
    doc_md=__doc__,
)
def elk_log_probe() -> None:
    @task
    def log_caller() -> str:
        logging.getLogger("aans.probe").info("Answered caller %s for cafe %s", CALLER, "north")
        logging.getLogger("aans.probe").warning("caller +1 (555) 123-4567 called back")
        print("stdout: caller +15551234567 hung up")
        return "logged"

    log_caller()


elk_log_probe()
