"""What the DAG `alert_checks` and the failure callback of every DAG call, with Airflow's context.

Here live the decisions that depend on the Airflow run: whether it looks at the past (a backfill
never pages), which link a notification carries, and where the offline state is kept.
"""

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from aans_analytics.alerts import engine
from aans_analytics.alerts.offline import OfflineStore, VariableStore
from aans_analytics.alerts.rules import RuleError, RuleSet, load_rules_or_fallback
from aans_analytics.alerts.state import Finding, is_stale

log = logging.getLogger(__name__)

DAG_ID = "alert_checks"
# A check run due longer ago than this looks at the past: it neither pages nor changes state.
STALE_AFTER = timedelta(hours=2)
# A failed task pages unless its run was due longer ago than this: analytics_daily runs 36 hours
# after its logical date and may retry for hours, so the bar for other DAGs is a day, not hours.
STALE_FAILURE_AFTER = timedelta(days=1)


def evaluate_rules(context: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Task `evaluate_rules`: measure every rule; fail only when a check itself is broken."""
    now = now or datetime.now(UTC)
    if looks_at_the_past(context, now, STALE_AFTER):
        return {"skipped": "the run looks at the past; a backfill never pages"}

    report = engine.evaluate(now, VariableStore(), link=run_link(context))
    if report.broken:
        # Raised after the state and the "check broken" notifications are recorded, so the
        # task turns red for a broken check only, never for a firing alert.
        raise engine.BrokenChecksError("; ".join(report.broken))
    return report.as_dict()


def deliver_notifications(context: Mapping[str, Any], now: datetime | None = None) -> dict:
    """Task `deliver_notifications`: send the outbox; fail when a channel refused something."""
    now = now or datetime.now(UTC)
    if looks_at_the_past(context, now, STALE_AFTER):
        return {"skipped": "the run looks at the past; a backfill never pages"}

    report = engine.deliver(now, VariableStore())
    if report.failed:
        raise engine.DeliveryError(
            f"{len(report.failed)} deliveries failed and stay queued for the next run: "
            + "; ".join(sorted(set(report.failed)))
        )
    return report.as_dict()


def notify_task_failure(
    context: Mapping[str, Any],
    *,
    now: datetime | None = None,
    offline_store: OfflineStore | None = None,
    rule_set: RuleSet | None = None,
) -> str | None:
    """Raise the `task_failure` event for a failed task and deliver it at once, deduplicated.

    Returns the notification sent ("firing", "reminder") or None when it stayed silent.
    """
    now = now or datetime.now(UTC)
    ti = context.get("ti") or context.get("task_instance")
    dag_id, task_id = getattr(ti, "dag_id", "?"), getattr(ti, "task_id", "?")
    if looks_at_the_past(context, now, STALE_FAILURE_AFTER):
        log.info("Not paging for %s.%s: the run looks at the past", dag_id, task_id)
        return None
    if isinstance(context.get("exception"), engine.BrokenChecksError):
        # Already announced as "check broken" with the file named; one page is enough.
        return None

    rule_set = rule_set or load_rules_or_fallback()
    rules = [rule for rule in rule_set.rules if rule.event == "task_failure"]
    if not rules:
        return None
    offline_store = offline_store or VariableStore()
    finding = Finding(
        rule=rules[0].name,
        subject=f"{dag_id}.{task_id}",
        subject_label=f"task {task_id} of DAG {dag_id}",
        is_firing=True,
        value=1.0,
        detail=_failure_detail(context, ti),
    )
    link = task_link(dag_id, getattr(ti, "run_id", ""), task_id)
    return engine.raise_event(finding, rules[0], rule_set, offline_store, now, link)


def looks_at_the_past(context: Mapping[str, Any], now: datetime, limit: timedelta) -> bool:
    """A backfill, or a run that was due (or is dated) longer than `limit` before `now`."""
    dag_run = context.get("dag_run")
    run_type = str(getattr(dag_run, "run_type", "") or "")
    if run_type.lower().endswith("backfill"):
        return True
    due = getattr(dag_run, "run_after", None) or context.get("logical_date")
    return is_stale(due, now, limit)


def airflow_url() -> str:
    try:
        from airflow.configuration import conf

        url = conf.get("api", "base_url", fallback="") or ""
    except Exception:
        url = ""
    return (url or "http://localhost:8080").rstrip("/")


def run_link(context: Mapping[str, Any]) -> str:
    dag_run = context.get("dag_run")
    run_id = getattr(dag_run, "run_id", None) or context.get("run_id") or ""
    return f"{airflow_url()}/dags/{DAG_ID}/runs/{quote(str(run_id), safe='')}"


def task_link(dag_id: str, run_id: str, task_id: str) -> str:
    return (
        f"{airflow_url()}/dags/{quote(dag_id, safe='')}/runs/{quote(str(run_id), safe='')}"
        f"/tasks/{quote(task_id, safe='')}"
    )


def _failure_detail(context: Mapping[str, Any], ti: Any) -> str:
    # Only the exception's type: its message may quote data rows, and notifications carry no
    # personal data. The link leads to the full log.
    exception = context.get("exception")
    if isinstance(exception, RuleError):
        # Our own message about the rules file: it names the rule and holds no data.
        return f"run {getattr(ti, 'run_id', '?')}: {exception}"
    kind = type(exception).__name__ if isinstance(exception, BaseException) else "an error"
    return f"run {getattr(ti, 'run_id', '?')}, try {getattr(ti, 'try_number', '?')}: {kind}"
