"""Evaluates every rule and delivers what the evaluation decided.

The two halves are separate on purpose: evaluation writes decisions (state and an outbox of
notifications) in one transaction, delivery sends the outbox and records each outcome. A channel
that is down therefore never loses a notification: it stays in the outbox for the next run.
Time is always passed in as `now`, so tests control it.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from aans_analytics.alerts import channels, offline, store
from aans_analytics.alerts.offline import OfflineStore
from aans_analytics.alerts.rules import Rule, RuleSet, load_rules, load_rules_or_fallback
from aans_analytics.alerts.state import (
    ALERT,
    CHECK_ERROR,
    FIRING,
    RESOLVED,
    AlertState,
    Finding,
    expire_event,
    payload,
    step,
)

log = logging.getLogger(__name__)

WAREHOUSE_SUBJECT = "warehouse"
WAREHOUSE_LABEL = "analytics warehouse (connection aans_postgres)"


class BrokenChecksError(AirflowFailException):
    """Some rules could not be evaluated; the message names each rule and its file.

    An AirflowFailException: the task fails without retrying, since a broken rule stays broken.
    """


class DeliveryError(Exception):
    """Some notifications were not accepted by their channel; they stay queued."""


@dataclass
class RuleResult:
    """What one measurement returned: findings, or why it could not run."""

    findings: list[Finding] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)  # subjects measured as NULL
    error: str | None = None


@dataclass
class EvaluationReport:
    warehouse_up: bool
    firing: list[str] = field(default_factory=list)
    queued: int = 0
    broken: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "warehouse_up": self.warehouse_up,
            "firing": self.firing,
            "queued": self.queued,
            "broken": self.broken,
        }


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "failed": self.failed}


def evaluate(
    now: datetime,
    offline_store: OfflineStore,
    *,
    rule_set: RuleSet | None = None,
    link: str = "",
) -> EvaluationReport:
    """Measure every rule at `now`, update alert state and queue the notifications it calls for."""
    rule_set = rule_set or load_rules()
    conn, failure = _connect()
    _check_warehouse(rule_set, offline_store, failure, now, link)
    if conn is None:
        log.error("Warehouse unreachable, only the connectivity rule was evaluated: %s", failure)
        return EvaluationReport(warehouse_up=False)

    try:
        results = {
            rule.name: measure(conn, rule, now) for rule in rule_set.rules if rule.sql is not None
        }
        report = _apply(conn, rule_set, results, offline.states(offline_store), now, link)
        conn.commit()
    finally:
        conn.close()
    log.info(
        "Evaluated %s rules at %s: %s firing, %s notifications queued, %s broken",
        len(results),
        now.isoformat(),
        len(report.firing),
        report.queued,
        len(report.broken),
    )
    return report


def deliver(
    now: datetime,
    offline_store: OfflineStore,
    *,
    rule_set: RuleSet | None = None,
    fingerprints: Sequence[str] | None = None,
) -> DeliveryReport:
    """Send every queued notification (or those of `fingerprints`) and record the outcomes."""
    # Delivery needs only the channels: a broken rules file must not hold back queued pages.
    rule_set = rule_set or load_rules_or_fallback()
    report = DeliveryReport()

    offline_pending = offline.pending(offline_store)
    if fingerprints is not None:
        offline_pending = [
            item for item in offline_pending if _fingerprint(item.payload) in fingerprints
        ]
    outcomes = channels.deliver(offline_pending, rule_set)
    offline.record_outcomes(offline_store, outcomes)
    _count(report, outcomes)

    conn, failure = _connect()
    if conn is None:
        log.warning("Warehouse unreachable, its queued notifications wait: %s", failure)
        return report
    try:
        pending = store.pending_deliveries(conn, fingerprints)
        outcomes = channels.deliver(pending, rule_set)
        store.record_outcomes(conn, outcomes, now)
        pruned = store.prune_delivered(conn, now)
        conn.commit()
    finally:
        conn.close()
    _count(report, outcomes)
    log.info(
        "Delivered %s notifications, %s failed, %s old ones pruned",
        report.delivered,
        len(report.failed),
        pruned,
    )
    return report


def measure(conn: Any, rule: Rule, now: datetime) -> RuleResult:
    """Run a rule's SQL file, read only; a failure is returned, never raised, naming the file."""
    import psycopg2

    try:
        sql = rule.sql_path.read_text(encoding="utf-8")
    except OSError as error:
        return _broken(rule, f"{rule.measurement}: cannot read the file ({error.strerror})")

    try:
        with conn.cursor() as cur:
            cur.execute("set transaction read only")
            cur.execute(sql, {**rule.params, "now": now})
            columns = [column.name for column in cur.description or []]
            rows = cur.fetchall()
        conn.commit()
    except KeyError as error:
        conn.rollback()
        return _broken(rule, f"{rule.measurement}: uses %({error.args[0]})s, not in the params")
    except psycopg2.Error as error:
        conn.rollback()
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return _broken(rule, f"{rule.measurement}: {first_line}")

    missing = {"subject", "measured_value"} - set(columns)
    if missing:
        return _broken(rule, f"{rule.measurement}: returns no column {', '.join(sorted(missing))}")

    result = RuleResult()
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        subject = str(values["subject"])
        if not rule.covers(subject):
            continue
        if values["measured_value"] is None:
            result.unknown.add(subject)
            continue
        value = float(values["measured_value"])
        result.findings.append(
            Finding(
                rule=rule.name,
                subject=subject,
                subject_label=str(values.get("subject_label") or subject),
                is_firing=rule.fires(value),
                value=value,
                detail=str(values.get("detail") or ""),
            )
        )
    return result


