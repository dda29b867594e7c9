"""The local Airflow of the embedded default: its folders, its environment and its settings.

`make run` and `make up` share everything here, so the UI shows exactly the runs, connections and
database that the demo used. Nothing in this module imports Airflow at module level: Airflow reads
its configuration once, at first import, so the environment must be complete before that.

`airflow_settings.yaml` (the astro CLI format) names the connections, variables and pools. Its
`aans_postgres` entry with the host `.local/pgdata` stands for the embedded server; any other host
names an existing PostgreSQL, and then no embedded server starts. A connection defined in the
environment (`AIRFLOW_CONN_AANS_POSTGRES`) wins over both, as it does everywhere in Airflow.
"""

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aans_analytics.dag_defaults import POSTGRES_CONN_ID
from aans_analytics.embedded import DEFAULT_DATABASE, connection_uri
from aans_analytics.paths import INCLUDE_DIR, LOCAL_DIR, PROJECT_ROOT

log = logging.getLogger(__name__)

SETTINGS_FILE = PROJECT_ROOT / "airflow_settings.yaml"
# The host that means "the project's own server": the socket folder of .local/pgdata.
EMBEDDED_HOST = ".local/pgdata"
POSTGRES_ENV = f"AIRFLOW_CONN_{POSTGRES_CONN_ID.upper()}"
PASSWORDS_FILE_NAME = "simple_auth_manager_passwords.json.generated"
CONNECTION_FIELDS = ("conn_type", "host", "login", "password", "schema", "port", "extra")


@dataclass(frozen=True)
class LocalLayout:
    """The folders of the embedded default under one local folder (`.local` by default)."""

    root: Path = LOCAL_DIR

    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def passwords_file(self) -> Path:
        return self.airflow_home / PASSWORDS_FILE_NAME

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def demo(self) -> Path:
        return self.root / "demo"


@dataclass(frozen=True)
class Settings:
    """The content of an `airflow_settings.yaml`: connections as Airflow model fields."""

    connections: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    pools: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class PostgresTarget:
    """Where `aans_postgres` points, and the data folder when that is the embedded server."""

    uri: str
    embedded_dir: Path | None
    source: str  # "environment", "embedded" or "airflow_settings.yaml"


def read_settings(path: Path = SETTINGS_FILE) -> Settings:
    """Parse the astro-CLI settings file: `airflow: {connections, variables, pools}`."""
    import yaml

    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    airflow = document.get("airflow") or {}
    connections: dict[str, dict[str, Any]] = {}
    for entry in airflow.get("connections") or []:
        extra = entry.get("conn_extra")
        connections[entry["conn_id"]] = {
            "conn_type": entry.get("conn_type"),
            "host": entry.get("conn_host"),
            "login": entry.get("conn_login"),
            "password": entry.get("conn_password"),
            "schema": entry.get("conn_schema"),
            "port": int(entry["conn_port"]) if entry.get("conn_port") else None,
            # The astro format allows the extra as a mapping or as a JSON string.
            "extra": json.dumps(extra) if isinstance(extra, dict) else extra or None,
        }
    variables = {
        entry["variable_name"]: _variable_text(entry.get("variable_value"))
        for entry in airflow.get("variables") or []
    }
    pools = {
        entry["pool_name"]: {
            "slots": int(entry.get("pool_slot", 1)),
            "description": entry.get("pool_description") or "",
        }
        for entry in airflow.get("pools") or []
    }
    return Settings(connections, variables, pools)


def postgres_target(
    settings: Settings, layout: LocalLayout, environ: Mapping[str, str] = os.environ
) -> PostgresTarget:
    """Decide where `aans_postgres` points: environment, embedded server, or the settings file."""
    if environ.get(POSTGRES_ENV):
        return PostgresTarget(environ[POSTGRES_ENV], None, "environment")
    entry = settings.connections.get(POSTGRES_CONN_ID)
    if entry is None or entry.get("host") in (None, "", EMBEDDED_HOST):
        database = (entry or {}).get("schema") or DEFAULT_DATABASE
        return PostgresTarget(connection_uri(layout.pgdata, database), layout.pgdata, "embedded")
    return PostgresTarget(postgres_uri(entry), None, SETTINGS_FILE.name)


