"""Alert state that must live outside the warehouse: the alert that says the warehouse is down.

Inside Airflow tasks the state is one JSON Airflow Variable. Variables live in Airflow's own
metadata database, a different database from the warehouse, shared by every worker: the alert
still deduplicates when the warehouse is down, and two workers never page twice for it. Outside
a task (a script, a benchmark) a JSON file stands in, since Variables can only be written by tasks.

The same `step` policy as the warehouse store applies; undelivered notifications wait in the
state's own outbox until a channel accepts them.
"""

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from aans_analytics.alerts.channels import Outcome, Pending
from aans_analytics.alerts.rules import Rule
from aans_analytics.alerts.state import AlertState, Finding, payload, step

log = logging.getLogger(__name__)

VARIABLE_KEY = "aans_alerts_offline_state"


class OfflineStore(Protocol):
    def load(self) -> dict[str, Any]: ...

    def save(self, data: dict[str, Any]) -> None: ...


class VariableStore:
    """The state as a JSON Airflow Variable (only writable from inside a task)."""

    def __init__(self, key: str = VARIABLE_KEY) -> None:
        self.key = key

    def load(self) -> dict[str, Any]:
        from airflow.sdk import Variable

        data = Variable.get(self.key, default=None, deserialize_json=True)
        return data if isinstance(data, dict) else {}

    def save(self, data: dict[str, Any]) -> None:
        from airflow.sdk import Variable

        Variable.set(
            self.key,
            data,
            description="Alert state kept outside the warehouse (see docs/alerts.md)",
            serialize_json=True,
        )


class FileStore:
    """The state as a JSON file, for use outside Airflow tasks."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(self.path)


def record(
    store: OfflineStore,
    finding: Finding,
    rule: Rule,
    channels: Sequence[str],
    now: datetime,
    link: str,
) -> str | None:
    """Apply one finding to the offline state; queue its notification; return its kind."""
    data = store.load()
    alerts = data.setdefault("alerts", {})
    previous = alerts.get(finding.fingerprint)
    state, notification = step(
        AlertState.from_json(previous) if previous else None, finding, rule, now
    )
    if state is not None:
        alerts[finding.fingerprint] = state.as_json()
    if state is not None and notification is not None:
        body = payload(state, rule, notification, link=link, now=now)
        data.setdefault("outbox", []).extend(
            {"id": uuid.uuid4().hex, "channel": channel, "payload": body} for channel in channels
        )
    store.save(data)
    return notification


def states(store: OfflineStore) -> list[AlertState]:
    return [AlertState.from_json(item) for item in store.load().get("alerts", {}).values()]


def pending(store: OfflineStore) -> list[Pending]:
    return [
        Pending(item["id"], item["channel"], item["payload"])
        for item in store.load().get("outbox", [])
    ]


def record_outcomes(store: OfflineStore, outcomes: Sequence[Outcome]) -> None:
    """Drop delivered notifications from the outbox; keep failed ones with their error."""
    delivered = {key for outcome in outcomes if outcome.error is None for key in outcome.keys}
    errors = {key: outcome.error for outcome in outcomes if outcome.error for key in outcome.keys}
    data = store.load()
    kept = []
    for item in data.get("outbox", []):
        if item["id"] in delivered:
            continue
        if item["id"] in errors:
            item["attempts"] = item.get("attempts", 0) + 1
            item["last_error"] = errors[item["id"]]
        kept.append(item)
    data["outbox"] = kept
    store.save(data)
