"""Hourly API performance: request logs aggregated by Elasticsearch into analytics.api_performance.

Elasticsearch computes every figure (one `terms` bucket per normalised endpoint, with percentiles,
a 5xx filter and the cache hit share as sub-aggregations); only one small bucket per endpoint
reaches Python, never the request documents themselves.
"""

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aans_analytics.dag_defaults import POSTGRES_CONN_ID
from aans_analytics.elk.connection import ELASTICSEARCH_CONN_ID
from aans_analytics.sqlfiles import load_sql

log = logging.getLogger(__name__)

# Logstash writes each request to the daily index of its UTC date (DESIGN section 5b).
REQUEST_INDEX_PREFIX = "aans-requests-"
PERCENTS = (50.0, 95.0, 99.0)
# Endpoints are normalised (ids become `:id`), so an hour has tens of them; the bound only keeps
# a path-normalisation bug from producing an unbounded aggregation.
MAX_ENDPOINTS = 1000


@dataclass(frozen=True)
class EndpointHour:
    """The figures of one normalised endpoint in one UTC hour."""

    endpoint: str
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    cache_hit_rate: float | None


def hour_of(logical_date: datetime) -> datetime:
    """The UTC hour a run aggregates: its logical date, truncated to the hour.

    Scheduled runs already have the hour start as logical date; the truncation makes a manual
    run at 09:37 aggregate 09:00-10:00 too.
    """
    if logical_date.tzinfo is None:
        raise ValueError("logical_date must be timezone-aware")
    utc = logical_date.astimezone(UTC)
    return utc.replace(minute=0, second=0, microsecond=0)


def index_for(hour: datetime) -> str:
    """The index expression that holds `hour`: its UTC day's index.

    A wildcard rather than the concrete name, so a day without traffic (no index yet) gives empty
    buckets instead of a 404.
    """
    return f"{REQUEST_INDEX_PREFIX}{hour:%Y.%m.%d}*"


def build_search(hour: datetime) -> dict[str, Any]:
    """The search body: no hits, one `terms` bucket per endpoint of the hour [hour, hour + 1h)."""
    end = hour + timedelta(hours=1)
    return {
        "size": 0,
        "track_total_hits": True,
        "query": {
            "bool": {
                "filter": [
                    {
                        "range": {
                            "@timestamp": {
                                "gte": hour.isoformat(),
                                "lt": end.isoformat(),
                                "format": "strict_date_optional_time",
                            }
                        }
                    }
                ]
            }
        },
        "aggs": {
            "endpoints": {
                "terms": {"field": "endpoint", "size": MAX_ENDPOINTS},
                "aggs": {
                    "latency": {
                        "percentiles": {"field": "duration_ms", "percents": list(PERCENTS)}
                    },
                    "errors": {"filter": {"range": {"status": {"gte": 500}}}},
                    # The rate is over requests that touched the cache: those carry `cache_hit`.
                    "cache_known": {
                        "filter": {"exists": {"field": "cache_hit"}},
                        "aggs": {"cache_hits": {"filter": {"term": {"cache_hit": True}}}},
                    },
                },
            }
        },
    }


def parse_aggregations(aggregations: dict[str, Any]) -> list[EndpointHour]:
    """Turn the `endpoints` aggregation of a response into rows."""
    terms = aggregations["endpoints"]
    if terms.get("sum_other_doc_count", 0):
        # A partial hour would be written as if complete; refuse instead.
        raise ValueError(
            f"More than {MAX_ENDPOINTS} endpoints in one hour "
            f"({terms['sum_other_doc_count']} requests left out); check path normalisation"
        )
    rows = []
    for bucket in terms["buckets"]:
        latency = bucket["latency"]["values"]
        known = bucket["cache_known"]["doc_count"]
        hits = bucket["cache_known"]["cache_hits"]["doc_count"]
        rows.append(
            EndpointHour(
                endpoint=str(bucket["key"]),
                requests=int(bucket["doc_count"]),
                errors=int(bucket["errors"]["doc_count"]),
                p50_ms=_percentile(latency, 50.0),
                p95_ms=_percentile(latency, 95.0),
                p99_ms=_percentile(latency, 99.0),
                cache_hit_rate=hits / known if known else None,
            )
        )
    return rows


def _percentile(values: dict[str, Any], percent: float) -> float | None:
    value = values.get(str(percent))
    return None if value is None else float(value)


def fetch_hour(client: Any, hour: datetime) -> list[EndpointHour]:
    """Run the aggregation for `hour` on an `elasticsearch.Elasticsearch` client."""
    response = client.search(index=index_for(hour), **build_search(hour))
    rows = parse_aggregations(response["aggregations"])
    log.info(
        "Hour %s: %s requests over %s endpoints in Elasticsearch",
        hour.isoformat(),
        response["hits"]["total"]["value"],
        len(rows),
    )
    return rows


def replace_hour(conn: Any, hour: datetime, rows: list[EndpointHour]) -> dict[str, int]:
    """Make the stored rows of `hour` equal `rows`, in one transaction; return the counts.

    Endpoints of the hour that no longer appear are deleted; the others are upserted so that
    `created_at` keeps the first time the hour was written.
    """
    params = {
        "hour": hour,
        "endpoints": [row.endpoint for row in rows],
        "requests": [row.requests for row in rows],
        "errors": [row.errors for row in rows],
        "p50_ms": [row.p50_ms for row in rows],
        "p95_ms": [row.p95_ms for row in rows],
        "p99_ms": [row.p99_ms for row in rows],
        "cache_hit_rates": [row.cache_hit_rate for row in rows],
    }
    try:
        with conn.cursor() as cur:
            cur.execute(load_sql("api_performance/delete_stale_endpoints"), params)
            deleted = cur.rowcount
            cur.execute(load_sql("api_performance/upsert_hour"), params)
            written = cur.rowcount
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    return {"rows_written": written, "rows_deleted": deleted}


def aggregate_hour(
    logical_date: datetime,
    es_conn_id: str = ELASTICSEARCH_CONN_ID,
    pg_conn_id: str = POSTGRES_CONN_ID,
) -> dict[str, Any]:
    """The task: aggregate the hour of `logical_date` and replace it in the warehouse."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from aans_analytics.elk.connection import get_client
    from aans_analytics.warehouse import migrate

    started = time.monotonic()
    hour = hour_of(logical_date)
    rows = fetch_hour(get_client(es_conn_id), hour)

    conn = PostgresHook(postgres_conn_id=pg_conn_id).get_conn()
    try:
        migrate(conn)
        counts = replace_hour(conn, hour, rows)
    finally:
        conn.close()

    summary = {
        "hour": hour.isoformat(),
        "endpoints": len(rows),
        "requests": sum(row.requests for row in rows),
        **counts,
    }
    log.info(
        "analytics.api_performance hour %s: %s rows written, %s stale rows deleted, "
        "%s requests, in %.1f s",
        summary["hour"],
        counts["rows_written"],
        counts["rows_deleted"],
        summary["requests"],
        time.monotonic() - started,
    )
    return summary
