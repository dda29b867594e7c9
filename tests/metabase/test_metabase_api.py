"""The plugin's Metabase endpoints through FastAPI's TestClient, talking to the stand-in."""

from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.metabase.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

from aans_analytics.metabase.api import authorized, router
from aans_analytics.metabase.sync import sync


@pytest.fixture
def api(standin, monkeypatch):
    host = standin.url.removeprefix("http://")
    monkeypatch.setenv(
        "AIRFLOW_CONN_METABASE_DEFAULT",
        f"http://{quote(ADMIN_EMAIL, safe='')}:{quote(ADMIN_PASSWORD, safe='')}@{host}",
    )
    app = FastAPI()
    app.include_router(router)
    # Airflow's auth check is exercised through the real API server in the plugin test below.
    app.dependency_overrides[authorized] = lambda: None
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def synced(standin, client, dashboards, warehouse):
    sync(client, dashboards, warehouse)
    return standin


def test_list_and_get_dashboards(api, synced):
    answer = api.get("/metabase/dashboards")

    assert answer.status_code == 200
    listed = {d["name"]: d for d in answer.json()}
    assert set(listed) == {d["name"] for d in synced.state.dashboards.values()}
    calls = listed["Calls"]
    assert calls["url"] == f"{synced.url}/dashboard/{calls['id']}"

    detail = api.get(f"/metabase/dashboards/{calls['id']}").json()
    assert [p["slug"] for p in detail["parameters"]] == ["cafe_id", "date_from", "date_to"]
    assert detail["cards"][0]["name"] == "Calls today"
    assert {c["display"] for c in detail["cards"]} == {"scalar", "gauge", "bar", "line"}

    assert api.get("/metabase/dashboards/999999").status_code == 404


def test_run_card_by_name_passes_filters_as_template_tag_parameters(api, synced):
    seen = []

    def runner(card, parameters):
        seen.append((card["name"], parameters))
        return {"cols": [{"name": "calls_today"}], "rows": [[17]]}

    synced.query_runner = runner

    answer = api.post(
        "/metabase/cards/Calls today/query",
        json={"parameters": {"cafe_id": "0a000000-0000-4000-8000-00000000000a"}},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["columns"] == ["calls_today"]
    assert answer.json()["rows"] == [[17]]
    [(name, parameters)] = seen
    assert name == "Calls today"
    assert parameters == [
        {
            "type": "category",
            "target": ["variable", ["template-tag", "cafe_id"]],
            "value": "0a000000-0000-4000-8000-00000000000a",
        }
    ]

    dated = api.post(
        "/metabase/cards/Answer rate/query", json={"parameters": {"date_from": "2026-11-03"}}
    )
    assert dated.status_code == 200, dated.text
    assert seen[-1][1][0]["type"] == "date/single"

    assert api.post("/metabase/cards/No such card/query", json={}).status_code == 404
    unknown = api.post("/metabase/cards/Calls today/query", json={"parameters": {"x": "1"}})
    assert unknown.status_code == 422


def test_metabase_failures_become_502(api, synced):
    synced.fail("GET", "/api/collection", status=500, times=5)

    answer = api.get("/metabase/dashboards")

    assert answer.status_code == 502
    assert "injected 500" in answer.json()["detail"]


PASSWORD = "metabase-api-test-pw"


@pytest.fixture
def airflow_api(airflow_db, standin, tmp_path, monkeypatch):
    """Airflow's own API server app with the project plugin, one admin user `viewer`."""
    import json

    from airflow.api_fastapi import app as api_app

    host = standin.url.removeprefix("http://")
    monkeypatch.setenv(
        "AIRFLOW_CONN_METABASE_DEFAULT",
        f"http://{quote(ADMIN_EMAIL, safe='')}:{quote(ADMIN_PASSWORD, safe='')}@{host}",
    )
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"viewer": PASSWORD}))
    monkeypatch.setenv(
        "AIRFLOW__CORE__AUTH_MANAGER",
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    )
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "viewer:admin")
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(passwords))
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "test-only-secret-" + "0123456789" * 5)
    api_app.purge_cached_app()
    with TestClient(api_app.create_app()) as test_client:
        yield test_client
    api_app.purge_cached_app()


def test_through_the_airflow_plugin_behind_airflow_auth(airflow_api, synced):
    assert airflow_api.get("/aans/metabase/dashboards").status_code in (401, 403)
    forged = {"Authorization": "Bearer not-a-token"}
    assert airflow_api.get("/aans/metabase/dashboards", headers=forged).status_code in (401, 403)

    token = airflow_api.post("/auth/token", json={"username": "viewer", "password": PASSWORD})
    assert token.status_code == 201, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    answer = airflow_api.get("/aans/metabase/dashboards", headers=headers)

    assert answer.status_code == 200, answer.text
    assert {d["name"] for d in answer.json()} == {
        d["name"] for d in synced.state.dashboards.values()
    }
