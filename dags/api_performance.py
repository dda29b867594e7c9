"""
### api_performance

Aggregates the AANS API's request logs in Elasticsearch into `analytics.api_performance`.

- **Source**: the daily indices `aans-requests-YYYY.MM.DD` that Logstash fills (connection
  `aans_elasticsearch`); one document per API request with `endpoint`, `status`, `duration_ms`
  and, when the request touched the cache, `cache_hit`.
- **Target**: `analytics.api_performance` in `aans_postgres`, one row per UTC hour and normalised
  endpoint: requests, 5xx errors, p50/p95/p99 latency (Elasticsearch's percentiles) and cache hit
  rate. The schema is created or migrated on first run, so an empty database is a valid start.
- **Grain and dates**: a run whose logical date is H aggregates the UTC hour H to H + 1 h
  (a logical date inside an hour is truncated to it). `airflow dags test api_performance
  2026-11-05T09:00:00+00:00` therefore computes 09:00-10:00.
- **Schedule**: hourly at minute 5 (UTC), for the hour that just ended: the 5 minutes let Logstash
  flush the hour's last requests. Each run's data interval reaches back to the hour start, which
  becomes its logical date. A backfill runs the same task once per hour of the range.
- **Idempotency**: re-running an hour replaces its rows in one transaction; endpoints that no
  longer appear are removed.
- **Cost**: Elasticsearch does the work (terms per endpoint with percentile, filter and cache
  sub-aggregations); Python receives one bucket per endpoint, never the request documents.
"""

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, task

from aans_analytics.assets import API_PERFORMANCE_ASSET
from aans_analytics.dag_defaults import PROJECT_TAG, default_args

# Fires at minute 5 of every hour; the 65-minute interval reaches back to the start of the hour
# that just ended, and that start is the run's logical date: logical date H = hour H.
SCHEDULE = CronTriggerTimetable("5 * * * *", timezone="UTC", interval=timedelta(hours=1, minutes=5))


@dag(
    dag_id="api_performance",
    schedule=SCHEDULE,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=4,
    default_args=default_args(),
    tags=[PROJECT_TAG, "elasticsearch", "hourly"],
    doc_md=__doc__,
)
def api_performance() -> None:
    @task(outlets=[API_PERFORMANCE_ASSET])
    def aggregate_requests(logical_date=None) -> dict:
        from aans_analytics.elk.api_performance import aggregate_hour

        return aggregate_hour(logical_date)

    aggregate_requests()


api_performance = api_performance()
