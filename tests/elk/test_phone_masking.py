"""The phone-number masking rules, and their place in the project's logging configuration."""

import logging

import pytest

from aans_analytics.elk.phone_masking import PhoneMaskingFilter, mask_event_dict, mask_text


@pytest.mark.parametrize(
    "text",
    [
        "caller +15551234567",
        "caller +1 (555) 123-4567",
        "caller +91 98765 43210",
        "caller +44 20 7946 0958.",
        "caller (555) 123-4567",
        "caller 555-123-4567",
        "caller 555.123.4567",
        "caller 5551234567",
        "caller=+15551234567,",
    ],
)
def test_phone_numbers_are_masked(text):
    masked = mask_text(text)

    assert "[phone]" in masked
    assert not any(ch.isdigit() for ch in masked), masked


@pytest.mark.parametrize(
    "text",
    [
        "Hour 2026-11-05T09:00:00+00:00: 120 requests over 2 endpoints",
        "run_id=manual__2026-12-03T17:33:44.324401+00:00",
        "ti_id=01a23cf8-2327-7fd1-960b-26ee6fbe8da2 pid=14927",
        "duration=13.967129389000092 rows=1500",
        "cafe 5f0c1e2a-0000-4000-8000-123456789012 at 12:30",
    ],
)
def test_other_numbers_are_left_alone(text):
    assert mask_text(text) == text


def test_structlog_processor_masks_nested_values():
    event = {
        "event": "caller +15551234567",
        "exception": [{"exc_value": "bad number +15551234567", "frames": []}],
        "count": 3,
    }

    masked = mask_event_dict(None, "info", event)

    assert masked == {
        "event": "caller [phone]",
        "exception": [{"exc_value": "bad number [phone]", "frames": []}],
        "count": 3,
    }


def test_stdlib_filter_masks_the_formatted_message():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "caller %s", ("+15551234567",), None)

    assert PhoneMaskingFilter().filter(record)
    assert record.getMessage() == "caller [phone]"


def test_logging_config_puts_the_filter_first_on_every_handler():
    from aans_analytics.elk import task_logging

    handlers = task_logging.LOGGING_CONFIG["handlers"]

    assert handlers
    assert all(h["filters"][0] == task_logging.MASKING_FILTER for h in handlers.values())
    assert task_logging.REMOTE_TASK_LOG.processors[0] is mask_event_dict


def test_without_remote_logging_the_wrapper_still_masks_and_defers_to_local_files():
    from aans_analytics.elk.task_logging import PhoneMaskingLogIO

    local_only = PhoneMaskingLogIO(None)

    assert local_only.processors == (mask_event_dict,)
    assert local_only.upload("some/path.log") is None
    with pytest.raises(NotImplementedError):
        local_only.read("some/path.log", ti=None)
    assert getattr(local_only, "stream", None) is None
