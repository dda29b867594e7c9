"""The alert API through Airflow's real API server app (plugins mounted, simple auth manager)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from tests.alerts.conftest import ROOT_DAGS, rules

from aans_analytics.alerts import engine
from aans_analytics.alerts.offline import FileStore

PASSWORD = "correct-horse-battery"
HOUR = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def api(airflow_db, tmp_path, monkeypatch):
    """Airflow's API server app, built in-process, with one admin user `oncall`."""
    from airflow.api_fastapi import app as api_app
    from fastapi.testclient import TestClient

    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"oncall": PASSWORD}))
    monkeypatch.setenv(
        "AIRFLOW__CORE__AUTH_MANAGER",
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    )
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "oncall:admin")
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(passwords))
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "test-only-secret-" + "0123456789" * 5)
    api_app.purge_cached_app()
    with TestClient(api_app.create_app()) as client:
        yield client
    api_app.purge_cached_app()


def _token(client) -> dict[str, str]:
    answer = client.post("/auth/token", json={"username": "oncall", "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _hour(db, hour, endpoint, requests, errors, p95_ms, cache_hit_rate):
    db.query(
        "insert into analytics.api_performance"
        " (hour, endpoint, requests, errors, p50_ms, p95_ms, p99_ms, cache_hit_rate)"
        " values (%s, %s, %s, %s, 50, %s, %s, %s)",
        (hour, endpoint, requests, errors, p95_ms, p95_ms * 2, cache_hit_rate),
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/aans/alerts"), ("post", "/aans/alerts/check"), ("get", "/aans/performance/summary")],
)
def test_every_endpoint_refuses_a_request_without_a_valid_token(api, method, path):
    anonymous = getattr(api, method)(path)
    forged = getattr(api, method)(path, headers={"Authorization": "Bearer not-a-token"})

    assert anonymous.status_code in (401, 403)
    assert forged.status_code in (401, 403)


def test_the_alert_list_shows_state_since_when_and_last_notified(api, alert_db, tmp_path):
    _hour(alert_db, HOUR, "/api/orders/:id", 400, 2, 900.0, 0.8)
    now = HOUR + timedelta(minutes=40)
    store = FileStore(tmp_path / "offline.json")
    rule_set = rules("api_latency_p95")
    engine.evaluate(now, store, rule_set=rule_set)
    engine.evaluate(now + timedelta(minutes=15), store, rule_set=rule_set)

    answer = api.get("/aans/alerts", params={"status": "firing"}, headers=_token(api))

    assert answer.status_code == 200, answer.text
    [alert] = answer.json()
    assert alert["rule"] == "api_latency_p95"
    assert alert["subject"] == "/api/orders/:id"
    assert alert["status"] == "firing"
    assert alert["measured_value"] == 900.0 and alert["threshold"] == 500.0
    assert datetime.fromisoformat(alert["since"]) == now
    assert datetime.fromisoformat(alert["last_seen_at"]) == now + timedelta(minutes=15)
    assert datetime.fromisoformat(alert["last_notified_at"]) == now
    # No channel is configured in this test, so nothing was queued or delivered.
    assert alert["last_delivered_at"] is None and alert["pending_deliveries"] == 0
    resolved = api.get("/aans/alerts", params={"status": "resolved"}, headers=_token(api))
    assert resolved.json() == []


def test_the_performance_summary_blends_the_hours_of_the_window(api, alert_db):
    _hour(alert_db, HOUR, "/api/orders/:id", 100, 5, 200.0, 0.5)
    _hour(alert_db, HOUR + timedelta(hours=1), "/api/menu", 300, 3, 600.0, None)
    _hour(alert_db, HOUR - timedelta(hours=5), "/api/menu", 999, 999, 9999.0, 0.0)  # outside

    answer = api.get(
        "/aans/performance/summary",
        params={"hours": 3, "until": (HOUR + timedelta(hours=2)).isoformat()},
        headers=_token(api),
    )

    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert summary["requests"] == 400 and summary["errors"] == 8
    assert summary["error_rate"] == pytest.approx(8 / 400)
    assert summary["p95_ms"] == pytest.approx((200 * 100 + 600 * 300) / 400)
    assert summary["worst_hour_p95_ms"] == 600.0
    assert summary["cache_hit_rate"] == pytest.approx(0.5)  # only the hour that has cache data
    assert summary["endpoints"] == 2 and summary["hours_with_traffic"] == 2


def test_starting_a_check_queues_a_run_of_alert_checks(api, alert_db):
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(DagBag(str(ROOT_DAGS), bundle_name="dags-folder"), "dags-folder", None)

    answer = api.post("/aans/alerts/check", headers=_token(api))

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["dag_id"] == "alert_checks" and body["state"] == "queued"
    with create_session() as session:
        run = session.query(DagRun).filter_by(dag_id="alert_checks", run_id=body["run_id"]).one()
        assert str(run.run_type) in ("manual", "DagRunType.MANUAL")
        assert run.triggering_user_name == "oncall"


def test_the_plugin_serves_the_metabase_router_when_it_exists_and_loads_without_it(monkeypatch):
    import importlib.util

    from plugins import aans_api

    paths = {route.path for route in aans_api.create_app().routes}
    assert {"/alerts", "/alerts/check", "/performance/summary"} <= paths
    if importlib.util.find_spec("aans_analytics.metabase.api") is not None:
        assert any(path.startswith("/metabase") for path in paths)

    monkeypatch.setattr(aans_api, "OPTIONAL_ROUTERS", ("aans_analytics.not_written_yet.api",))
    paths = {route.path for route in aans_api.create_app().routes}
    assert "/alerts" in paths
    assert not any(path.startswith("/metabase") for path in paths)


def test_the_metabase_routes_of_the_plugin_are_refused_without_a_token(api):
    import importlib.util

    if importlib.util.find_spec("aans_analytics.metabase.api") is None:
        pytest.skip("the Metabase router is not in this checkout")

    assert api.get("/aans/metabase/dashboards").status_code in (401, 403)
