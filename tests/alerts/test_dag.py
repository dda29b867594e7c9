"""Real Airflow runs (`dag.test()`): the DAG `alert_checks`, and the failure callback every project
DAG shares, delivering to the local receivers."""

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.alerts.conftest import SLACK_PATH, WEBHOOK_PATH

from aans_analytics.alerts.offline import VARIABLE_KEY

PROBE_DAGS = Path(__file__).resolve().parent / "dags"


@pytest.fixture
def fresh_variable(airflow_db):
    """The offline state Variable starts and ends empty: the metadata database is per session."""
    from airflow.models.variable import Variable

    Variable.delete(VARIABLE_KEY)
    yield
    Variable.delete(VARIABLE_KEY)


def _slow_endpoint(db, hour, p95_ms):
    db.query(
        "insert into analytics.api_performance"
        " (hour, endpoint, requests, errors, p50_ms, p95_ms, p99_ms, cache_hit_rate)"
        " values (%s, '/api/orders/:id', 400, 2, 120, %s, 1500, 0.9)",
        (hour, p95_ms),
    )


def test_alert_checks_run_notifies_a_slow_endpoint(alert_db, channels, fresh_variable):
    from dags.alert_checks import alert_checks

    receiver, smtp = channels
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    _slow_endpoint(alert_db, hour, p95_ms=850)

    dag = alert_checks()
    run = dag.test()

    assert run.state == "success"
    [webhook] = receiver.wait_for(WEBHOOK_PATH, 1)
    [alert] = webhook["alerts"]
    assert (alert["rule"], alert["subject"], alert["measured_value"]) == (
        "api_latency_p95",
        "/api/orders/:id",
        850.0,
    )
    assert f"/dags/alert_checks/runs/{run.run_id}" in alert["link"].replace("%3A", ":").replace(
        "%2B", "+"
    )
    assert len(receiver.wait_for(SLACK_PATH, 1)) == 1
    assert len(smtp.wait_for(1)) == 1
    assert alert_db.query(
        "select rule_name, status from analytics.alert_events where kind = 'alert'"
    ) == [("api_latency_p95", "firing")]

    # A second run within the cooldown: green, and silent.
    second = dag.test()

    assert second.state == "success"
    assert len(receiver.bodies(WEBHOOK_PATH)) == 1


def test_alert_checks_run_announces_the_warehouse_down_once(
    airflow_db, channels, warehouse_down, fresh_variable
):
    from dags.alert_checks import alert_checks

    receiver, _ = channels

    dag = alert_checks()
    first = dag.test()
    second = dag.test()

    assert (first.state, second.state) == ("success", "success")
    [webhook] = receiver.wait_for(WEBHOOK_PATH, 1)
    assert webhook["alerts"][0]["rule"] == "warehouse_unreachable"
    assert len(receiver.bodies(WEBHOOK_PATH)) == 1


def test_a_broken_rule_turns_only_evaluate_rules_red_and_is_announced_once(
    alert_db, channels, fresh_variable, monkeypatch, tmp_path
):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from dags.alert_checks import alert_checks

    from aans_analytics.alerts import rules

    receiver, _ = channels
    sql_dir = tmp_path / "alerts_sql"
    shutil.copytree(rules.ALERT_SQL_DIR, sql_dir)
    (sql_dir / "answer_rate.sql").write_text("select subject, measured_value from missing_table\n")
    monkeypatch.setattr(rules, "ALERT_SQL_DIR", sql_dir)

    run = alert_checks().test()

    with create_session() as session:
        states = {
            task_id: (state, tries)
            for task_id, state, tries in session.query(
                TaskInstance.task_id, TaskInstance.state, TaskInstance.try_number
            ).filter_by(dag_id="alert_checks", run_id=run.run_id)
        }
    # Failed once, without the retry a passing blip would get: a broken rule stays broken.
    assert states == {"evaluate_rules": ("failed", 1), "deliver_notifications": ("success", 1)}
    webhooks = receiver.wait_for(WEBHOOK_PATH, 1)
    # One message, "check broken" naming the file; no "task failed" page on top of it.
    assert [body["text"].splitlines()[0] for body in webhooks] == [
        "[WARNING] CHECK BROKEN answer_rate_low: sql/alerts/answer_rate.sql"
    ]
    assert "missing_table" in webhooks[0]["alerts"][0]["detail"]


def test_a_failed_task_of_a_project_dag_pages_through_its_failure_callback(
    alert_db, channels, fresh_variable, monkeypatch
):
    from tests.alerts.dags.alert_failure_probe import alert_failure_probe

    receiver, _ = channels
    # dag.test() serializes the DAG from the configured DAG folder: point it at the probe's.
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(PROBE_DAGS))
    monkeypatch.setattr("airflow.settings.DAGS_FOLDER", str(PROBE_DAGS))

    run = alert_failure_probe.test()

    assert run.state == "failed"
    [webhook] = receiver.wait_for(WEBHOOK_PATH, 1)
    alert = webhook["alerts"][0]
    assert (alert["rule"], alert["subject"]) == ("task_failed", "alert_failure_probe.load_rows")
    assert alert["detail"].endswith("ValueError")
