"""Task logs: real task runs through Airflow's supervisor, shipped to the Elasticsearch stand-in.

`airflow dags test` and `dag.test()` run tasks in-process and never upload logs. Here
`dag.test(use_executor=True)` hands the task to `InlineExecutor`, which calls Airflow's
`supervise_task` as a worker does: a forked task process, the JSON log file written by the
supervisor, then the configured remote log IO's upload. The logging configuration is the
project's (`aans_analytics.elk.task_logging`), set through environment variables as in compose.
"""

import importlib
import json
import re
import socket
from pathlib import Path

import pytest
from tests.elk.conftest import ES_PASSWORD, ES_USER

ROOT = Path(__file__).resolve().parents[2]
PROBE_DAGS = ROOT / "tests" / "elk" / "dags"
PHONE_DIGITS = "5551234567"
LOGGING_CONFIG_CLASS = "aans_analytics.elk.task_logging.LOGGING_CONFIG"


def _reset_airflow_logging_state() -> None:
    """Forget the logging and executor setup Airflow cached when this process first read them."""
    import airflow.logging_config
    import airflow.sdk.log
    from airflow.config_templates import airflow_local_settings
    from airflow.executors import executor_loader

    importlib.reload(airflow_local_settings)
    import aans_analytics.elk.task_logging as task_logging

    importlib.reload(task_logging)
    airflow.sdk.log._ActiveLoggingConfig.logging_config_loaded = False
    airflow.sdk.log.logging_processors.cache_clear()
    airflow.logging_config._ActiveLoggingConfig.logging_config_loaded = False
    # The executor named by [core] executor is cached per process as well.
    executor_loader._executor_names.clear()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def remote_logging(airflow_db):
    """Returns a function that configures task logging to Elasticsearch at a given URL."""
    patch = pytest.MonkeyPatch()

    def configure(es_url: str) -> None:
        authority = es_url.removeprefix("http://")
        settings = {
            "AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS": LOGGING_CONFIG_CLASS,
            "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
            "AIRFLOW__ELASTICSEARCH__HOST": f"http://{ES_USER}:{ES_PASSWORD}@{authority}",
            "AIRFLOW__ELASTICSEARCH__WRITE_TO_ES": "True",
            "AIRFLOW__ELASTICSEARCH__JSON_FORMAT": "True",
            "AIRFLOW__ELASTICSEARCH__TARGET_INDEX": "airflow-logs",
            "AIRFLOW__ELASTICSEARCH__INDEX_PATTERNS": "airflow-logs",
            "AIRFLOW__ELASTICSEARCH_CONFIGS__MAX_RETRIES": "0",
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROBE_DAGS),
            # dag.test(use_executor=True) names the bundle "dags-folder"; point it at the probe.
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
                [
                    {
                        "name": "dags-folder",
                        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                        "kwargs": {"path": str(PROBE_DAGS)},
                    }
                ]
            ),
            "AIRFLOW__CORE__EXECUTOR": "tests.elk.inline_executor.InlineExecutor",
        }
        for name, value in settings.items():
            patch.setenv(name, value)
        _reset_airflow_logging_state()

    yield configure
    patch.undo()
    _reset_airflow_logging_state()


def run_probe():
    """Run `elk_log_probe` once through the executor path; return (dag run, task instance)."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    dag = DagBag(str(PROBE_DAGS)).get_dag("elk_log_probe")
    run = dag.test(use_executor=True)
    with create_session() as session:
        ti = (
            session.query(TaskInstance)
            .filter_by(dag_id="elk_log_probe", run_id=run.run_id, task_id="log_caller")
            .one()
        )
        session.expunge(ti)
    return run, ti


def local_log(ti) -> tuple[str, list[dict]]:
    """The relative path of the task's local log file and its JSON lines."""
    import os

    base = Path(os.environ["AIRFLOW__LOGGING__BASE_LOG_FOLDER"])
    path = next(base.glob(f"dag_id=elk_log_probe/run_id={ti.run_id}/task_id=log_caller/*.log"))
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return str(path.relative_to(base)), lines


def caller_events(events: list[str]) -> list[str]:
    return [event for event in events if "caller" in event]


