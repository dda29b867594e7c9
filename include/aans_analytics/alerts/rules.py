"""Alert rules as data: loads and validates `include/alerts/rules.yaml`.

A rule says what is measured (a SQL file under `sql/alerts/`, a named check, or an event raised
elsewhere), how the measured value compares with a threshold, how severe it is, for which cafes,
how often it may repeat and through which channels it goes out.
"""

import logging
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from aans_analytics.paths import INCLUDE_DIR, SQL_DIR

log = logging.getLogger(__name__)

RULES_FILE = INCLUDE_DIR / "alerts" / "rules.yaml"
ALERT_SQL_DIR = SQL_DIR / "alerts"

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
SEVERITIES = ("info", "warning", "critical")
NAMED_CHECKS = ("warehouse_reachable",)
EVENTS = ("task_failure",)
_DURATION = re.compile(r"^(\d+)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class RuleError(ValueError):
    """The rules file says something that cannot be evaluated; the message names the rule."""


@dataclass(frozen=True)
class Channel:
    """A delivery channel and the Airflow connection that configures it."""

    name: str
    connection: str


@dataclass(frozen=True)
class Rule:
    """One alert rule, as read from the rules file."""

    name: str
    description: str
    subject: str
    comparison: str
    threshold: float
    severity: str
    cooldown: timedelta
    channels: tuple[str, ...]
    cafes: tuple[str, ...] | None  # None means every cafe
    sql: str | None = None
    check: str | None = None
    event: str | None = None
    unit: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def measurement(self) -> str:
        """What the rule measures, as a reader would name it: the file, check or event."""
        if self.sql:
            return f"sql/alerts/{self.sql}"
        if self.check:
            return f"check {self.check}"
        return f"event {self.event}"

    @property
    def sql_path(self) -> Path:
        if not self.sql:
            raise RuleError(f"Rule {self.name} has no SQL measurement")
        return ALERT_SQL_DIR / self.sql

    def fires(self, value: float) -> bool:
        """Whether a measured value breaches the threshold."""
        return COMPARISONS[self.comparison](value, self.threshold)

    def covers(self, subject: str) -> bool:
        """Whether the rule applies to a subject (only cafe rules can be narrowed)."""
        return self.subject != "cafe" or self.cafes is None or subject in self.cafes


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    channels: Mapping[str, Channel]

    def by_name(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)


def fallback_rules() -> RuleSet:
    """What still works when the rules file cannot be read: failed tasks page on every channel.

    Without it, a typo in the rules file would silence the very alert that reports it.
    """
    channels = {
        "webhook": Channel("webhook", "alerts_webhook"),
        "slack": Channel("slack", "alerts_slack"),
        "email": Channel("email", "alerts_smtp"),
    }
    task_failed = Rule(
        name="task_failed",
        description="a task of a project DAG failed after its retries.",
        subject="task",
        comparison="==",
        threshold=1.0,
        severity="critical",
        cooldown=timedelta(hours=1),
        channels=tuple(channels),
        cafes=None,
        event="task_failure",
    )
    return RuleSet((task_failed,), channels)


def load_rules_or_fallback() -> RuleSet:
    """The rules file, or `fallback_rules()` when it cannot be loaded (logged as an error)."""
    try:
        return load_rules()
    except RuleError as error:
        log.error("Alert rules unusable, only failed tasks will page: %s", error)
        return fallback_rules()


def parse_duration(text: Any) -> timedelta:
    """`15m`, `4h`, `1d` as a timedelta."""
    match = _DURATION.match(str(text).strip())
    if not match:
        raise RuleError(f"Cannot read duration {text!r}: write e.g. 30m, 4h or 1d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def load_rules(path: Path | None = None) -> RuleSet:
    """Read and validate the rules file; raise RuleError naming the first bad rule."""
    import yaml

    path = path or RULES_FILE
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise RuleError(f"{path}: cannot be read: {error}") from error
    channels = {
        name: Channel(name, str(spec["connection"]))
        for name, spec in (document.get("channels") or {}).items()
    }
    defaults = document.get("defaults") or {}
    rules = tuple(_rule(entry, defaults, channels) for entry in document.get("rules") or [])
    names = [rule.name for rule in rules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RuleError(f"{path}: rule names must be unique, repeated: {', '.join(duplicates)}")
    return RuleSet(rules, channels)


def _rule(entry: Mapping[str, Any], defaults: Mapping[str, Any], channels: Mapping) -> Rule:
    spec = {**defaults, **entry}
    name = str(spec.get("name") or "")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise RuleError(f"Rule name {name!r} must be lower-case letters, digits and underscores")

    sources = [key for key in ("sql", "check", "event") if spec.get(key)]
    if len(sources) != 1:
        raise RuleError(f"Rule {name}: give exactly one of sql, check or event")
    if spec.get("check") and spec["check"] not in NAMED_CHECKS:
        raise RuleError(f"Rule {name}: unknown check {spec['check']!r}, known: {NAMED_CHECKS}")
    if spec.get("event") and spec["event"] not in EVENTS:
        raise RuleError(f"Rule {name}: unknown event {spec['event']!r}, known: {EVENTS}")
    if spec.get("sql") and ("/" in str(spec["sql"]) or not str(spec["sql"]).endswith(".sql")):
        raise RuleError(f"Rule {name}: sql names a file in sql/alerts/, e.g. answer_rate.sql")
    if spec.get("comparison") not in COMPARISONS:
        raise RuleError(f"Rule {name}: comparison must be one of {', '.join(COMPARISONS)}")
    if spec.get("severity") not in SEVERITIES:
        raise RuleError(f"Rule {name}: severity must be one of {', '.join(SEVERITIES)}")
    unknown = [channel for channel in spec.get("channels") or [] if channel not in channels]
    if unknown:
        raise RuleError(f"Rule {name}: unknown channels {unknown}, known: {sorted(channels)}")
    try:
        threshold = float(spec["threshold"])
    except (KeyError, TypeError, ValueError) as error:
        raise RuleError(f"Rule {name}: threshold must be a number") from error

    cafes = spec.get("cafes", "all")
    return Rule(
        name=name,
        description=str(spec.get("description") or name),
        subject=str(spec.get("subject") or "subject"),
        comparison=spec["comparison"],
        threshold=threshold,
        severity=spec["severity"],
        cooldown=parse_duration(spec.get("cooldown", "4h")),
        channels=tuple(spec.get("channels") or ()),
        cafes=None if cafes == "all" else tuple(str(cafe) for cafe in cafes),
        sql=spec.get("sql"),
        check=spec.get("check"),
        event=spec.get("event"),
        unit=str(spec.get("unit") or ""),
        params=dict(spec.get("params") or {}),
    )
