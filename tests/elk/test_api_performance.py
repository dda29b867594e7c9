"""api_performance against the strict Elasticsearch stand-in and a real PostgreSQL.

The request documents are the ones Logstash writes (DESIGN section 5b); the expected figures are
computed here from the same list with plain counting and nearest-rank percentiles, independently
of the stand-in's interpolation. The latencies are chosen so that every percentile method agrees.
"""

import math
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from aans_analytics.elk import api_performance, setup

HOUR = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
INDEX = "aans-requests-2026.11.05"


def request_doc(at, endpoint, duration_ms, status=200, cache_hit=None, method="GET"):
    doc = {
        "@timestamp": at.isoformat().replace("+00:00", "Z"),
        "method": method,
        "endpoint": endpoint,
        "status": status,
        "duration_ms": duration_ms,
        "service": "aans-api",
        "level": "info",
    }
    if cache_hit is not None:
        doc["cache_hit"] = cache_hit
    return doc


def hour_of_traffic(hour):
    """Two endpoints in `hour`, plus requests just outside it that must not count."""
    docs = []
    # /api/orders/:id: 100 requests, 60 at 100 ms, 36 at 200 ms, 4 at 900 ms.
    latencies = [100.0] * 60 + [200.0] * 36 + [900.0] * 4
    statuses = [503, 503, 503, 500, 499, 499] + [200] * 94
    cache = [True] * 30 + [False] * 10 + [None] * 60
    for i in range(100):
        at = hour + timedelta(seconds=i * 30)
        docs.append(request_doc(at, "/api/orders/:id", latencies[i], statuses[i], cache[i]))
    # /api/menu: 20 requests at 50 ms, none touching the cache, the last one at 09:59:59.999.
    for i in range(20):
        at = hour + timedelta(minutes=40, seconds=i * 60) - timedelta(milliseconds=1)
        docs.append(request_doc(at, "/api/menu", 50.0))
    return docs


def outside(hour):
    return [
        request_doc(hour - timedelta(milliseconds=1), "/api/orders/:id", 5000.0, 500),
        request_doc(hour + timedelta(hours=1), "/api/orders/:id", 5000.0, 500),
        request_doc(hour + timedelta(minutes=90), "/api/reviews", 10.0),
    ]


def nearest_rank(values, percent):
    ordered = sorted(values)
    return ordered[math.ceil(percent / 100 * len(ordered)) - 1]


def expected_rows(docs, hour):
    """endpoint -> (requests, errors, p50, p95, p99, cache_hit_rate), by plain counting."""
    end = hour + timedelta(hours=1)
    by_endpoint = {}
    for doc in docs:
        at = datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00"))
        if hour <= at < end:
            by_endpoint.setdefault(doc["endpoint"], []).append(doc)
    rows = {}
    for endpoint, group in by_endpoint.items():
        durations = [d["duration_ms"] for d in group]
        flagged = [d["cache_hit"] for d in group if "cache_hit" in d]
        rows[endpoint] = (
            len(group),
            sum(1 for d in group if d["status"] >= 500),
            nearest_rank(durations, 50),
            nearest_rank(durations, 95),
            nearest_rank(durations, 99),
            sum(flagged) / len(flagged) if flagged else None,
        )
    return rows


def load(client, docs, index=INDEX):
    from elasticsearch import helpers

    helpers.bulk(client, [{"_index": index, "_source": doc} for doc in docs])
    client.indices.refresh(index=index)


def stored(db, hour=HOUR):
    rows = db.query(
        "select endpoint, requests, errors, p50_ms, p95_ms, p99_ms, cache_hit_rate"
        " from analytics.api_performance where hour = %s order by endpoint",
        (hour,),
    )
    return {row[0]: tuple(row[1:]) for row in rows}


@pytest.fixture
def prepared(es_client):
    """Elasticsearch with the project's templates and policies installed, as compose does."""
    setup.install_definitions(es_client)
    return es_client


