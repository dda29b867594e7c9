"""What goes wrong around an alert: a channel down, the warehouse down, a broken rule, a backfill,
a failed task of any DAG."""

import json
import shutil
from datetime import timedelta
from types import SimpleNamespace

import pytest
from tests.alerts.conftest import (
    NOW,
    SLACK_PATH,
    WEBHOOK_PATH,
    YESTERDAY,
    add_cafe,
    set_calls,
)
from tests.alerts.conftest import rules as project_rules

from aans_analytics.alerts import engine, rules, runs
from aans_analytics.alerts.offline import FileStore
from aans_analytics.alerts.rules import RuleSet


def _run(now, offline_file, rule_set):
    store = FileStore(offline_file)
    evaluation = engine.evaluate(now, store, rule_set=rule_set, link="http://airflow/run")
    delivery = engine.deliver(now, store, rule_set=rule_set)
    return evaluation, delivery


def test_a_channel_that_is_down_gets_the_notification_later_exactly_once(
    alert_db, channels, offline_file
):
    receiver, smtp = channels
    rule_set = project_rules("answer_rate_low")
    set_calls(alert_db, add_cafe(alert_db, "Cafe Aroma"), YESTERDAY, 100, 60)
    receiver.failing = True  # webhook and Slack answer 503

    _, delivery = _run(NOW, offline_file, rule_set)

    assert delivery.delivered == 1  # e-mail only
    assert len(delivery.failed) == 2
    assert receiver.bodies(WEBHOOK_PATH) == []
    pending = alert_db.query(
        "select channel, attempts, last_error from analytics.alert_deliveries"
        " where delivered_at is null order by channel"
    )
    assert [(row[0], row[1]) for row in pending] == [("slack", 1), ("webhook", 1)]
    assert all(row[2] for row in pending)

    # Next run, 15 minutes later: the channels are back; the queued notifications go out once.
    receiver.failing = False
    _run(NOW + timedelta(minutes=15), offline_file, rule_set)
    _run(NOW + timedelta(minutes=30), offline_file, rule_set)

    [webhook] = receiver.wait_for(WEBHOOK_PATH, 1)
    assert webhook["alerts"][0]["notification"] == "firing"
    assert len(receiver.wait_for(SLACK_PATH, 1)) == 1
    assert len(smtp.messages) == 1
    assert alert_db.query(
        "select count(*) from analytics.alert_deliveries where delivered_at is null"
    ) == [(0,)]


def test_the_warehouse_down_is_still_announced_once_and_its_recovery_once(
    alert_db, channels, offline_file, monkeypatch, tmp_path
):
    receiver, smtp = channels
    rule_set = project_rules("warehouse_unreachable", "answer_rate_low")
    working = alert_db.airflow_uri
    nowhere = str(tmp_path / "no-server").replace("/", "%2F")
    monkeypatch.setenv("AIRFLOW_CONN_AANS_POSTGRES", f"postgresql://postgres@{nowhere}/aans")

    evaluation, delivery = _run(NOW, offline_file, rule_set)
    _run(NOW + timedelta(minutes=15), offline_file, rule_set)

    assert evaluation.warehouse_up is False
    assert delivery.delivered == 3
    [webhook] = receiver.wait_for(WEBHOOK_PATH, 1)
    [alert] = webhook["alerts"]
    assert (alert["rule"], alert["notification"]) == ("warehouse_unreachable", "firing")
    assert alert["severity"] == "critical"
    assert "connection failed" in alert["detail"]
    assert smtp.wait_for(1)[0].startswith("[CRITICAL] FIRING warehouse_unreachable")

    # The database answers again: one "resolved", and the episode becomes visible in the table.
    monkeypatch.setenv("AIRFLOW_CONN_AANS_POSTGRES", working)
    evaluation, _ = _run(NOW + timedelta(minutes=30), offline_file, rule_set)

    assert evaluation.warehouse_up is True
    webhooks = receiver.wait_for(WEBHOOK_PATH, 2)
    assert [body["alerts"][0]["notification"] for body in webhooks] == ["firing", "resolved"]
    assert alert_db.query(
        "select rule_name, status, first_seen_at from analytics.alert_events"
    ) == [("warehouse_unreachable", "resolved", NOW)]


