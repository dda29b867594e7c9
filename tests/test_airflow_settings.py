"""airflow_settings.yaml loads into a real Airflow metadata database (SQLite, migrated by the
`airflow_db` fixture) through Airflow's own models, holds every connection DESIGN section 3 names,
no real secret, and loads again without duplicating anything.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from aans_analytics import airflow_env

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "airflow_settings.yaml"
DESIGN_CONNECTIONS = {"aans_postgres", "metabase_default", "aans_elasticsearch", "alerts_webhook"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", ".local/pgdata", "postgres"}
# What real credentials look like: Slack webhook paths and tokens, AWS keys, PEM blocks, and long
# random-looking strings.
SECRET_SHAPES = re.compile(
    r"hooks\.slack\.com/services/T|xox[abpr]-|AKIA[0-9A-Z]{16}|-----BEGIN|[A-Za-z0-9+/_-]{32,}"
)


@pytest.fixture
def loaded(airflow_db: Path, tmp_path: Path) -> Iterator[airflow_env.Settings]:
    """The file loaded into the session's metadata database; removed again afterwards, so the
    other tests keep finding only the connections they define themselves."""
    from airflow.models import Connection, Pool, Variable
    from airflow.utils.session import create_session

    settings = airflow_env.read_settings(SETTINGS)
    with create_session() as session:
        before = {c.conn_id for c in session.query(Connection.conn_id)}
        pools_before = {p.pool: p.slots for p in session.query(Pool)}
    layout = airflow_env.LocalLayout(tmp_path)
    target = airflow_env.postgres_target(settings, layout, environ={})
    airflow_env.load_settings(settings, target)
    yield settings
    with create_session() as session:
        for conn_id in set(settings.connections) - before:
            session.query(Connection).filter(Connection.conn_id == conn_id).delete()
        for key in settings.variables:
            session.query(Variable).filter(Variable.key == key).delete()
        for pool in session.query(Pool).filter(Pool.pool.in_(list(settings.pools))):
            if pool.pool in pools_before:
                pool.slots = pools_before[pool.pool]
            else:
                session.delete(pool)


def stored_connections() -> dict[str, object]:
    from airflow.models import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(Connection).all()
        for row in rows:
            session.expunge(row)
    return {row.conn_id: row for row in rows}


def test_file_is_in_the_astro_format():
    document = yaml.safe_load(SETTINGS.read_text())
    assert set(document) == {"airflow"}
    assert set(document["airflow"]) <= {"connections", "variables", "pools"}
    for entry in document["airflow"]["connections"]:
        assert set(entry) <= {
            "conn_id",
            "conn_type",
            "conn_host",
            "conn_login",
            "conn_password",
            "conn_port",
            "conn_schema",
            "conn_extra",
        }, entry["conn_id"]


def test_every_design_connection_is_loaded(loaded):
    stored = stored_connections()

    assert set(stored) >= DESIGN_CONNECTIONS
    assert stored["aans_postgres"].conn_type == "postgres"
    assert stored["metabase_default"].conn_type == "http"
    assert stored["metabase_default"].schema in ("http", "https")
    assert stored["aans_elasticsearch"].conn_type == "elasticsearch"
    assert stored["alerts_webhook"].conn_type == "http"


def test_embedded_postgres_is_stored_with_its_socket_folder(loaded, tmp_path):
    stored = stored_connections()["aans_postgres"]

    assert stored.host == str(tmp_path / "pgdata")
    assert stored.schema == "aans"
    assert stored.login == "postgres"


def test_no_real_secret(loaded):
    stored = stored_connections()
    for conn_id in loaded.connections:
        conn = stored[conn_id]
        assert conn.host in LOCAL_HOSTS or conn.host.startswith("/"), conn_id
        if conn.password:
            # Placeholders announce themselves as local-only.
            assert "local-only" in conn.password, conn_id
            assert not SECRET_SHAPES.search(conn.password), conn_id
        extra = json.dumps(conn.extra_dejson)
        assert not SECRET_SHAPES.search(extra), conn_id
        assert not re.search(r'"(api_key|token|password)"\s*:\s*"[^"]+', extra), conn_id


def test_loading_again_updates_in_place(loaded, tmp_path):
    from airflow.models import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == "metabase_default").one().port = 1
    count_before = len(stored_connections())

    target = airflow_env.postgres_target(loaded, airflow_env.LocalLayout(tmp_path), environ={})
    airflow_env.load_settings(loaded, target)

    assert len(stored_connections()) == count_before
    assert stored_connections()["metabase_default"].port == 3000


def test_environment_connection_wins_over_the_file(tmp_path):
    settings = airflow_env.read_settings(SETTINGS)
    uri = "postgresql://analytics:pw@db.internal:5432/aans"

    target = airflow_env.postgres_target(
        settings, airflow_env.LocalLayout(tmp_path), environ={airflow_env.POSTGRES_ENV: uri}
    )

    assert target.uri == uri
    assert target.embedded_dir is None


def test_a_real_host_in_the_file_means_no_embedded_server(tmp_path):
    settings = airflow_env.read_settings(SETTINGS)
    settings.connections["aans_postgres"].update(
        host="db.internal", port=5432, login="analytics", password="p@ss/word"
    )

    target = airflow_env.postgres_target(settings, airflow_env.LocalLayout(tmp_path), environ={})

    assert target.embedded_dir is None
    assert target.uri == "postgresql://analytics:p%40ss%2Fword@db.internal:5432/aans"
    from airflow.models import Connection

    parsed = Connection(conn_id="x", uri=target.uri)
    assert (parsed.host, parsed.port, parsed.login, parsed.password, parsed.schema) == (
        "db.internal",
        5432,
        "analytics",
        "p@ss/word",
        "aans",
    )
