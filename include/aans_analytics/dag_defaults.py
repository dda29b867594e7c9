"""Settings every DAG of the project shares: owner, retries, tags and the failure callback."""

import logging
import os
from datetime import timedelta
from typing import Any

log = logging.getLogger(__name__)

OWNER = "aans-analytics"
PROJECT_TAG = "aans"
POSTGRES_CONN_ID = "aans_postgres"


def on_task_failure(context: Any) -> None:
    """Failure callback of every task: a failed task is never silent.

    It logs the failure where the task log (and Elasticsearch) shows it; the alerting module adds
    its notifiers here so that a failed task of any DAG pages through the configured channels.
    """
    ti = context.get("ti") or context.get("task_instance")
    log.error(
        "Task failed: dag=%s task=%s run=%s",
        getattr(ti, "dag_id", "?"),
        getattr(ti, "task_id", "?"),
        getattr(ti, "run_id", "?"),
    )
    # Imported here: parsing a DAG file must not load the alerting machinery.
    from aans_analytics.alerts import runs

    try:
        runs.notify_task_failure(context)
    except Exception:
        # A callback that raises would hide the task's own error; the log keeps this one.
        log.exception("Could not send the failure alert of %s", getattr(ti, "task_id", "?"))


def default_args(**overrides: Any) -> dict[str, Any]:
    """The default_args of a project DAG; `overrides` replace single keys."""
    args: dict[str, Any] = {
        "owner": OWNER,
        # The test suite sets these low: it runs failures on purpose and must not wait minutes.
        "retries": int(os.environ.get("AANS_TASK_RETRIES", "2")),
        "retry_delay": timedelta(seconds=int(os.environ.get("AANS_RETRY_DELAY_SECONDS", "120"))),
        "on_failure_callback": on_task_failure,
    }
    args.update(overrides)
    return args
