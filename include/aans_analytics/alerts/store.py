"""Alert state in the warehouse: analytics.alert_events and its outbox, alert_deliveries."""

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from aans_analytics.alerts.channels import Outcome, Pending
from aans_analytics.alerts.state import AlertState
from aans_analytics.dag_defaults import POSTGRES_CONN_ID

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5
# Delivered notifications are kept this long for the record, then deleted.
KEEP_DELIVERED = timedelta(days=90)
# A measurement that runs longer than this is reported as a broken check, not waited on.
STATEMENT_TIMEOUT_MS = 60_000

_STATE_COLUMNS = (
    "fingerprint, rule_name, subject, subject_label, kind, severity, status, measured_value,"
    " threshold, comparison, detail, first_seen_at, last_seen_at, last_notified_at, resolved_at"
)


def connect_warehouse(connection: Any = None) -> Any:
    """A psycopg2 connection to the warehouse that gives up quickly when it does not answer.

    `connection` is an Airflow connection; by default `aans_postgres` as a task sees it.
    """
    import psycopg2

    if connection is None:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(POSTGRES_CONN_ID)
    args: dict[str, Any] = {
        "host": connection.host,
        "port": connection.port,
        "user": connection.login,
        "password": connection.password,
        "dbname": connection.schema,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        "application_name": "aans_alerts",
    }
    args.update(connection.extra_dejson)
    return psycopg2.connect(**{key: value for key, value in args.items() if value is not None})


def load_states(conn: Any, fingerprints: Iterable[str] | None = None) -> dict[str, AlertState]:
    """Current states, locked for this transaction (all of them, or the given fingerprints)."""
    with conn.cursor() as cur:
        if fingerprints is None:
            cur.execute(f"select {_STATE_COLUMNS} from analytics.alert_events for update")
        else:
            cur.execute(
                f"select {_STATE_COLUMNS} from analytics.alert_events"
                " where fingerprint = any(%s) for update",
                (list(fingerprints),),
            )
        rows = cur.fetchall()
    return {row[0]: AlertState(*row) for row in rows}


def save_state(conn: Any, state: AlertState) -> None:
    """Insert or replace the row of one fingerprint."""
    values = (
        state.fingerprint,
        state.rule_name,
        state.subject,
        state.subject_label,
        state.kind,
        state.severity,
        state.status,
        state.measured_value,
        state.threshold,
        state.comparison,
        state.detail,
        state.first_seen_at,
        state.last_seen_at,
        state.last_notified_at,
        state.resolved_at,
    )
    with conn.cursor() as cur:
        cur.execute(
            f"insert into analytics.alert_events ({_STATE_COLUMNS})"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " on conflict (fingerprint) do update set"
            " rule_name = excluded.rule_name, subject = excluded.subject,"
            " subject_label = excluded.subject_label, kind = excluded.kind,"
            " severity = excluded.severity, status = excluded.status,"
            " measured_value = excluded.measured_value, threshold = excluded.threshold,"
            " comparison = excluded.comparison, detail = excluded.detail,"
            " first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,"
            " last_notified_at = excluded.last_notified_at, resolved_at = excluded.resolved_at,"
            " updated_at = now()",
            values,
        )


def enqueue(
    conn: Any,
    fingerprint: str,
    notification: str,
    channels: Sequence[str],
    payload: dict[str, Any],
) -> int:
    """Queue one notification for each channel; return how many deliveries were queued."""
    with conn.cursor() as cur:
        for channel in channels:
            cur.execute(
                "insert into analytics.alert_deliveries"
                " (fingerprint, notification, channel, payload) values (%s, %s, %s, %s)",
                (fingerprint, notification, channel, json.dumps(payload)),
            )
    return len(channels)


def pending_deliveries(conn: Any, fingerprints: Sequence[str] | None = None) -> list[Pending]:
    """Undelivered notifications, oldest first, locked so a concurrent sender skips them."""
    sql = "select id, channel, payload from analytics.alert_deliveries where delivered_at is null"
    params: tuple[Any, ...] = ()
    if fingerprints is not None:
        sql += " and fingerprint = any(%s)"
        params = (list(fingerprints),)
    with conn.cursor() as cur:
        cur.execute(sql + " order by id for update skip locked", params)
        return [Pending(row[0], row[1], row[2]) for row in cur.fetchall()]


def record_outcomes(conn: Any, outcomes: Iterable[Outcome], now: datetime) -> None:
    """Mark sent deliveries delivered; keep failed ones pending with their error."""
    with conn.cursor() as cur:
        for outcome in outcomes:
            if outcome.error is None:
                cur.execute(
                    "update analytics.alert_deliveries set delivered_at = %s,"
                    " attempts = attempts + 1, last_attempt_at = %s, last_error = null,"
                    " updated_at = now() where id = any(%s)",
                    (now, now, list(outcome.keys)),
                )
            else:
                cur.execute(
                    "update analytics.alert_deliveries set attempts = attempts + 1,"
                    " last_attempt_at = %s, last_error = %s, updated_at = now()"
                    " where id = any(%s)",
                    (now, outcome.error, list(outcome.keys)),
                )


def prune_delivered(conn: Any, now: datetime) -> int:
    """Delete notifications delivered longer than KEEP_DELIVERED ago; return how many."""
    with conn.cursor() as cur:
        cur.execute(
            "delete from analytics.alert_deliveries where delivered_at < %s",
            (now - KEEP_DELIVERED,),
        )
        return int(cur.rowcount)
