"""The life of one alert: firing, repeated after its cooldown, resolved once.

`step` is the whole deduplication policy as a pure function, so the database store
(`analytics.alert_events`) and the offline store (used while that database is down) behave alike.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aans_analytics.alerts.rules import Rule

ALERT = "alert"
CHECK_ERROR = "check_error"
FIRING = "firing"
RESOLVED = "resolved"


@dataclass(frozen=True)
class Finding:
    """What one evaluation saw for one rule and subject."""

    rule: str
    subject: str
    subject_label: str
    is_firing: bool
    value: float | None = None
    detail: str = ""
    kind: str = ALERT

    @property
    def fingerprint(self) -> str:
        # A broken check has its own fingerprint, so it never hides or resolves the alert itself.
        suffix = "|check" if self.kind == CHECK_ERROR else ""
        return f"{self.rule}|{self.subject}{suffix}"


@dataclass(frozen=True)
class AlertState:
    """One row of analytics.alert_events."""

    fingerprint: str
    rule_name: str
    subject: str
    subject_label: str
    kind: str
    severity: str
    status: str
    measured_value: float | None
    threshold: float | None
    comparison: str | None
    detail: str
    first_seen_at: datetime
    last_seen_at: datetime
    last_notified_at: datetime | None
    resolved_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "AlertState":
        values = dict(data)
        for key in ("first_seen_at", "last_seen_at", "last_notified_at", "resolved_at"):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


def step(
    previous: AlertState | None, finding: Finding, rule: Rule, now: datetime
) -> tuple[AlertState | None, str | None]:
    """The next state of an alert and the notification it calls for (None: stay silent).

    - a new firing episode notifies at once ("firing");
    - while it keeps firing, it notifies again only once its cooldown has passed ("reminder");
    - when it clears, one "resolved" goes out; a clear alert that was not firing stays silent.
    """
    if not finding.is_firing:
        if previous is None or previous.status != FIRING:
            return previous, None
        resolved = replace(
            previous,
            status=RESOLVED,
            resolved_at=now,
            last_seen_at=now,
            measured_value=finding.value,
            detail=finding.detail or previous.detail,
        )
        return resolved, "resolved"

    if previous is None or previous.status != FIRING:
        started = AlertState(
            fingerprint=finding.fingerprint,
            rule_name=rule.name,
            subject=finding.subject,
            subject_label=finding.subject_label,
            kind=finding.kind,
            severity=rule.severity,
            status=FIRING,
            measured_value=finding.value,
            threshold=rule.threshold if finding.kind == ALERT else None,
            comparison=rule.comparison if finding.kind == ALERT else None,
            detail=finding.detail,
            first_seen_at=now,
            last_seen_at=now,
            last_notified_at=now,
            resolved_at=None,
        )
        return started, "firing"

    ongoing = replace(
        previous,
        subject_label=finding.subject_label,
        measured_value=finding.value,
        detail=finding.detail,
        last_seen_at=now,
    )
    last = previous.last_notified_at
    if last is None or now - last >= rule.cooldown:
        return replace(ongoing, last_notified_at=now), "reminder"
    return ongoing, None


def expire_event(previous: AlertState, rule: Rule, now: datetime) -> AlertState | None:
    """An event alert (a failed task) clears silently once a cooldown passes without a repeat.

    Nothing observes the recovery of an event, so no "resolved" is sent for it.
    """
    if previous.status == FIRING and now - previous.last_seen_at >= rule.cooldown:
        return replace(previous, status=RESOLVED, resolved_at=now)
    return None


def payload(
    state: AlertState,
    rule: Rule,
    notification: str,
    *,
    link: str,
    now: datetime,
) -> dict[str, Any]:
    """What a notification carries: everything the reader needs, no personal data."""
    return {
        "rule": rule.name,
        "description": rule.description,
        "kind": state.kind,
        "notification": notification,
        "severity": state.severity,
        "status": state.status,
        "subject": state.subject,
        "subject_label": state.subject_label,
        "measured_value": state.measured_value,
        "comparison": state.comparison,
        "threshold": state.threshold,
        "unit": rule.unit,
        "measurement": rule.measurement,
        "detail": state.detail,
        "since": state.first_seen_at.isoformat(),
        "resolved_at": state.resolved_at.isoformat() if state.resolved_at else None,
        "checked_at": now.isoformat(),
        "link": link,
    }


def is_stale(logical_date: datetime | None, now: datetime, limit: timedelta) -> bool:
    """Whether a run looks at the past (its logical date is older than `limit`)."""
    return logical_date is not None and now - logical_date > limit