def test_task_log_reaches_elasticsearch_masked_and_reads_back(remote_logging, es_server, es_client):
    from aans_analytics.elk import setup

    setup.install_definitions(es_client)
    remote_logging(es_server.url)

    run, ti = run_probe()

    assert run.state == "success"
    relative_path, lines = local_log(ti)
    file_events = [line["event"] for line in lines]
    # stdlib logging, a warning and print(): all three lines are there, masked.
    assert caller_events(file_events) == [
        "Answered caller [phone] for cafe north",
        "caller [phone] called back",
        "stdout: caller [phone] hung up",
    ]

    # One bulk request per task try, written through the alias into the first backing index.
    assert len(es_server.calls("PUT", "/_bulk")) == 1
    docs = es_server.documents("airflow-logs-000001")
    expected_log_id = f"elk_log_probe-log_caller-{ti.run_id}--1-1"
    assert {doc["log_id"] for doc in docs} == {expected_log_id}
    assert [doc["offset"] for doc in docs] == list(range(1, len(lines) + 1))
    assert [doc["event"] for doc in docs] == file_events
    assert all({"timestamp", "level", "event"} <= set(doc) for doc in docs)
    stored = json.dumps(docs) + json.dumps(lines)
    assert PHONE_DIGITS not in re.sub(r"\D", "", " ".join(caller_events(file_events)))
    assert PHONE_DIGITS not in stored and "123-4567" not in stored

    # Read back through the provider: the remote log IO the api-server uses...
    import aans_analytics.elk.task_logging as task_logging

    _sources, messages = task_logging.REMOTE_TASK_LOG.read(relative_path, ti)
    read_events = [json.loads(message)["event"] for message in messages]
    assert read_events == file_events

    # ...and the Elasticsearch task handler's streaming read with its offset metadata.
    from airflow.providers.elasticsearch.log.es_task_handler import ElasticsearchTaskHandler

    handler = ElasticsearchTaskHandler(
        base_log_folder=str(Path(relative_path).parent),
        end_of_log_mark="end_of_log",
        write_stdout=False,
        json_fields="",
        json_format=True,
        write_to_es=True,
        host=f"http://{ES_USER}:{ES_PASSWORD}@127.0.0.1:{es_server.port}",
        index_patterns="airflow-logs",
        es_kwargs={},
    )
    hits, metadata = handler._read(ti, ti.try_number, {"offset": 0})
    assert [hit.event for hit in hits if "caller" in hit.event] == caller_events(file_events)
    assert metadata["offset"] == str(len(lines))
    searches = es_server.calls("POST", "/airflow-logs/_search")
    assert searches and all(b'"match_phrase"' in s.body for s in searches)


def test_task_stays_green_and_keeps_its_local_log_when_elasticsearch_is_down(
    remote_logging, monkeypatch
):
    from airflow.providers.elasticsearch.log.es_task_handler import ElasticsearchRemoteLogIO

    uploads = []
    original = ElasticsearchRemoteLogIO._write_to_es

    def recording_write(self, log_lines):
        succeeded = original(self, log_lines)
        uploads.append((len(log_lines), succeeded))
        return succeeded

    monkeypatch.setattr(ElasticsearchRemoteLogIO, "_write_to_es", recording_write)
    remote_logging(f"http://127.0.0.1:{_closed_port()}")

    run, ti = run_probe()

    assert run.state == "success"
    assert ti.state == "success"
    _, lines = local_log(ti)
    assert caller_events([line["event"] for line in lines]) == [
        "Answered caller [phone] for cafe north",
        "caller [phone] called back",
        "stdout: caller [phone] hung up",
    ]
    # The upload was tried once with every line and failed; the failure stayed in the worker.
    assert uploads == [(len(lines), False)]


def test_compose_logging_settings_load_in_a_fresh_airflow_process():
    """The settings of config/airflow_elasticsearch.env, read by Airflow at start-up."""
    import os
    import subprocess
    import sys

    env_file = ROOT / "config" / "airflow_elasticsearch.env"
    settings = dict(
        line.split("=", 1)
        for line in env_file.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    env = {
        **os.environ,
        **settings,
        "AIRFLOW__ELASTICSEARCH__HOST": f"http://{ES_USER}:{ES_PASSWORD}@127.0.0.1:{_closed_port()}",
    }
    probe = (
        "import logging, airflow\n"
        "from airflow.logging_config import get_remote_task_log\n"
        "from airflow.sdk.log import load_remote_log_handler\n"
        "core, sdk = get_remote_task_log(), load_remote_log_handler()\n"
        "handler = logging.getLogger('airflow.task').handlers[0]\n"
        "print(type(core).__name__, type(core.inner).__name__, type(sdk).__name__,\n"
        "      type(handler).__name__, [type(f).__name__ for f in handler.filters][0])\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [
        "PhoneMaskingLogIO",
        "ElasticsearchRemoteLogIO",
        "PhoneMaskingLogIO",
        "ElasticsearchTaskHandler",
        "PhoneMaskingFilter",
    ]
