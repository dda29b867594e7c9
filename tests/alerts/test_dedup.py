"""Fires once, stays silent within the cooldown, repeats after it, resolves once: through the real
webhook, Slack and SMTP notifiers against local receivers, on a real PostgreSQL."""

from datetime import timedelta

from tests.alerts.conftest import (
    NOW,
    SLACK_PATH,
    TODAY,
    WEBHOOK_PATH,
    YESTERDAY,
    add_cafe,
    rules,
    set_calls,
)

from aans_analytics.alerts import engine
from aans_analytics.alerts.offline import FileStore


def _run(now, offline_file, rule_set):
    """One check run as the DAG does it: evaluate, then deliver."""
    store = FileStore(offline_file)
    evaluation = engine.evaluate(now, store, rule_set=rule_set, link="http://airflow/run")
    delivery = engine.deliver(now, store, rule_set=rule_set)
    return evaluation, delivery


def test_an_alert_fires_once_repeats_after_its_cooldown_and_resolves_once(
    alert_db, channels, offline_file
):
    receiver, smtp = channels
    rule_set = rules("answer_rate_low")
    cooldown = rule_set.by_name("answer_rate_low").cooldown
    cafe = add_cafe(alert_db, "Cafe Aroma")
    add_cafe(alert_db, "Cafe Fine")
    # Bad on its yesterday and on the day after, which is "yesterday" once the cooldown is over.
    set_calls(alert_db, cafe, YESTERDAY, total=100, answered=60)
    set_calls(alert_db, cafe, TODAY, total=100, answered=70)

    evaluation, delivery = _run(NOW, offline_file, rule_set)

    assert evaluation.firing == [f"answer_rate_low|{cafe}"]
    assert delivery.delivered == 3 and delivery.failed == []
    [webhook] = receiver.wait_for(WEBHOOK_PATH, 1)
    [alert] = webhook["alerts"]
    assert alert["rule"] == "answer_rate_low"
    assert alert["notification"] == "firing"
    assert alert["subject"] == cafe and alert["subject_label"] == "Cafe Aroma"
    assert alert["measured_value"] == 0.6 and alert["threshold"] == 0.8
    assert alert["since"] == NOW.isoformat()
    assert alert["link"] == "http://airflow/run"
    [slack] = receiver.wait_for(SLACK_PATH, 1)
    assert "FIRING answer_rate_low: Cafe Aroma" in slack["text"]
    assert smtp.wait_for(1) == ["[WARNING] FIRING answer_rate_low: Cafe Aroma"]
    assert smtp.messages[0]["X-Envelope-To"] == "oncall@aans.example"

    # Still firing 15 minutes later, and just before the cooldown ends: nothing new is sent.
    _run(NOW + timedelta(minutes=15), offline_file, rule_set)
    _run(NOW + cooldown - timedelta(minutes=1), offline_file, rule_set)
    assert len(receiver.bodies(WEBHOOK_PATH)) == 1
    assert len(receiver.bodies(SLACK_PATH)) == 1
    assert len(smtp.messages) == 1

    # Once the cooldown has passed, one reminder.
    _run(NOW + cooldown, offline_file, rule_set)
    webhooks = receiver.wait_for(WEBHOOK_PATH, 2)
    assert [body["alerts"][0]["notification"] for body in webhooks] == ["firing", "reminder"]
    assert webhooks[1]["alerts"][0]["since"] == NOW.isoformat()
    assert webhooks[1]["alerts"][0]["measured_value"] == 0.7

    # The cafe answers its calls again: one resolved notification, then silence.
    set_calls(alert_db, cafe, TODAY, total=100, answered=95)
    later = NOW + cooldown + timedelta(minutes=15)
    evaluation, _ = _run(later, offline_file, rule_set)
    _run(later + timedelta(minutes=15), offline_file, rule_set)

    assert evaluation.firing == []
    webhooks = receiver.wait_for(WEBHOOK_PATH, 3)
    assert [body["alerts"][0]["notification"] for body in webhooks] == [
        "firing",
        "reminder",
        "resolved",
    ]
    assert webhooks[2]["alerts"][0]["measured_value"] == 0.95
    assert len(receiver.bodies(SLACK_PATH)) == 3
    assert smtp.wait_for(3)[2] == "[WARNING] RESOLVED answer_rate_low: Cafe Aroma"
    [(status, first_seen, resolved)] = alert_db.query(
        "select status, first_seen_at, resolved_at from analytics.alert_events"
    )
    assert status == "resolved" and first_seen == NOW and resolved == later


def test_many_subjects_at_once_go_out_as_one_digest_per_channel(alert_db, channels, offline_file):
    receiver, smtp = channels
    for number in range(6):
        set_calls(alert_db, add_cafe(alert_db, f"Cafe {number}"), YESTERDAY, 50, 10 + number)

    evaluation, delivery = _run(NOW, offline_file, rules("answer_rate_low"))

    assert len(evaluation.firing) == 6
    [webhook] = receiver.wait_for(WEBHOOK_PATH, 1)
    assert len(webhook["alerts"]) == 6
    assert webhook["text"].startswith("[WARNING] FIRING answer_rate_low: 6 subjects")
    assert len(receiver.wait_for(SLACK_PATH, 1)) == 1
    assert len(smtp.wait_for(1)) == 1
    assert delivery.delivered == 18


def test_a_missing_connection_turns_its_channel_off(alert_db, channels, offline_file, monkeypatch):
    receiver, smtp = channels
    monkeypatch.delenv("AIRFLOW_CONN_ALERTS_SLACK")
    monkeypatch.delenv("AIRFLOW_CONN_ALERTS_SMTP")
    set_calls(alert_db, add_cafe(alert_db, "Cafe Aroma"), YESTERDAY, 100, 60)

    evaluation, delivery = _run(NOW, offline_file, rules("answer_rate_low"))

    assert evaluation.queued == 1
    assert delivery.delivered == 1 and delivery.failed == []
    assert len(receiver.wait_for(WEBHOOK_PATH, 1)) == 1
    assert receiver.bodies(SLACK_PATH) == []
    assert smtp.messages == []