def _broken(rule: Rule, message: str) -> RuleResult:
    log.error("Rule %s is broken: %s", rule.name, message)
    return RuleResult(error=message)


def _apply(
    conn: Any,
    rule_set: RuleSet,
    results: dict[str, RuleResult],
    offline_states: list[AlertState],
    now: datetime,
    link: str,
) -> EvaluationReport:
    report = EvaluationReport(warehouse_up=True)
    states = store.load_states(conn)
    rules = {rule.name: rule for rule in rule_set.rules}

    findings: list[Finding] = []
    for name, result in results.items():
        findings.extend(_findings(rules[name], result, states))
        if result.error:
            report.broken.append(f"rule {name}: {result.error}")

    for finding in findings:
        rule = rules[finding.rule]
        state, notification = step(states.get(finding.fingerprint), finding, rule, now)
        if state is None:
            continue
        store.save_state(conn, state)
        states[state.fingerprint] = state
        if notification is not None:
            body = payload(state, rule, notification, link=link, now=now)
            wanted = channels.enabled_channels(rule, rule_set)
            report.queued += store.enqueue(conn, state.fingerprint, notification, wanted, body)

    for state in list(states.values()):
        cleared = _silent_clear(state, rules, now)
        if cleared is not None:
            store.save_state(conn, cleared)
            states[state.fingerprint] = cleared

    # The connectivity alert lives outside the warehouse; a copy here lets the API list it.
    for state in offline_states:
        store.save_state(conn, state)

    report.firing = sorted(state.fingerprint for state in states.values() if state.status == FIRING)
    return report


def _findings(rule: Rule, result: RuleResult, states: dict[str, AlertState]) -> list[Finding]:
    check = Finding(
        rule=rule.name,
        subject=rule.measurement,
        subject_label=rule.measurement,
        is_firing=result.error is not None,
        detail=result.error or "",
        kind=CHECK_ERROR,
    )
    if result.error is not None:
        # A broken check says nothing about the alert itself: leave its state as it is.
        return [check]

    findings = [check, *result.findings]
    seen = {finding.subject for finding in result.findings} | result.unknown
    for state in states.values():
        if (
            state.rule_name == rule.name
            and state.kind == ALERT
            and state.status == FIRING
            and state.subject not in seen
        ):
            findings.append(Finding(rule.name, state.subject, state.subject_label, is_firing=False))
    return findings