def test_a_broken_sql_file_is_reported_by_name_and_the_other_rules_still_run(
    alert_db, channels, offline_file, monkeypatch, tmp_path
):
    receiver, _ = channels
    sql_dir = tmp_path / "alerts_sql"
    sql_dir.mkdir()
    shutil.copy(rules.ALERT_SQL_DIR / "answer_rate.sql", sql_dir / "answer_rate.sql")
    (sql_dir / "broken_rule.sql").write_text("select subject, measured_value frm nowhere\n")
    monkeypatch.setattr(rules, "ALERT_SQL_DIR", sql_dir)
    good = project_rules("answer_rate_low")
    broken = rules.Rule(
        **{**good.rules[0].__dict__, "name": "broken_rule", "sql": "broken_rule.sql"}
    )
    rule_set = RuleSet((broken, *good.rules), good.channels)
    set_calls(alert_db, add_cafe(alert_db, "Cafe Aroma"), YESTERDAY, 100, 60)

    evaluation, _ = _run(NOW, offline_file, rule_set)

    [message] = evaluation.broken
    assert "broken_rule" in message and "sql/alerts/broken_rule.sql" in message
    assert "syntax error" in message
    assert any(fp.startswith("answer_rate_low|") for fp in evaluation.firing)
    webhooks = receiver.wait_for(WEBHOOK_PATH, 2)
    texts = sorted(body["text"].splitlines()[0] for body in webhooks)
    assert texts == [
        "[WARNING] CHECK BROKEN broken_rule: sql/alerts/broken_rule.sql",
        "[WARNING] FIRING answer_rate_low: Cafe Aroma",
    ]
    [check] = [b["alerts"][0] for b in webhooks if b["alerts"][0]["kind"] == "check_error"]
    assert check["measured_value"] is None and check["threshold"] is None

    # Fixed file: one "check fixed" message; the firing alert of the other rule is untouched.
    (sql_dir / "broken_rule.sql").write_text((sql_dir / "answer_rate.sql").read_text())
    _run(NOW + timedelta(minutes=15), offline_file, rule_set)
    texts = [body["text"].splitlines()[0] for body in receiver.wait_for(WEBHOOK_PATH, 4)]
    assert "[WARNING] CHECK FIXED broken_rule: sql/alerts/broken_rule.sql" in texts


def test_a_missing_sql_file_is_reported_by_name(alert_db, channels, offline_file):
    good = project_rules("answer_rate_low")
    missing = rules.Rule(**{**good.rules[0].__dict__, "name": "gone", "sql": "gone.sql"})

    evaluation, _ = _run(NOW, offline_file, RuleSet((missing,), good.channels))

    assert evaluation.broken == [
        "rule gone: sql/alerts/gone.sql: cannot read the file (No such file or directory)"
    ]


@pytest.mark.parametrize(
    "dag_run",
    [
        SimpleNamespace(run_type="backfill", run_id="backfill__x", run_after=NOW),
        SimpleNamespace(run_type="manual", run_id="manual__old", run_after=NOW - timedelta(days=3)),
    ],
    ids=["backfill", "old-logical-date"],
)
def test_a_run_that_looks_at_the_past_pages_nobody(alert_db, channels, offline_file, dag_run):
    receiver, smtp = channels
    set_calls(alert_db, add_cafe(alert_db, "Cafe Aroma"), YESTERDAY, 100, 60)
    ti = SimpleNamespace(dag_id="analytics_daily", task_id="publish_day", run_id=dag_run.run_id)
    context = {"dag_run": dag_run, "ti": ti, "logical_date": dag_run.run_after}

    evaluated = runs.evaluate_rules(context, now=NOW)
    delivered = runs.deliver_notifications(context, now=NOW)
    failure = runs.notify_task_failure(context, now=NOW, offline_store=FileStore(offline_file))

    assert "skipped" in evaluated and "skipped" in delivered
    assert failure is None
    assert alert_db.query("select count(*) from analytics.alert_events") == [(0,)]
    assert receiver.received == [] and smtp.messages == []


def test_a_failed_task_pages_once_per_cooldown_even_with_the_warehouse_down(
    alert_db, channels, offline_file, monkeypatch, tmp_path
):
    receiver, _ = channels
    store = FileStore(offline_file)
    dag_run = SimpleNamespace(run_type="scheduled", run_id="scheduled__1", run_after=NOW)
    ti = SimpleNamespace(
        dag_id="analytics_daily", task_id="publish_day", run_id="scheduled__1", try_number=3
    )
    context = {"dag_run": dag_run, "ti": ti, "exception": RuntimeError("row 5: +4471234567")}

    first = runs.notify_task_failure(context, now=NOW, offline_store=store)
    second = runs.notify_task_failure(context, now=NOW + timedelta(minutes=20), offline_store=store)

    assert (first, second) == ("firing", None)
    [webhook] = receiver.wait_for(WEBHOOK_PATH, 1)
    alert = webhook["alerts"][0]
    assert alert["rule"] == "task_failed"
    assert alert["subject"] == "analytics_daily.publish_day"
    assert alert["detail"] == "run scheduled__1, try 3: RuntimeError"
    assert "4471234567" not in webhook["text"]  # the exception's message may hold personal data
    assert alert["link"].endswith("/dags/analytics_daily/runs/scheduled__1/tasks/publish_day")

    # With the warehouse down, the offline state deduplicates the same way.
    nowhere = str(tmp_path / "no-server").replace("/", "%2F")
    monkeypatch.setenv("AIRFLOW_CONN_AANS_POSTGRES", f"postgresql://postgres@{nowhere}/aans")
    ti.task_id = "stage_day"
    down = [
        runs.notify_task_failure(context, now=NOW + timedelta(minutes=m), offline_store=store)
        for m in (30, 45)
    ]

    assert down == ["firing", None]
    webhooks = receiver.wait_for(WEBHOOK_PATH, 2)
    assert webhooks[1]["alerts"][0]["subject"] == "analytics_daily.stage_day"
    assert len(receiver.bodies(WEBHOOK_PATH)) == 2


