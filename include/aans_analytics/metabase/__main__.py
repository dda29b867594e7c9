"""Command line: `python -m aans_analytics.metabase {sync [--plan],plan,ensure-role,render}`.

Connections are Airflow's (`AIRFLOW_CONN_<ID>` environment variables work without any Airflow
database), so people without Airflow running use the same settings the DAG uses.
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from aans_analytics.dag_defaults import POSTGRES_CONN_ID
from aans_analytics.metabase.provision import METABASE_CONN_ID, WAREHOUSE_CONN_ID

log = logging.getLogger("aans_analytics.metabase")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aans_analytics.metabase")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("sync", "make Metabase match the dashboard definitions"),
        ("plan", "print what a sync would change, changing nothing"),
    ):
        command = commands.add_parser(name, help=helptext)
        command.add_argument("--metabase-conn", default=METABASE_CONN_ID)
        command.add_argument("--warehouse-conn", default=WAREHOUSE_CONN_ID)
        if name == "sync":
            command.add_argument("--plan", action="store_true", help="same as the plan command")
    role = commands.add_parser("ensure-role", help="create or check Metabase's read-only role")
    role.add_argument("--postgres-conn", default=POSTGRES_CONN_ID)
    role.add_argument("--warehouse-conn", default=WAREHOUSE_CONN_ID)
    render = commands.add_parser("render", help="draw the dashboards into one HTML page")
    render.add_argument("--postgres-conn", default=POSTGRES_CONN_ID)
    render.add_argument("--out", type=Path, default=Path(".local/dashboards"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    if args.command in ("sync", "plan"):
        from aans_analytics.metabase.provision import sync_metabase

        report = sync_metabase(
            _connection(args.metabase_conn),
            _connection(args.warehouse_conn),
            plan=args.command == "plan" or getattr(args, "plan", False),
        )
        sys.stdout.write(report.summary() + "\n")
        return 0
    if args.command == "ensure-role":
        from aans_analytics.metabase.provision import ensure_role

        with _postgres(args.postgres_conn) as conn:
            ensure_role(conn, _connection(args.warehouse_conn))
        return 0

    from aans_analytics.metabase.render import render_dashboards

    with _postgres(args.postgres_conn) as conn:
        page = render_dashboards(conn, args.out)
    sys.stdout.write(f"Dashboards drawn to {page.resolve()}\n")
    return 0


def _connection(conn_id: str) -> Any:
    from airflow.models.connection import Connection

    return Connection.get_connection_from_secrets(conn_id)


class _postgres:
    """A psycopg2 connection from an Airflow postgres connection, closed on exit."""

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id

    def __enter__(self) -> Any:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        self.conn = PostgresHook(postgres_conn_id=self.conn_id).get_conn()
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


if __name__ == "__main__":
    sys.exit(main())
