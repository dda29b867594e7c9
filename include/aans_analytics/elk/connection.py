"""The Elasticsearch client of the `aans_elasticsearch` connection, through the provider's hook."""

import inspect
import logging
from typing import Any

log = logging.getLogger(__name__)

ELASTICSEARCH_CONN_ID = "aans_elasticsearch"


def client_kwargs(extra: dict[str, Any]) -> dict[str, Any]:
    """The connection extras that `elasticsearch.Elasticsearch` accepts (ca_certs, api_key, ...).

    Unknown keys are dropped with a warning rather than passed on, because the client raises on
    any keyword it does not know and a typo in an extra should not take the DAG down.
    """
    from elasticsearch import Elasticsearch

    accepted = set(inspect.signature(Elasticsearch.__init__).parameters) - {"self", "hosts"}
    unknown = sorted(set(extra) - accepted)
    if unknown:
        log.warning(
            "Ignoring connection extras the Elasticsearch client does not take: %s", unknown
        )
    return {key: value for key, value in extra.items() if key in accepted}


def get_client(conn_id: str = ELASTICSEARCH_CONN_ID) -> Any:
    """An `elasticsearch.Elasticsearch` client for the Airflow connection `conn_id`.

    The connection holds host, port, schema (`http` or `https`, default `http`), optional login
    and password, and client options as extras (e.g. `{"ca_certs": "/certs/ca.crt"}`). The
    client comes from the provider's `ElasticsearchPythonHook`, which also applies the
    provider's `[elasticsearch] es_compat_with` setting for servers of another major version.
    """
    from airflow.providers.elasticsearch.hooks.elasticsearch import ElasticsearchPythonHook
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    scheme = conn.schema or "http"
    url = f"{scheme}://{conn.host}:{conn.port or 9200}"
    kwargs = client_kwargs(conn.extra_dejson)
    if conn.login:
        kwargs["basic_auth"] = (conn.login, conn.password or "")
    log.info("Elasticsearch connection %s: %s", conn_id, url)
    hook = ElasticsearchPythonHook(hosts=[url], es_conn_args=kwargs)
    return hook.get_conn