def test_rerun_replaces_only_its_hour(empty_db, es_connection, prepared):
    next_hour = HOUR + timedelta(hours=1)
    load(prepared, hour_of_traffic(HOUR) + hour_of_traffic(next_hour))
    api_performance.aggregate_hour(HOUR)
    api_performance.aggregate_hour(next_hour)
    created_before = empty_db.query(
        "select created_at, updated_at from analytics.api_performance"
        " where hour = %s and endpoint = '/api/orders/:id'",
        (HOUR,),
    )[0]

    # Late data changes the hour: /api/menu is gone, /api/orders/:id gets slower requests.
    prepared.indices.delete(index=INDEX)
    changed = [d for d in hour_of_traffic(HOUR) if d["endpoint"] != "/api/menu"]
    changed += [request_doc(HOUR + timedelta(minutes=59), "/api/orders/:id", 900.0, 200, True)]
    load(prepared, changed)
    summary = api_performance.aggregate_hour(HOUR)

    assert summary["rows_deleted"] == 1
    assert stored(empty_db) == expected_rows(changed, HOUR)
    after = empty_db.query(
        "select created_at, updated_at from analytics.api_performance"
        " where hour = %s and endpoint = '/api/orders/:id'",
        (HOUR,),
    )[0]
    assert after[0] == created_before[0]
    assert after[1] > created_before[1]
    # The next hour was written before the index was replaced and stays as it was.
    assert stored(empty_db, next_hour) == expected_rows(hour_of_traffic(next_hour), next_hour)


def test_hour_without_any_index_writes_no_rows(empty_db, es_connection, prepared):
    summary = api_performance.aggregate_hour(HOUR)

    assert summary["endpoints"] == 0
    assert empty_db.query("select count(*) from analytics.api_performance") == [(0,)]


def test_endpoint_must_be_a_keyword_field(empty_db, es_connection, es_client):
    from elasticsearch import BadRequestError

    # Without the index template, dynamic mapping makes `endpoint` a text field, as in
    # Elasticsearch, and a terms aggregation on it is refused.
    load(es_client, hour_of_traffic(HOUR))

    with pytest.raises(BadRequestError):
        api_performance.aggregate_hour(HOUR)


def test_search_asks_elasticsearch_for_aggregates_only(es_connection, prepared, es_server):
    load(prepared, hour_of_traffic(HOUR))

    from aans_analytics.elk.connection import get_client

    api_performance.fetch_hour(get_client(), HOUR)

    search = es_server.calls("POST", "/_search")[-1]
    assert search.path == f"/{INDEX}*/_search"
    assert '"size": 0' in search.body.decode() or '"size":0' in search.body.decode()


def test_logical_date_is_the_hour_before_the_trigger():
    import pendulum
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction
    from dags.api_performance import api_performance as dag

    timetable = coerce_to_core_timetable(dag.timetable)
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(
            earliest=pendulum.datetime(2026, 11, 5, 9, 30, tz="UTC"), latest=None, catchup=True
        ),
    )

    assert info.run_after == datetime(2026, 11, 5, 10, 5, tzinfo=UTC)
    assert info.logical_date == datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
    assert api_performance.hour_of(datetime(2026, 11, 5, 9, 37, tzinfo=UTC)) == HOUR


def test_airflow_dags_test_aggregates_the_named_hour(airflow_db, empty_db, es_connection, prepared):
    # The named hour, requests just outside it, and the next hour, which must stay untouched.
    docs = hour_of_traffic(HOUR) + outside(HOUR) + hour_of_traffic(HOUR + timedelta(hours=1))
    load(prepared, docs)

    result = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "api_performance", HOUR.isoformat()],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    expected = expected_rows(docs, HOUR)
    assert set(expected) == {"/api/orders/:id", "/api/menu"}
    assert expected["/api/orders/:id"] == (100, 4, 100.0, 200.0, 900.0, 0.75)
    assert stored(empty_db) == expected
    assert empty_db.query("select distinct hour from analytics.api_performance") == [(HOUR,)]