def test_a_failed_task_alert_clears_silently_after_its_cooldown(alert_db, channels, offline_file):
    receiver, _ = channels
    store = FileStore(offline_file)
    rule_set = project_rules("task_failed")
    dag_run = SimpleNamespace(run_type="scheduled", run_id="r1", run_after=NOW)
    ti = SimpleNamespace(dag_id="api_performance", task_id="load_hour", run_id="r1")
    runs.notify_task_failure({"dag_run": dag_run, "ti": ti}, now=NOW, offline_store=store)
    cooldown = rule_set.by_name("task_failed").cooldown

    engine.evaluate(NOW + cooldown - timedelta(minutes=1), store, rule_set=rule_set)
    assert alert_db.query("select status from analytics.alert_events") == [("firing",)]
    engine.evaluate(NOW + cooldown, store, rule_set=rule_set)
    engine.deliver(NOW + cooldown, store, rule_set=rule_set)

    assert alert_db.query("select status from analytics.alert_events") == [("resolved",)]
    assert len(receiver.bodies(WEBHOOK_PATH)) == 1


def test_an_empty_warehouse_is_migrated_by_the_first_check(empty_db, channels, offline_file):
    receiver, _ = channels

    evaluation, _ = _run(NOW, offline_file, project_rules("api_latency_p95", "task_failed"))

    assert evaluation.warehouse_up is True and evaluation.broken == []
    assert empty_db.query("select count(*) from analytics.alert_events") == [(0,)]
    assert receiver.received == []


def test_a_broken_rules_file_still_lets_failed_tasks_page(
    alert_db, channels, offline_file, monkeypatch, tmp_path
):
    receiver, smtp = channels
    broken = tmp_path / "rules.yaml"
    broken.write_text("rules:\n  - name: typo\n    sql: x.sql\n    comparison: '=>'\n")
    monkeypatch.setattr(rules, "RULES_FILE", broken)
    with pytest.raises(rules.RuleError, match="typo"):
        rules.load_rules()
    dag_run = SimpleNamespace(run_type="scheduled", run_id="r1", run_after=NOW)
    ti = SimpleNamespace(dag_id="alert_checks", task_id="evaluate_rules", run_id="r1")
    error = rules.RuleError("Rule typo: comparison must be one of >, >=, <, <=, ==, !=")

    sent = runs.notify_task_failure(
        {"dag_run": dag_run, "ti": ti, "exception": error},
        now=NOW,
        offline_store=FileStore(offline_file),
    )

    assert sent == "firing"
    [webhook] = receiver.wait_for(WEBHOOK_PATH, 1)
    assert webhook["alerts"][0]["subject"] == "alert_checks.evaluate_rules"
    assert "Rule typo: comparison must be one of" in webhook["alerts"][0]["detail"]
    assert len(smtp.wait_for(1)) == 1


def test_a_refused_delivery_records_its_error_without_the_webhook_secret(
    alert_db, channels, offline_file, monkeypatch
):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    secret = "/services/T000/B000/SECRET-TOKEN"
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERTS_SLACK",
        json.dumps({"conn_type": "slackwebhook", "password": f"http://127.0.0.1:{closed}{secret}"}),
    )
    set_calls(alert_db, add_cafe(alert_db, "Cafe Aroma"), YESTERDAY, 100, 60)

    _, delivery = _run(NOW, offline_file, project_rules("answer_rate_low"))

    [failed] = delivery.failed
    [(error,)] = alert_db.query(
        "select last_error from analytics.alert_deliveries where channel = 'slack'"
    )
    assert failed.startswith("slack: ") and error
    assert "SECRET-TOKEN" not in error and "SECRET-TOKEN" not in failed


def test_error_texts_lose_their_urls():
    import requests

    from aans_analytics.alerts.channels import safe_error

    error = requests.ConnectionError(
        "HTTPSConnectionPool(host='hooks.slack.com', port=443): Max retries exceeded with url:"
        " /services/T000/B000/SECRET-TOKEN (Caused by NewConnectionError('refused'))"
    )
    refused = RuntimeError("POST https://hooks.example.com/aans?token=SECRET-TOKEN failed")

    assert "SECRET-TOKEN" not in safe_error(error)
    assert safe_error(error).startswith("ConnectionError: HTTPSConnectionPool(host='hooks.slack")
    assert safe_error(refused) == "RuntimeError: POST <url> failed"
