"""Delivery through Airflow's notifiers: JSON webhook, Slack incoming webhook and e-mail.

Each channel is configured by an Airflow connection and is optional: when the connection does not
exist the channel is off (logged once at INFO). A send either returns or raises; the caller records
the outcome so that nothing failed is forgotten.
"""

import html
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aans_analytics.alerts.rules import Channel, Rule, RuleSet

log = logging.getLogger(__name__)

# More notifications than this of one rule and kind go out to a channel as one digest message:
# a platform incident that trips 300 cafes pages once, not 300 times.
DIGEST_ABOVE = 3
DIGEST_LIST_LIMIT = 20
SEND_TIMEOUT_SECONDS = 10

_reported_off: set[str] = set()
# A URL, or the path a requests error quotes after "url:"; either may carry a webhook's token.
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"]+|(?<=url: )[^\s'\"]+|/services/[^\s'\"]+")


@dataclass(frozen=True)
class Pending:
    """One undelivered notification for one channel; `key` identifies it in its store."""

    key: Any
    channel: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Outcome:
    keys: tuple[Any, ...]
    channel: str
    error: str | None  # None when delivered


def channel_connection(channel: Channel) -> Any | None:
    """The connection of a channel, or None when the channel is off."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(channel.connection)
    except AirflowNotFoundException:
        if channel.name not in _reported_off:
            _reported_off.add(channel.name)
            log.info("Channel %s is off: no connection %s", channel.name, channel.connection)
        return None


def enabled_channels(rule: Rule, rule_set: RuleSet) -> list[str]:
    """The channels of a rule whose connection exists now."""
    return [
        name for name in rule.channels if channel_connection(rule_set.channels[name]) is not None
    ]


def deliver(pending: Iterable[Pending], rule_set: RuleSet) -> list[Outcome]:
    """Send every pending notification, grouped per channel; one outcome per message sent."""
    outcomes: list[Outcome] = []
    by_channel: dict[str, list[Pending]] = {}
    for item in pending:
        by_channel.setdefault(item.channel, []).append(item)

    for name, items in by_channel.items():
        channel = rule_set.channels.get(name)
        connection = channel_connection(channel) if channel else None
        if channel is None or connection is None:
            # Kept pending: the notifications go out once the channel is configured again.
            outcomes.append(Outcome(tuple(i.key for i in items), name, "channel is off"))
            continue
        for group in _groups(items):
            keys = tuple(item.key for item in group)
            try:
                send(channel, connection, [item.payload for item in group])
            except Exception as error:
                reason = safe_error(error)
                title = _title(group[0].payload)
                log.warning("Delivery to %s failed for %s: %s", name, title, reason)
                outcomes.append(Outcome(keys, name, reason))
            else:
                log.info("Delivered to %s: %s", name, summary_text([i.payload for i in group]))
                outcomes.append(Outcome(keys, name, None))
    return outcomes


def send(channel: Channel, connection: Any, payloads: Sequence[Mapping[str, Any]]) -> None:
    """Send one message through the channel's Airflow notifier; raise when it is not accepted."""
    text = summary_text(payloads)
    if channel.name == "webhook":
        from airflow.providers.http.notifications.http import HttpNotifier

        HttpNotifier(
            http_conn_id=channel.connection,
            endpoint="",
            method="POST",
            json={"text": text, "alerts": list(payloads)},
            headers={"Content-Type": "application/json"},
            extra_options={"timeout": SEND_TIMEOUT_SECONDS},
        ).notify({})
    elif channel.name == "slack":
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        SlackWebhookNotifier(
            slack_webhook_conn_id=channel.connection,
            text=text,
            timeout=SEND_TIMEOUT_SECONDS,
        ).notify({})
    elif channel.name == "email":
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        extra = connection.extra_dejson
        if not extra.get("to"):
            raise ValueError(f"Connection {channel.connection} has no recipients: set extra 'to'")
        SmtpNotifier(
            to=extra["to"],
            from_email=extra.get("from_email") or "aans-alerts@localhost",
            subject=_title(payloads[0]) if len(payloads) == 1 else text.splitlines()[0],
            html_content=_html(payloads),
            smtp_conn_id=channel.connection,
        ).notify({})
    else:
        raise ValueError(f"Unknown channel {channel.name}")


def safe_error(error: BaseException) -> str:
    """The error of a send, without URLs: a Slack webhook's path is its secret."""
    text = _URL.sub("<url>", f"{type(error).__name__}: {error}")
    return text[:500]


def summary_text(payloads: Sequence[Mapping[str, Any]]) -> str:
    """Plain text of one message: one line per alert, headed by a title."""
    if len(payloads) == 1:
        return f"{_title(payloads[0])}\n{_body(payloads[0])}"
    first = payloads[0]
    lines = [
        f"[{str(first['severity']).upper()}] {_verb(first)} {first['rule']}: "
        f"{len(payloads)} subjects"
    ]
    for item in payloads[:DIGEST_LIST_LIMIT]:
        lines.append(f"- {item['subject_label']}: {_measured(item)}")
    if len(payloads) > DIGEST_LIST_LIMIT:
        lines.append(f"- and {len(payloads) - DIGEST_LIST_LIMIT} more")
    lines.append(f"Since {first['since']}. {first['link']}")
    return "\n".join(lines)


def _groups(items: list[Pending]) -> list[list[Pending]]:
    by_kind: dict[tuple[str, str, str], list[Pending]] = {}
    for item in items:
        key = (item.payload["rule"], item.payload["kind"], item.payload["notification"])
        by_kind.setdefault(key, []).append(item)
    groups: list[list[Pending]] = []
    for members in by_kind.values():
        if len(members) > DIGEST_ABOVE:
            groups.append(members)
        else:
            groups.extend([member] for member in members)
    return groups


def _verb(payload: Mapping[str, Any]) -> str:
    if payload["kind"] == "check_error":
        return "CHECK FIXED" if payload["notification"] == "resolved" else "CHECK BROKEN"
    return {"firing": "FIRING", "reminder": "STILL FIRING", "resolved": "RESOLVED"}[
        payload["notification"]
    ]


def _title(payload: Mapping[str, Any]) -> str:
    return (
        f"[{str(payload['severity']).upper()}] {_verb(payload)} {payload['rule']}: "
        f"{payload['subject_label']}"
    )


def _measured(payload: Mapping[str, Any]) -> str:
    if payload["kind"] == "check_error":
        return f"{payload['measurement']} could not be evaluated: {payload['detail']}"
    value = payload["measured_value"]
    if value is None:
        return payload["detail"] or "no longer breaching"
    unit = f" {payload['unit']}" if payload["unit"] else ""
    return (
        f"measured {value:g}{unit}, alert when {payload['comparison']} {payload['threshold']:g}"
        + (f" ({payload['detail']})" if payload["detail"] else "")
    )


def _body(payload: Mapping[str, Any]) -> str:
    lines = [payload["description"], _measured(payload), f"Since {payload['since']}."]
    if payload.get("resolved_at"):
        lines.append(f"Resolved at {payload['resolved_at']}.")
    lines.append(payload["link"])
    return "\n".join(lines)


def _html(payloads: Sequence[Mapping[str, Any]]) -> str:
    text = summary_text(payloads)
    return "<pre>" + html.escape(text) + "</pre>"
