"""The stand-in itself, driven by the real client: it must refuse what Elasticsearch refuses.

A stand-in that accepted anything would let a broken client pass; these checks pin the contract
points of shared/contracts (parts B and C) that the other tests rely on.
"""

import json
import urllib.request

import pytest
from tests.elk.conftest import ES_PASSWORD, ES_USER

from elasticsearch import (
    AuthenticationException,
    BadRequestError,
    Elasticsearch,
    NotFoundError,
    helpers,
)


def raw(server, method, path, body=b"", headers=None):
    """A request without the client, to reach what the client never sends."""
    import base64

    request = urllib.request.Request(
        server.url + path, data=body or None, method=method, headers=headers or {}
    )
    token = f"{ES_USER}:{ES_PASSWORD}".encode()
    request.add_header("Authorization", "Basic " + base64.b64encode(token).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def test_every_answer_carries_the_product_header(es_server):
    for method, path in [("GET", "/"), ("POST", "/missing/_search"), ("GET", "/_nothing")]:
        _, headers, _ = raw(es_server, method, path)
        assert headers["X-Elastic-Product"] == "Elasticsearch"


def test_authentication_is_required(es_server):
    client = Elasticsearch(es_server.url)

    with pytest.raises(AuthenticationException):
        client.info()


def test_bulk_ndjson_is_parsed_strictly(es_server):
    ndjson = {"Content-Type": "application/x-ndjson"}
    action = b'{"index":{"_index":"logs"}}\n{"a":1}'

    assert raw(es_server, "POST", "/_bulk", action, ndjson)[0] == 400  # no final newline
    assert raw(es_server, "PUT", "/_bulk", b'{"index":{"_index":"logs"}}\n', ndjson)[0] == 400
    assert raw(es_server, "PUT", "/_bulk", b'{"upsert":{"_index":"logs"}}\n{}\n', ndjson)[0] == 400
    assert raw(es_server, "PUT", "/_bulk", action + b"\n", {"Content-Type": "text/plain"})[0] == 406
    status, _, body = raw(es_server, "POST", "/logs/_bulk", b'{"index":{}}\n{"a":1}\n', ndjson)
    assert status == 200 and body["items"][0]["index"]["status"] == 201


def test_bulk_answers_one_item_per_action_in_order(es_client):
    es_client.indices.create(index="docs")
    actions = [
        {"_op_type": "create", "_index": "docs", "_id": "1", "_source": {"n": 1}},
        {"_op_type": "create", "_index": "docs", "_id": "1", "_source": {"n": 2}},
        {"_op_type": "index", "_index": "docs", "_id": "2", "_source": {"n": 3}},
    ]

    with pytest.raises(helpers.BulkIndexError) as failure:
        helpers.bulk(es_client, actions)

    (error,) = failure.value.errors
    assert error["create"]["status"] == 409 and error["create"]["_id"] == "1"
    assert es_client.count(index="docs")["count"] == 2


def test_missing_index_is_404_but_a_wildcard_is_empty(es_client):
    with pytest.raises(NotFoundError) as missing:
        es_client.search(index="nothing-here", query={"match_all": {}})

    assert missing.value.error == "index_not_found_exception"
    assert es_client.search(index="nothing-*", size=0)["hits"]["total"]["value"] == 0


def test_other_compat_versions_are_refused(es_server):
    headers = {"Accept": "application/vnd.elasticsearch+json; compatible-with=7"}

    assert raw(es_server, "GET", "/", headers=headers)[0] == 400


def test_search_sorts_pages_and_filters_source(es_client):
    docs = [{"log_id": "a", "offset": n, "event": f"line {n}", "extra": n} for n in (3, 1, 2, 4)]
    helpers.bulk(es_client, [{"_index": "logs", "_source": d} for d in docs])
    query = {
        "bool": {
            "filter": [{"range": {"offset": {"gt": 1}}}],
            "must": [{"match_phrase": {"log_id": "a"}}],
        }
    }

    page = es_client.search(
        index="logs",
        query=query,
        sort=[{"offset": "desc"}],
        size=2,
        from_=1,
        source_includes=["offset"],
    )

    assert [hit["_source"] for hit in page["hits"]["hits"]] == [{"offset": 3}, {"offset": 2}]
    assert page["hits"]["total"] == {"value": 3, "relation": "eq"}
    assert es_client.count(index="logs", query=query)["count"] == 3


def test_aggregations_compute_what_elasticsearch_reports(es_client):
    es_client.indices.create(
        index="req",
        mappings={
            "properties": {
                "@timestamp": {"type": "date"},
                "endpoint": {"type": "keyword"},
                "ms": {"type": "float"},
            }
        },
    )
    docs = [
        {"@timestamp": "2026-11-05T09:10:00Z", "endpoint": "/a", "ms": 10.0},
        {"@timestamp": "2026-11-05T09:20:00Z", "endpoint": "/a", "ms": 20.0},
        {"@timestamp": "2026-11-05T11:00:00Z", "endpoint": "/b", "ms": 40.0},
    ]
    helpers.bulk(es_client, [{"_index": "req", "_source": d} for d in docs])

    aggs = es_client.search(
        index="req",
        size=0,
        aggs={
            "hours": {
                "date_histogram": {"field": "@timestamp", "fixed_interval": "1h"},
                "aggs": {"avg_ms": {"avg": {"field": "ms"}}},
            },
            "endpoints": {
                "terms": {"field": "endpoint"},
                "aggs": {"p": {"percentiles": {"field": "ms", "percents": [50]}}},
            },
            "counted": {"value_count": {"field": "ms"}},
        },
    )["aggregations"]

    hours = aggs["hours"]["buckets"]
    assert [(b["key_as_string"], b["doc_count"]) for b in hours] == [
        ("2026-11-05T09:00:00.000Z", 2),
        ("2026-11-05T10:00:00.000Z", 0),
        ("2026-11-05T11:00:00.000Z", 1),
    ]
    assert hours[0]["avg_ms"]["value"] == 15.0 and hours[1]["avg_ms"]["value"] is None
    assert [(b["key"], b["p"]["values"]["50.0"]) for b in aggs["endpoints"]["buckets"]] == [
        ("/a", 15.0),
        ("/b", 40.0),
    ]
    assert aggs["counted"]["value"] == 3


def test_unknown_query_and_aggregation_types_are_refused(es_client):
    es_client.index(index="x", document={"a": 1})

    with pytest.raises(BadRequestError):
        es_client.search(index="x", query={"fuzzy_magic": {"a": 1}})
    with pytest.raises(BadRequestError):
        es_client.search(index="x", size=0, aggs={"k": {"median_magic": {"field": "a"}}})
