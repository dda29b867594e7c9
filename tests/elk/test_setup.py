"""elasticsearch-setup against the stand-in: definitions load, and a second run changes nothing."""

from aans_analytics.elk import setup


def test_definitions_and_security_install_idempotently(es_server, es_client):
    passwords = {
        "LOGSTASH_WRITER_PASSWORD": "logstash-test-pw",
        "AIRFLOW_ES_PASSWORD": "airflow-test-pw",
        "KIBANA_SYSTEM_PASSWORD": "kibana-test-pw",
    }

    first = setup.install_security(es_client, passwords) + setup.install_definitions(es_client)
    second = setup.install_definitions(es_client)

    assert set(es_server.templates) == {"aans-requests", "airflow-logs"}
    assert set(es_server.ilm_policies) == {"aans-requests-retention", "airflow-logs-retention"}
    for template in es_server.templates.values():
        policy = template["template"]["settings"]["index.lifecycle.name"]
        assert policy in es_server.ilm_policies
    assert es_server.aliases == {"airflow-logs": {"airflow-logs-000001": True}}
    assert "index airflow-logs-000001 behind alias airflow-logs" in first
    assert not any(item.startswith("index airflow-logs-") for item in second)
    assert es_server.users["logstash_writer"]["roles"] == ["aans_logstash_writer"]
    assert es_server.users["kibana_system"]["password"] == "kibana-test-pw"
    # Logstash may only create request documents; it cannot read or touch task logs.
    (grant,) = es_server.roles["aans_logstash_writer"]["indices"]
    assert grant["names"] == ["aans-requests-*"] and "read" not in grant["privileges"]


def test_new_task_log_index_takes_the_template_mappings(es_server, es_client):
    setup.install_definitions(es_client)

    es_client.index(index="airflow-logs", document={"log_id": "a-b-c", "offset": 1, "event": "x"})

    mappings = es_server.indices["airflow-logs-000001"].mappings
    assert mappings["log_id"] == "keyword" and mappings["offset"] == "long"


def test_main_sets_everything_up_as_the_compose_service_does(monkeypatch):
    from tests.elk.es_standin import ElasticsearchStandIn

    with ElasticsearchStandIn(credentials=("elastic", "elastic-test-pw")) as server:
        for name, value in {
            "ELASTICSEARCH_URL": server.url,
            "ELASTIC_PASSWORD": "elastic-test-pw",
            "LOGSTASH_WRITER_PASSWORD": "logstash-test-pw",
            "AIRFLOW_ES_PASSWORD": "airflow-test-pw",
            "KIBANA_SYSTEM_PASSWORD": "kibana-test-pw",
        }.items():
            monkeypatch.setenv(name, value)

        setup.main()

        assert set(server.users) == {"logstash_writer", "airflow", "kibana_system"}
        assert set(server.templates) == {"aans-requests", "airflow-logs"}
        assert server.calls("GET", "/_cluster/health")
