"""The sync against the strict Metabase stand-in, through the real `requests` client."""

from pathlib import Path

import pytest
import yaml
from tests.metabase.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

from aans_analytics.metabase.client import MetabaseClient, MetabaseError, MetabaseSettings
from aans_analytics.metabase.sync import MANAGED_COLLECTION, sync

ROOT = Path(__file__).resolve().parents[2]


def _defined() -> tuple[dict[str, list[str]], int]:
    """Dashboard names and their card names, read straight from the YAML files."""
    dashboards = {}
    for path in sorted((ROOT / "include" / "dashboards").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        dashboards[raw["name"]] = [card["name"] for card in raw["cards"]]
    return dashboards, sum(len(cards) for cards in dashboards.values())


def _managed(standin):
    state = standin.state
    collection = next(c for c in state.collections.values() if c["name"] == MANAGED_COLLECTION)
    cards = [c for c in state.cards.values() if c["collection_id"] == collection["id"]]
    dashboards = [d for d in state.dashboards.values() if d["collection_id"] == collection["id"]]
    return collection, cards, dashboards


def test_first_sync_builds_everything(standin, client, dashboards, warehouse):
    report = sync(client, dashboards, warehouse)

    defined, card_count = _defined()
    collection, cards, live_dashboards = _managed(standin)
    assert len(cards) == card_count
    assert {c["name"] for c in cards} == {name for names in defined.values() for name in names}
    assert {d["name"] for d in live_dashboards} == set(defined)
    assert len([c for c in report.changes if c.kind == "card" and c.action == "create"]) == (
        card_count
    )

    database = next(iter(standin.state.databases.values()))
    assert database["engine"] == "postgres"
    assert database["details"]["user"] == "metabase_reader"
    assert database["details"]["password"] == warehouse.password
    assert standin.state.sync_requests == [database["id"]]

    for live in live_dashboards:
        names = defined[live["name"]]
        by_id = {c["id"]: c for c in cards}
        assert sorted(by_id[dc["card_id"]]["name"] for dc in live["dashcards"]) == sorted(names)
        parameter_slugs = {p["id"]: p["slug"] for p in live["parameters"]}
        for dashcard in live["dashcards"]:
            card = by_id[dashcard["card_id"]]
            stage = card["dataset_query"]["stages"][0]
            mapped = {
                parameter_slugs[m["parameter_id"]]: m["target"][1][1]
                for m in dashcard["parameter_mappings"]
            }
            # Every template tag of the card is fed by the dashboard filter of the same name.
            assert set(mapped) == set(stage["template-tags"])
            assert all(slug == tag for slug, tag in mapped.items())
            assert "{{" not in stage["native"] or stage["template-tags"]

    groups = {g["name"]: g["id"] for g in standin.state.groups.values()}
    data_graph = standin.state.data_graph["groups"]
    analysts = data_graph[str(groups["AANS analysts"])][str(database["id"])]
    managers = data_graph[str(groups["AANS cafe managers"])][str(database["id"])]
    assert analysts["create-queries"] == "query-builder-and-native"
    assert managers["create-queries"] == "no"
    collection_graph = standin.state.collection_graph["groups"]
    assert collection_graph[str(groups["AANS analysts"])] == {str(collection["id"]): "write"}
    assert collection_graph[str(groups["AANS cafe managers"])] == {str(collection["id"]): "read"}


def test_second_sync_changes_nothing(standin, client, dashboards, warehouse):
    sync(client, dashboards, warehouse)
    standin.requests.clear()

    report = sync(client, dashboards, warehouse)

    assert report.changes == []
    assert standin.writes() == []
    assert "nothing to change" in report.summary()


def test_hand_edits_are_put_back_and_reported(standin, client, dashboards, warehouse):
    sync(client, dashboards, warehouse)
    _, cards, live_dashboards = _managed(standin)
    card = next(c for c in cards if c["name"] == "Orders today")
    original_sql = card["dataset_query"]["stages"][0]["native"]
    # Edits as a person would make them in Metabase, through its API.
    edited_query = {
        "type": "native",
        "database": card["dataset_query"]["database"],
        "native": {"query": "select 42 as orders_today", "template-tags": {}},
    }
    client.put(f"/api/card/{card['id']}", {"dataset_query": edited_query, "display": "table"})
    dashboard = next(d for d in live_dashboards if d["name"] == "Calls")
    moved = [dict(dc, row=dc["row"] + 20) for dc in dashboard["dashcards"][1:]]
    client.put(f"/api/dashboard/{dashboard['id']}", {"dashcards": moved, "description": "mine"})

    report = sync(client, dashboards, warehouse)

    drift = {(c.kind, c.name): c.detail for c in report.drift}
    assert set(drift) == {("card", "Orders today"), ("dashboard", "Calls")}
    assert "query" in drift[("card", "Orders today")]
    assert "display" in drift[("card", "Orders today")]
    restored = standin.state.cards[card["id"]]
    assert restored["dataset_query"]["stages"][0]["native"] == original_sql
    assert restored["display"] == "scalar"
    calls = standin.state.dashboards[dashboard["id"]]
    assert calls["description"] == next(d for d in dashboards if d.slug == "calls").description
    assert len(calls["dashcards"]) == len(dashboard["dashcards"])
    assert sorted(dc["row"] for dc in calls["dashcards"]) == sorted(
        dc["row"] for dc in dashboard["dashcards"]
    )
    standin.requests.clear()
    assert sync(client, dashboards, warehouse).changes == []
    assert standin.writes() == []


def test_removed_definitions_are_archived_only_inside_the_collection(
    standin, client, dashboards, warehouse
):
    sync(client, dashboards, warehouse)
    database_id = next(iter(standin.state.databases))
    outsider = client.post(
        "/api/card",
        {
            "name": "Orders today",  # same name as a managed card, but someone else's
            "display": "table",
            "visualization_settings": {},
            "dataset_query": {
                "type": "native",
                "database": database_id,
                "native": {"query": "select 1"},
            },
        },
    )
    kept = [d for d in dashboards if d.slug != "calls"]
    calls = next(d for d in dashboards if d.slug == "calls")

    report = sync(client, kept, warehouse)

    archived = {(c.kind, c.name) for c in report.changes if c.action == "archive"}
    assert archived == {("dashboard", calls.name)} | {("card", c.name) for c in calls.cards}
    _, cards, live_dashboards = _managed(standin)
    assert all(c["archived"] for c in cards if c["name"] in {k.name for k in calls.cards})
    assert not standin.state.cards[outsider["id"]]["archived"]
    assert [d["archived"] for d in live_dashboards if d["name"] == calls.name] == [True]

    # Defined again: the archived objects come back, no second copy is made.
    report = sync(client, dashboards, warehouse)
    assert {c.action for c in report.changes} == {"restore"}
    _, cards, live_dashboards = _managed(standin)
    assert len([d for d in live_dashboards if d["name"] == calls.name]) == 1
    assert not any(c["archived"] for c in cards)
    assert len(cards) == _defined()[1]


def test_plan_mode_changes_nothing(standin, client, dashboards, warehouse):
    report = sync(client, dashboards, warehouse, apply=False)

    assert not report.applied
    assert len([c for c in report.changes if c.kind == "card"]) == _defined()[1]
    assert standin.writes() == []
    assert standin.state.cards == {} and standin.state.databases == {}
    assert report.summary().startswith("Would change")

    sync(client, dashboards, warehouse)
    card = next(iter(standin.state.cards.values()))
    client.put(f"/api/card/{card['id']}", {"description": "edited by hand"})
    standin.requests.clear()
    report = sync(client, dashboards, warehouse, apply=False)
    assert [(c.kind, c.name, c.action) for c in report.changes] == [
        ("card", card["name"], "put back")
    ]
    assert standin.writes() == []
    assert standin.state.cards[card["id"]]["description"] == "edited by hand"


def _no_duplicates(standin) -> None:
    _, cards, live_dashboards = _managed(standin)
    names = [c["name"] for c in cards] + [d["name"] for d in live_dashboards]
    assert len(names) == len(set(names)), "a fault left a duplicate object"
    assert len(cards) == _defined()[1]
    assert len(standin.state.databases) == 1
    collections = [c for c in standin.state.collections.values() if c["name"] == MANAGED_COLLECTION]
    assert len(collections) == 1


def test_lost_answers_to_creations_leave_no_duplicates(standin, client, dashboards, warehouse):
    # The server does the work, then the answer is lost (a proxy's 502): the object exists.
    standin.fail("POST", "/api/card", status=502, times=2, after=True)
    standin.fail("POST", "/api/collection", status=503, after=True)
    standin.fail("POST", "/api/database", status=504, after=True)
    # Refused before doing anything: must be created once, after the check.
    standin.fail("POST", "/api/dashboard", status=500)

    sync(client, dashboards, warehouse)

    _no_duplicates(standin)
    assert sync(client, dashboards, warehouse).changes == []


def test_transient_errors_and_slow_answers_are_retried(standin, client, dashboards, warehouse):
    standin.fail("GET", "/api/collection", status=503, times=2)
    standin.fail("PUT", r"/api/dashboard/\d+", status=502)
    # Slower than the client's 1 s read timeout: the request is sent again.
    standin.stall("GET", r"/api/card/\d+", seconds=3)

    sync(client, dashboards, warehouse)

    _no_duplicates(standin)
    statuses = [status for method, path, status in standin.requests if path == "/api/collection"]
    assert statuses[:3] == [503, 503, 200]


def test_a_run_that_gives_up_is_finished_by_the_next(standin, client, dashboards, warehouse):
    # The first dashboard fails twice (the POST and its one retry after the lookup).
    standin.fail("POST", "/api/dashboard", status=500, times=2)
    with pytest.raises(MetabaseError, match="500"):
        sync(client, dashboards, warehouse)

    sync(client, dashboards, warehouse)

    _no_duplicates(standin)
    assert len(_managed(standin)[2]) == len(_defined()[0])


def test_expired_session_is_renewed_once(standin, client, dashboards, warehouse):
    sync(client, dashboards, warehouse)
    standin.expire_sessions()
    standin.requests.clear()

    assert sync(client, dashboards, warehouse).changes == []

    logins = [r for r in standin.requests if r[:2] == ("POST", "/api/session")]
    assert logins == [("POST", "/api/session", 200)]
    assert standin.requests[0][2] == 401


def test_api_key_auth_and_metabase_messages(standin):
    key = standin.add_api_key()
    with MetabaseClient(MetabaseSettings(url=standin.url, api_key=key)) as client:
        assert client.get("/api/user/current")["email"] == ADMIN_EMAIL
        with pytest.raises(MetabaseError) as refused:
            client.post("/api/collection", {"name": "x", "description": ""})
        assert refused.value.status == 400
        assert "description" in refused.value.message and "non-blank" in refused.value.message
    assert not any(path == "/api/session" for _, path, _ in standin.requests)

    wrong = MetabaseSettings(url=standin.url, api_key="mb_wrong")
    with MetabaseClient(wrong) as client, pytest.raises(MetabaseError) as unauthenticated:
        client.get("/api/collection")
    assert unauthenticated.value.status == 401
    assert unauthenticated.value.message == "Unauthenticated"

    settings = MetabaseSettings(url=standin.url, username=ADMIN_EMAIL, password="wrong-pw")
    with MetabaseClient(settings) as client, pytest.raises(MetabaseError) as bad_login:
        client.get("/api/collection")
    assert bad_login.value.status == 401
    assert "did not match stored password" in bad_login.value.message
    assert ADMIN_PASSWORD not in repr(settings) and "wrong-pw" not in repr(settings)


def test_first_time_setup_through_the_setup_token(fresh_standin, dashboards, warehouse):
    settings = MetabaseSettings(
        url=fresh_standin.url,
        username="owner@example.com",
        password="first-admin-pw-1",
        setup_token_email="owner@example.com",
    )
    with MetabaseClient(settings) as client:
        assert client.properties()["has-user-setup"] is False
        assert client.setup_if_needed() is True
        assert client.setup_if_needed() is False
        sync(client, dashboards, warehouse)
    assert fresh_standin.state.setup_token is None
    assert fresh_standin.state.users == {"owner@example.com": "first-admin-pw-1"}
    assert len(fresh_standin.state.cards) == _defined()[1]


def test_database_and_permission_drift_is_put_back(standin, client, dashboards, warehouse):
    sync(client, dashboards, warehouse)
    [database] = standin.state.databases.values()
    client.put(
        f"/api/database/{database['id']}",
        {"details": dict(database["details"], user="postgres", password="**MetabasePass**")},
    )
    groups = {g["name"]: g["id"] for g in standin.state.groups.values()}
    managers = str(groups["AANS cafe managers"])
    graph = client.get("/api/permissions/graph")
    client.put(
        "/api/permissions/graph",
        {
            "revision": graph["revision"],
            "groups": {
                managers: {
                    str(database["id"]): {
                        "view-data": "unrestricted",
                        "create-queries": "query-builder-and-native",
                    }
                }
            },
        },
    )
    standin.state.sync_requests.clear()

    report = sync(client, dashboards, warehouse)

    assert {(c.kind, c.name) for c in report.changes} == {
        ("database", "AANS analytics warehouse"),
        ("data permissions", "AANS cafe managers"),
    }
    assert standin.state.databases[database["id"]]["details"]["user"] == "metabase_reader"
    assert standin.state.sync_requests == [database["id"]]
    live = standin.state.data_graph["groups"][managers][str(database["id"])]
    assert live["create-queries"] == "no"
