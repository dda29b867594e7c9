"""
### analytics_intraday

Keeps "today" fresh during service: every 15 minutes it recomputes, for every cafe, its current
local day so far, and its previous local day until `analytics_daily` has sealed it.

- **Sources**: the AANS app tables, read only for the days it recomputes.
- **Targets**: the six daily analytics tables, rows marked `is_final = false` with
  `complete_through`, the instant they are complete up to. A sealed (final) day is never touched.
- **Same SQL, same gate**: the staging SQL and the Great Expectations gate of `analytics_daily`;
  a refused or failed refresh leaves the last good numbers in place.
- **Schedule**: `*/15 * * * *`, one run at a time, no catch-up. A backfill or a run older than an
  hour does nothing: provisional numbers only make sense about the present.
"""

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from aans_analytics.dag_defaults import PROJECT_TAG, default_args


@dag(
    dag_id="analytics_intraday",
    schedule="*/15 * * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=14),
    default_args=default_args(),
    tags=[PROJECT_TAG, "analytics", "intraday"],
    doc_md=__doc__,
)
def analytics_intraday() -> None:
    @task.short_circuit
    def stage_open_days(dag_run=None, run_id=None) -> dict | None:
        from aans_analytics import pipeline

        now = pipeline.refresh_moment(dag_run.run_after, dag_run.run_type)
        if now is None:
            return None
        batch_id = f"intraday|{run_id}"
        pipeline.stage_open_days(batch_id, now)
        return {"batch_id": batch_id, "now": now.isoformat()}

    @task
    def validate_open_days(batch: dict, run_id=None) -> dict:
        from datetime import datetime

        from aans_analytics import pipeline

        now = datetime.fromisoformat(batch["now"])
        return pipeline.validate_open_days(batch["batch_id"], now, run_id)

    # No Asset outlets: consumers of the analytics tables follow the sealed days, not every refresh.
    @task
    def publish_open_days(batch: dict, audit: dict) -> None:
        from aans_analytics import pipeline

        pipeline.publish_open_days(batch["batch_id"])

    batch = stage_open_days()
    publish_open_days(batch, validate_open_days(batch))


analytics_intraday = analytics_intraday()
