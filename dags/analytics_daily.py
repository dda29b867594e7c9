"""
### analytics_daily

Turns one business day of the AANS app's data into the per-cafe daily analytics tables.

- **Sources** (schema `public` of `aans_postgres`, read-only): `cafes`, `orders`, `order_items`,
  `calls`, `reviews`, `reservations`.
- **Targets** (schema `analytics`): `order_analytics`, `menu_item_sales`, `call_metrics`,
  `call_metrics_hourly`, `customer_satisfaction`, `reservation_analytics`, plus the gate's record in
  `data_quality_results`.
- **Grain**: one row per cafe and local date (per hour or menu item for the sparse tables). A run
  whose logical date is D produces business date D: each cafe's own local day D, in its time zone.
- **Schedule**: one run per UTC date D, created at D+1 00:00 UTC. `stage_day` is a sensor: it
  waits (rescheduling itself, holding no worker) until every cafe's local day D has ended, then
  stages. A backfill from the UI over dates A to B runs business dates A to B; past days start at
  once.
- **Flow**: `stage_day` aggregates the day into `analytics_work`; `validate_day` runs the Great
  Expectations gate on the day's source rows and the staged output and records every result;
  `publish_day` swaps the day in, in one transaction. A refused day leaves the published rows of
  that day exactly as they were. Re-running a day replaces it with what the source says now.
- **Params**: `max_invalid_share`, a number or a per-table mapping, overrides the gate's
  thresholds (`threshold` in `include/expectations/source/*.yaml`) for one run.
"""

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, PokeReturnValue, dag, task

from aans_analytics.assets import DAILY_ASSETS
from aans_analytics.dag_defaults import PROJECT_TAG, default_args

# One interval per UTC date: its start, D 00:00 UTC, is the run's logical date, so logical date D
# is business date D for the scheduler, `airflow dags test` and backfills alike, and a backfill's
# date range names business dates. Cafes west of UTC finish D later: stage_day waits for them.
SCHEDULE = CronDataIntervalTimetable("0 0 * * *", timezone="UTC")


@dag(
    dag_id="analytics_daily",
    schedule=SCHEDULE,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=4,
    default_args=default_args(),
    tags=[PROJECT_TAG, "analytics", "daily"],
    doc_md=__doc__,
    params={"max_invalid_share": None},
)
def analytics_daily() -> None:
    # The westernmost zone (UTC-12) ends day D at D+1 12:00 UTC, 12 hours after the run starts.
    @task.sensor(
        poke_interval=timedelta(minutes=20), timeout=timedelta(hours=20), mode="reschedule"
    )
    def stage_day(logical_date=None, run_id=None) -> PokeReturnValue:
        from aans_analytics import pipeline

        batch_id = pipeline.stage_business_day(logical_date, run_id)
        return PokeReturnValue(is_done=batch_id is not None, xcom_value=batch_id)

    @task
    def validate_day(batch_id: str, logical_date=None, run_id=None, dag_run=None) -> dict:
        from aans_analytics import pipeline

        # This run's own conf: the DAG-level params object outlives a run in the same process.
        conf = dag_run.conf or {}
        return pipeline.validate_business_day(batch_id, logical_date, run_id, conf)

    @task(outlets=DAILY_ASSETS)
    def publish_day(batch_id: str, audit: dict, logical_date=None) -> None:
        from aans_analytics import pipeline

        pipeline.publish_business_day(batch_id, logical_date)

    batch_id = stage_day()
    publish_day(batch_id, validate_day(batch_id))


analytics_daily = analytics_daily()