def postgres_uri(entry: Mapping[str, Any]) -> str:
    """An Airflow (and libpq) URI from connection fields; a host starting with / is a socket."""
    login = quote(entry.get("login") or "", safe="")
    password = entry.get("password")
    credentials = f"{login}:{quote(password, safe='')}@" if password else f"{login}@"
    host = quote(entry.get("host") or "", safe="")
    port = f":{entry['port']}" if entry.get("port") else ""
    extra = json.loads(entry["extra"]) if entry.get("extra") else {}
    query = f"?{urlencode(extra)}" if extra else ""
    return f"postgresql://{credentials}{host}{port}/{entry.get('schema') or ''}{query}"


def airflow_environment(
    layout: LocalLayout, postgres: str, environ: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """The variables that make Airflow use the local home, the project's DAGs and `postgres`."""
    home = layout.airflow_home
    python_path = [str(INCLUDE_DIR), str(PROJECT_ROOT)]
    if environ.get("PYTHONPATH"):
        python_path.append(environ["PYTHONPATH"])
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        # Standalone starts every component; four task slots keep its memory near 1 GB.
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(layout.passwords_file),
        # platformdirs warns on every call when this is unset; embedded.py uses the same folder.
        "XDG_RUNTIME_DIR": environ.get("XDG_RUNTIME_DIR") or str(layout.root / "run"),
        "PYTHONPATH": os.pathsep.join(python_path),
        POSTGRES_ENV: postgres,
    }


def migrate_if_needed(layout: LocalLayout, env: Mapping[str, str]) -> bool:
    """Run `airflow db migrate` when the metadata database is new or older than this Airflow."""
    import subprocess
    import sys
    from importlib.metadata import version

    stamp = layout.airflow_home / ".migrated"
    wanted = version("apache-airflow")
    database = layout.airflow_home / "airflow.db"
    if database.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return False
    layout.airflow_home.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    stamp.write_text(wanted)
    return True


def load_settings(settings: Settings, postgres: PostgresTarget | None = None) -> dict[str, int]:
    """Upsert the settings into the Airflow metadata database; return how many of each.

    Idempotent: an entry that exists is updated to the file's values, nothing is duplicated, and
    entries the file does not name are left alone. With the embedded server, `aans_postgres` is
    stored with its real socket folder in place of `.local/pgdata`.
    """
    from airflow.models import Connection, Pool, Variable
    from airflow.utils.session import create_session

    with create_session() as session:
        for conn_id, fields in settings.connections.items():
            values = dict(fields)
            if conn_id == POSTGRES_CONN_ID and postgres and postgres.embedded_dir:
                values["host"] = str(postgres.embedded_dir)
            existing = session.query(Connection).filter(Connection.conn_id == conn_id).first()
            if existing is None:
                session.add(Connection(conn_id=conn_id, **values))
                continue
            for name in CONNECTION_FIELDS:
                setattr(existing, name, values[name])
        for key, value in settings.variables.items():
            Variable.set(key, value, session=session)
        for name, pool in settings.pools.items():
            Pool.create_or_update_pool(
                name, pool["slots"], pool["description"], include_deferred=False, session=session
            )
    counts = {
        "connections": len(settings.connections),
        "variables": len(settings.variables),
        "pools": len(settings.pools),
    }
    log.info("Loaded airflow settings: %s", counts)
    return counts


def _variable_text(value: Any) -> str:
    # Airflow stores text; a structured value goes in as JSON, as `Variable.get(deserialize_json)`
    # expects.
    return value if isinstance(value, str) else json.dumps(value)