def _silent_clear(state: AlertState, rules: dict[str, Rule], now: datetime) -> AlertState | None:
    if state.status != FIRING:
        return None
    rule = rules.get(state.rule_name)
    if rule is None:
        log.info("Rule %s is gone; closing %s silently", state.rule_name, state.fingerprint)
        return replace(state, status=RESOLVED, resolved_at=now)
    if rule.event is not None:
        return expire_event(state, rule, now)
    return None


def _check_warehouse(
    rule_set: RuleSet,
    offline_store: OfflineStore,
    failure: str | None,
    now: datetime,
    link: str,
) -> None:
    is_up = failure is None
    for rule in rule_set.rules:
        if rule.check != "warehouse_reachable":
            continue
        value = 1.0 if is_up else 0.0
        finding = Finding(
            rule=rule.name,
            subject=WAREHOUSE_SUBJECT,
            subject_label=WAREHOUSE_LABEL,
            is_firing=rule.fires(value),
            value=value,
            detail=f"connection failed: {failure}" if failure else "answers",
        )
        wanted = channels.enabled_channels(rule, rule_set)
        notification = offline.record(offline_store, finding, rule, wanted, now, link)
        if notification:
            log.warning("Warehouse connectivity: %s notification queued", notification)


def _connect() -> tuple[Any | None, str | None]:
    """A warehouse connection that answered `select 1`, or None and why not."""
    from aans_analytics import warehouse

    try:
        conn = store.connect_warehouse()
    except Exception as error:
        # Any reason counts, a missing connection included: the rules cannot be measured.
        return None, (str(error).strip().splitlines() or [type(error).__name__])[0]
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
        conn.commit()
        # An empty warehouse is a valid start: alert_events comes with the migrations.
        warehouse.migrate(conn)
    except Exception as error:
        conn.close()
        return None, (str(error).strip().splitlines() or [type(error).__name__])[0]
    return conn, None


def _fingerprint(body: Any) -> str:
    suffix = "|check" if body.get("kind") == CHECK_ERROR else ""
    return f"{body['rule']}|{body['subject']}{suffix}"


def _count(report: DeliveryReport, outcomes: Sequence[channels.Outcome]) -> None:
    for outcome in outcomes:
        if outcome.error is None:
            report.delivered += len(outcome.keys)
        else:
            report.failed.append(f"{outcome.channel}: {outcome.error}")


def raise_event(
    finding: Finding,
    rule: Rule,
    rule_set: RuleSet,
    offline_store: OfflineStore,
    now: datetime,
    link: str,
) -> str | None:
    """Record an event alert (a failed task) and deliver its notification now.

    The warehouse holds its state; when the warehouse is down (often the very reason a task
    failed) the offline store deduplicates it instead, so the page still goes out.
    """
    wanted = channels.enabled_channels(rule, rule_set)
    conn, failure = _connect()
    if conn is None:
        log.warning("Warehouse unreachable (%s); deduplicating %s offline", failure, finding.rule)
        notification = offline.record(offline_store, finding, rule, wanted, now, link)
    else:
        try:
            previous = store.load_states(conn, [finding.fingerprint]).get(finding.fingerprint)
            state, notification = step(previous, finding, rule, now)
            if state is not None:
                store.save_state(conn, state)
            if state is not None and notification is not None:
                body = payload(state, rule, notification, link=link, now=now)
                store.enqueue(conn, state.fingerprint, notification, wanted, body)
            conn.commit()
        finally:
            conn.close()

    if notification is None:
        log.info("%s for %s is within its cooldown: not sent again", finding.rule, finding.subject)
        return None
    deliver(now, offline_store, rule_set=rule_set, fingerprints=[finding.fingerprint])
    return notification
