"""Fixtures of the ELK tests: the strict Elasticsearch stand-in and the connection to it."""

import json
from collections.abc import Iterator

import pytest
from tests.elk.es_standin import ElasticsearchStandIn

# Test-only credentials of the stand-in; security is on, as in docker-compose.
ES_USER = "airflow"
ES_PASSWORD = "stand-in-secret"


@pytest.fixture
def es_server() -> Iterator[ElasticsearchStandIn]:
    """A running stand-in that requires basic authentication."""
    with ElasticsearchStandIn(credentials=(ES_USER, ES_PASSWORD)) as server:
        yield server


@pytest.fixture
def es_connection(es_server: ElasticsearchStandIn, monkeypatch: pytest.MonkeyPatch) -> str:
    """Points the `aans_elasticsearch` connection at the stand-in, as compose does (JSON form)."""
    conn = {
        "conn_type": "elasticsearch",
        "host": "127.0.0.1",
        "port": es_server.port,
        "schema": "http",
        "login": ES_USER,
        "password": ES_PASSWORD,
        "extra": {"request_timeout": 10},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AANS_ELASTICSEARCH", json.dumps(conn))
    return es_server.url


@pytest.fixture
def es_client(es_server: ElasticsearchStandIn):
    """The real `elasticsearch` client, authenticated against the stand-in."""
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_server.url, basic_auth=(ES_USER, ES_PASSWORD))
    yield client
    client.close()
