"""Airflow logging configuration of the project: Airflow's default plus phone-number masking.

Point Airflow at it with
`AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS=aans_analytics.elk.task_logging.LOGGING_CONFIG`.
Airflow then reads three names from this module:

- `LOGGING_CONFIG`: Airflow's default dictConfig (with the Elasticsearch task handler when
  `[logging] remote_logging` and `[elasticsearch] host` are set), plus `PhoneMaskingFilter` on
  every handler, for the stdlib logs of the scheduler, api-server and other components.
- `REMOTE_TASK_LOG`: the remote log IO the task supervisor uploads each finished task log with
  and the api-server reads logs back with. It wraps the Elasticsearch provider's
  `ElasticsearchRemoteLogIO` and adds the masking processor to its `processors`, which the task
  SDK installs in the structlog chain of the task process and of the supervisor writing the
  local log file. So the number is masked before the line reaches the file, and the upload
  (which reads that file) can only send masked lines to Elasticsearch.
- `DEFAULT_REMOTE_CONN_ID`: unchanged from Airflow's default.

Without remote logging the wrapper still masks; it then uploads nothing and reads nothing, and
Airflow serves the local files.
"""

import copy
import logging
import os
from typing import Any

from airflow.config_templates import airflow_local_settings as _airflow_defaults

from aans_analytics.elk.phone_masking import mask_event_dict

log = logging.getLogger(__name__)

MASKING_FILTER = "mask_phone_numbers"


class PhoneMaskingLogIO:
    """A remote log IO that masks phone numbers, delegating storage to `inner` when there is one."""

    def __init__(self, inner: Any | None) -> None:
        self.inner = inner

    @property
    def processors(self) -> tuple[Any, ...]:
        inner_processors = tuple(getattr(self.inner, "processors", ()) or ())
        return (mask_event_dict, *inner_processors)

    def upload(self, path: os.PathLike[str] | str, ti: Any = None) -> None:
        if self.inner is not None:
            self.inner.upload(path, ti)

    def read(self, relative_path: str, ti: Any) -> Any:
        if self.inner is None:
            # Airflow's file task handler treats this as "no remote store" and serves local logs.
            raise NotImplementedError
        return self.inner.read(relative_path, ti)

    def __getattr__(self, name: str) -> Any:
        # Anything else the handler asks for (e.g. the Elasticsearch client) comes from `inner`.
        if name == "inner" or self.__dict__.get("inner") is None:
            raise AttributeError(name)
        return getattr(self.__dict__["inner"], name)


def build_logging_config(defaults: Any = _airflow_defaults) -> dict[str, Any]:
    """Airflow's default dictConfig with the masking filter on every handler."""
    config: dict[str, Any] = copy.deepcopy(defaults.DEFAULT_LOGGING_CONFIG)
    config.setdefault("filters", {})[MASKING_FILTER] = {
        "()": "aans_analytics.elk.phone_masking.PhoneMaskingFilter"
    }
    for handler in config.get("handlers", {}).values():
        filters = handler.setdefault("filters", [])
        if MASKING_FILTER not in filters:
            # First, so that later filters and the formatter only ever see the masked text.
            filters.insert(0, MASKING_FILTER)
    return config


def build_remote_task_log(defaults: Any = _airflow_defaults) -> PhoneMaskingLogIO:
    """The masking IO around the remote log IO Airflow's defaults configured, if any."""
    return PhoneMaskingLogIO(defaults.REMOTE_TASK_LOG)


LOGGING_CONFIG = build_logging_config()
REMOTE_TASK_LOG = build_remote_task_log()
DEFAULT_REMOTE_CONN_ID = _airflow_defaults.DEFAULT_REMOTE_CONN_ID
