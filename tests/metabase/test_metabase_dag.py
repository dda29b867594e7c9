"""A real Airflow run (`dag.test()`) of `metabase_provision` against the stand-in and PostgreSQL."""

from urllib.parse import quote

from tests.metabase.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, READER_PASSWORD


def test_metabase_provision_creates_the_role_and_syncs(airflow_db, empty_db, standin, monkeypatch):
    from dags.metabase_provision import metabase_provision

    host = standin.url.removeprefix("http://")
    monkeypatch.setenv(
        "AIRFLOW_CONN_METABASE_DEFAULT",
        f"http://{quote(ADMIN_EMAIL, safe='')}:{quote(ADMIN_PASSWORD, safe='')}@{host}",
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_METABASE_WAREHOUSE",
        f"postgresql://metabase_reader:{READER_PASSWORD}@"
        f"{quote(str(empty_db.socket_dir), safe='')}/{empty_db.name}",
    )
    dag = metabase_provision()

    run = dag.test()

    assert run.state == "success"
    assert empty_db.query("select rolcanlogin from pg_roles where rolname = 'metabase_reader'") == [
        (True,)
    ]
    assert empty_db.query(
        "select has_table_privilege('metabase_reader', 'analytics.order_analytics', 'select'),"
        " has_table_privilege('metabase_reader', 'analytics.order_analytics', 'insert')"
    ) == [(True, False)]
    [database] = standin.state.databases.values()
    assert database["details"]["dbname"] == empty_db.name
    assert database["details"]["user"] == "metabase_reader"
    assert len(standin.state.cards) > 0 and len(standin.state.dashboards) == 6

    standin.requests.clear()
    assert dag.test().state == "success"
    assert standin.writes() == []


def test_metabase_provision_plan_writes_nothing(airflow_db, empty_db, standin, monkeypatch):
    from dags.metabase_provision import metabase_provision

    host = standin.url.removeprefix("http://")
    monkeypatch.setenv(
        "AIRFLOW_CONN_METABASE_DEFAULT",
        f"http://{quote(ADMIN_EMAIL, safe='')}:{quote(ADMIN_PASSWORD, safe='')}@{host}",
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_METABASE_WAREHOUSE", "postgresql://metabase_reader:pw-123456@db.internal/aans"
    )

    run = metabase_provision().test(run_conf={"plan": True})

    assert run.state == "success"
    assert standin.writes() == []
    assert standin.state.cards == {}
    # The role task stood aside too: it did not even create schema analytics.
    assert empty_db.query("select to_regnamespace('analytics') is null") == [(True,)]
