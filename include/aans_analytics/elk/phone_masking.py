"""Masks callers' phone numbers in log records before any handler writes them.

Callers' numbers are personal data (DESIGN section 4, `calls.caller_phone`); a task that logs one
by mistake must not leak it to the task log file, Elasticsearch or Kibana. Two entry points:

- `mask_event_dict`, a structlog processor for Airflow 3 task logs (the task SDK's structlog
  chain, installed through the remote log IO's `processors` in `task_logging`);
- `PhoneMaskingFilter`, a `logging.Filter` for the stdlib handlers of Airflow's other components.
"""

import logging
import re
from typing import Any

REPLACEMENT = "[phone]"

# What counts as a phone number, from most to least specific:
# - international form: a plus sign, then 7 to 15 digits with optional spaces, dots, dashes or
#   parentheses between them (E.164 allows 15 digits);
# - North American grouping 3-3-4 with separators or an area code in parentheses;
# - a bare run of 10 to 15 digits standing alone (a national number without separators).
# Dates (4-2-2), times, durations and UUIDs do not match: their digit groups are shorter or mixed
# with letters.
# Limitation: national numbers written with other groupings (e.g. "0171 234 5678") are not
# recognised; the app stores numbers in E.164, which is what reaches logs.
PHONE_PATTERN = re.compile(
    r"""
    (?<![\w+])\+\d(?:[\s().-]{0,2}\d){6,14}(?!\d)
    | (?<![\w-])(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])
    | (?<![\w.:-])\d{10,15}(?![\w.:-])
    """,
    re.VERBOSE,
)


def mask_text(text: str) -> str:
    """`text` with every phone number replaced by `[phone]`."""
    return PHONE_PATTERN.sub(REPLACEMENT, text)


def mask_value(value: Any) -> Any:
    """Mask strings inside `value`, recursing into dicts, lists and tuples."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(mask_value(item) for item in value)
    return value


def mask_event_dict(logger: Any, method_name: str, event_dict: Any) -> Any:
    """structlog processor: mask every string of the event, including rendered exceptions."""
    return {key: mask_value(value) for key, value in event_dict.items()}


class PhoneMaskingFilter(logging.Filter):
    """stdlib filter: formats the record's message, masks it, and drops the arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed %-format: leave the record for logging to report
            return True
        record.msg = mask_text(message)
        record.args = None
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True
