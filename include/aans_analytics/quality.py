"""The quality gate between staging a batch and publishing it (write, audit, publish).

Great Expectations checks two things with the suites of `include/expectations/`:
- the source rows of the batch's days, against the validity rules of DESIGN section 4. Invalid
  rows are already left out of the aggregates by the staging SQL; here they are counted, recorded
  and weighed against the table's threshold, above which the day is refused;
- the staged output, against the invariants of the analytics tables. Any failure refuses the day.

Every result is recorded in `analytics.data_quality_results` before the verdict, so a refused
day is never lost from view. The day's source rows are read once, through the same indexes as the
staging SQL, and the suites run on those rows in memory.
"""

import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from airflow.sdk.exceptions import AirflowFailException

from aans_analytics.paths import INCLUDE_DIR, LOCAL_DIR
from aans_analytics.sqlfiles import load_sql

log = logging.getLogger(__name__)

SUITES_DIR = INCLUDE_DIR / "expectations"
# Event tables read through the shared template: the column that dates a row, and those the rules
# need. The phone number of a call is never read.
EVENT_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "orders": (
        "created_at",
        ("id", "cafe_id", "created_at", "delivery_type", "status", "total_amount"),
    ),
    "calls": ("started_at", ("id", "cafe_id", "started_at", "status", "duration_seconds")),
    "reviews": ("created_at", ("id", "cafe_id", "created_at", "rating")),
    "reservations": (
        "reserved_for",
        ("id", "cafe_id", "created_at", "reserved_for", "party_size", "status"),
    ),
}
OUTPUT_TABLES = (
    "order_analytics",
    "menu_item_sales",
    "call_metrics",
    "call_metrics_hourly",
    "customer_satisfaction",
    "reservation_analytics",
)
MAX_EXAMPLES = 5
ROW_KEY = "_row"
DATED = "_is_dated"


class DataQualityError(AirflowFailException):
    """The gate refused the batch; its message names the table, the rule and the count.

    The task fails without retrying: the same source gives the same verdict until someone fixes it.
    """


@dataclass(frozen=True)
class Rule:
    name: str
    expectation: str
    kwargs: dict[str, Any]
    blocking: bool = True


@dataclass(frozen=True)
class Suite:
    """The rules of one table, as read from its YAML file."""

    kind: str  # "source" or "output"
    table: str
    rules: tuple[Rule, ...]
    threshold: float | None
    id_columns: tuple[str, ...]


@dataclass
class RuleResult:
    table: str
    rule: str
    rows_checked: int
    rows_failed: int
    example_ids: list[str]
    failed_rows: set[int]
    blocking: bool


@dataclass
class TableVerdict:
    kind: str
    table: str
    rows_checked: int
    rows_failed: int
    threshold: float | None
    refused: bool

    @property
    def share(self) -> float:
        return self.rows_failed / self.rows_checked if self.rows_checked else 0.0


@dataclass
class AuditReport:
    business_date: date
    run_id: str
    results: list[RuleResult] = field(default_factory=list)
    verdicts: list[TableVerdict] = field(default_factory=list)
    data_docs: Path | None = None

    @property
    def refused(self) -> list[TableVerdict]:
        return [verdict for verdict in self.verdicts if verdict.refused]

    @property
    def warnings(self) -> list[RuleResult]:
        return [
            result for result in self.results if result.rows_failed and not self._refused(result)
        ]

    def _refused(self, result: RuleResult) -> bool:
        return any(v.table == result.table and v.refused for v in self.verdicts)

    def summary(self) -> dict[str, Any]:
        """A small, JSON-friendly account of the audit (the task's return value in Airflow)."""
        return {
            "business_date": self.business_date.isoformat(),
            "rows_checked": {v.table: v.rows_checked for v in self.verdicts},
            "rows_failed": {v.table: v.rows_failed for v in self.verdicts},
            "warnings": len(self.warnings),
            "refused": [v.table for v in self.refused],
            "data_docs": str(self.data_docs / "index.html") if self.data_docs else None,
        }


def load_suites(kind: str) -> list[Suite]:
    """The suites of `include/expectations/<kind>/`, one file per table."""
    suites = []
    for path in sorted((SUITES_DIR / kind).glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules = tuple(
            Rule(r["rule"], r["expectation"], r.get("kwargs", {}), r.get("blocking", True))
            for r in spec["rules"]
        )
        id_columns = tuple(spec.get("key_columns") or [spec.get("id_column", "id")])
        suites.append(Suite(kind, spec["table"], rules, spec.get("threshold"), id_columns))
    return suites


def audit_batch(
    conn: Any,
    batch_id: str,
    business_date: date,
    run_id: str,
    overrides: float | Mapping[str, float] | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> AuditReport:
    """Check a staged batch; record every result; raise DataQualityError when it is refused.

    `window` bounds, in UTC, where rows of unknown cafes are looked for; by default the UTC day
    of `business_date`. `overrides` replaces the thresholds for this run: one share for every
    source table, or a share per table.
    """
    started = time.monotonic()
    if window is None:
        start = datetime(business_date.year, business_date.month, business_date.day, tzinfo=UTC)
        window = (start, start + timedelta(days=1))

    frames, references = _read_batch(conn, batch_id, window)
    docs_folder = data_docs_dir(business_date, run_id)
    report = AuditReport(business_date, run_id, data_docs=docs_folder)
    context = _context(docs_folder)
    for suite in load_suites("source") + load_suites("output"):
        results = _validate(context, suite, frames[suite.table], references)
        report.results.extend(results)
        report.verdicts.append(_verdict(suite, frames[suite.table], results, overrides))
    _record(conn, report)
    if os.environ.get("AANS_DATA_DOCS", "on") != "off":
        # Once for all suites: rendering the site is the costliest step of the audit.
        context.build_data_docs(site_names=["run"])
    else:
        report.data_docs = None

    log.info(
        "Audit of %s: %s rows checked, %s rules with failures, %s tables refused, in %.2f s",
        business_date,
        sum(v.rows_checked for v in report.verdicts if v.kind == "source"),
        sum(1 for r in report.results if r.rows_failed),
        len(report.refused),
        time.monotonic() - started,
    )
    for result in report.warnings:
        log.warning(
            "%s.%s: %s of %s rows fail (examples: %s)",
            result.table,
            result.rule,
            result.rows_failed,
            result.rows_checked,
            ", ".join(result.example_ids),
        )
    if report.refused:
        raise DataQualityError(_refusal_message(report))
    return report


def _read_batch(
    conn: Any, batch_id: str, window: tuple[datetime, datetime]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The frames the suites check, and the values their rules refer to (`{from: name}`)."""
    params = {"batch_id": batch_id, "window_start": window[0], "window_end": window[1]}
    frames: dict[str, Any] = {"cafes": _frame(conn, load_sql("quality/source_cafes"), {})}
    for table, (dating_column, columns) in EVENT_TABLES.items():
        sql = load_sql("quality/source_events").format(
            table=table, ts=dating_column, columns=", ".join(f"t.{c}" for c in columns)
        )
        frame = _frame(conn, sql, params)
        frame[DATED] = frame[dating_column].notna()
        frames[table] = frame
    frames["order_items"] = _order_items(conn, frames["orders"])
    for table in OUTPUT_TABLES:
        frames[table] = _frame(conn, load_sql(f"quality/output_{table}"), {"batch_id": batch_id})

    with conn.cursor() as cur:
        cur.execute("select count(*) from analytics_work.scope where batch_id = %s", (batch_id,))
        (scope_rows,) = cur.fetchone()
    return frames, {"scope_rows": int(scope_rows)}


def _order_items(conn: Any, orders: Any) -> Any:
    """Items of the checked orders, plus orphan items among the ids the dated orders' items span.

    Undated orders are left out of the span: they may be of any day, and would stretch it.
    """
    import pandas as pd

    items = _frame(
        conn,
        load_sql("quality/source_order_items"),
        {"order_ids": list(orders["id"].dropna().unique())},
    )
    dated_orders = set(orders.loc[orders[DATED], "id"].dropna())
    span = items.loc[items["order_id"].isin(dated_orders), "id"].dropna()
    if span.empty:
        return items
    orphans = _frame(
        conn,
        load_sql("quality/source_orphan_items"),
        {"first_id": int(span.min()), "last_id": int(span.max())},
    )
    frame = pd.concat([items, orphans], ignore_index=True)
    frame[ROW_KEY] = range(len(frame))
    return frame


def _frame(conn: Any, sql: str, params: Mapping[str, Any]) -> Any:
    """Rows as a DataFrame with plain Python values: uuids as text, numerics as floats."""
    import pandas as pd

    with conn.cursor() as cur:
        cur.execute(sql, params)
        columns = [col.name for col in cur.description]
        rows = [tuple(_plain(value) for value in row) for row in cur.fetchall()]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame[ROW_KEY] = range(len(frame))
    return frame


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _validate(
    context: Any, suite: Suite, frame: Any, references: Mapping[str, Any]
) -> list[RuleResult]:
    """Run one suite through Great Expectations; one result per rule."""
    import great_expectations as gx

    expectations = [_expectation(gx, rule, references) for rule in suite.rules]
    name = f"{suite.kind}.{suite.table}"
    batch = (
        context.data_sources.add_pandas(name)
        .add_dataframe_asset(suite.table)
        .add_batch_definition_whole_dataframe("batch")
    )
    suite_gx = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite_gx)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": [ROW_KEY, *suite.id_columns],
            },
        )
    )
    outcome = checkpoint.run(batch_parameters={"dataframe": frame})
    (validation,) = outcome.run_results.values()
    by_rule = {r.expectation_config.meta["rule"]: r for r in validation.results}
    return [_rule_result(suite, rule, by_rule[rule.name], len(frame)) for rule in suite.rules]


def _expectation(gx: Any, rule: Rule, references: Mapping[str, Any]) -> Any:
    kwargs = {
        key: references[value["from"]] if isinstance(value, dict) and "from" in value else value
        for key, value in rule.kwargs.items()
    }
    class_name = "".join(part.capitalize() for part in rule.expectation.split("_"))
    return getattr(gx.expectations, class_name)(**kwargs, meta={"rule": rule.name})


def _rule_result(suite: Suite, rule: Rule, result: Any, rows: int) -> RuleResult:
    details = result.result or {}
    failed_rows: set[int] = set()
    examples: list[str] = []
    for entry in details.get("unexpected_index_list") or []:
        failed_rows.add(int(entry[ROW_KEY]))
        if len(examples) < MAX_EXAMPLES:
            examples.append("/".join(_example(entry.get(col)) for col in suite.id_columns))
    if result.success:
        failed = 0
    elif "observed_value" in details and rule.expectation.startswith("expect_table_"):
        # A table-level rule (row count): the failure is the gap between the counts.
        failed = abs(
            int(details["observed_value"]) - int(result.expectation_config.kwargs["value"])
        )
    else:
        failed = int(details.get("unexpected_count") or len(failed_rows))
    return RuleResult(suite.table, rule.name, rows, failed, examples, failed_rows, rule.blocking)


def _example(value: Any) -> str:
    if value is None or value != value:  # NULL arrives as None or NaN
        return "(null)"
    if isinstance(value, float) and value.is_integer():
        # A bigint id column holding a NULL becomes floats in pandas; show the id as written.
        return str(int(value))
    return str(value)


def _verdict(
    suite: Suite,
    frame: Any,
    results: list[RuleResult],
    overrides: float | Mapping[str, float] | None,
) -> TableVerdict:
    if suite.kind == "output":
        failed = sum(r.rows_failed for r in results)
        return TableVerdict("output", suite.table, len(frame), failed, 0.0, failed > 0)

    # Limitation: undated rows belong to no day, so every run reports them and none weighs them
    # against its threshold; they never count in an aggregate, so no day is wrong because of them.
    dated = set(frame.loc[frame[DATED], ROW_KEY]) if DATED in frame else set(frame[ROW_KEY])
    failed_rows = set().union(*(r.failed_rows for r in results if r.blocking)) & dated
    threshold = _threshold(suite, overrides)
    share = len(failed_rows) / len(dated) if dated else 0.0
    return TableVerdict(
        "source", suite.table, len(dated), len(failed_rows), threshold, share > threshold
    )


def _threshold(suite: Suite, overrides: float | Mapping[str, float] | None) -> float:
    if isinstance(overrides, Mapping) and suite.table in overrides:
        return float(overrides[suite.table])
    if isinstance(overrides, int | float):
        return float(overrides)
    return float(suite.threshold if suite.threshold is not None else 0.01)


def _record(conn: Any, report: AuditReport) -> None:
    """Store one row per table and rule, plus one per table for all its rules together."""
    verdicts = {v.table: v for v in report.verdicts}
    rows = []
    for result in report.results:
        verdict = verdicts[result.table]
        rows.append(
            {
                "table_name": result.table,
                "rule": result.rule,
                "rows_checked": result.rows_checked,
                "rows_failed": result.rows_failed,
                "example_ids": result.example_ids,
                "threshold": verdict.threshold,
                "outcome": _outcome(result.rows_failed, verdict.refused and result.blocking),
            }
        )
    for verdict in report.verdicts:
        rows.append(
            {
                "table_name": verdict.table,
                "rule": "all_rules",
                "rows_checked": verdict.rows_checked,
                "rows_failed": verdict.rows_failed,
                "example_ids": [],
                "threshold": verdict.threshold,
                "outcome": _outcome(verdict.rows_failed, verdict.refused),
            }
        )
    with conn.cursor() as cur:
        for row in rows:
            cur.execute(
                load_sql("quality/record_result"),
                {"business_date": report.business_date, "run_id": report.run_id, **row},
            )
    conn.commit()


def _outcome(rows_failed: int, refused: bool) -> str:
    if refused and rows_failed:
        return "refused"
    return "warning" if rows_failed else "passed"


def _refusal_message(report: AuditReport) -> str:
    parts = []
    for verdict in report.refused:
        rules = ", ".join(
            f"{r.rule}: {r.rows_failed}"
            for r in report.results
            if r.table == verdict.table and r.rows_failed and r.blocking
        )
        if verdict.kind == "source":
            parts.append(
                f"{verdict.table}: {verdict.rows_failed} of {verdict.rows_checked} rows "
                f"({verdict.share:.2%}) fail, above the {verdict.threshold:.2%} threshold ({rules})"
            )
        else:
            parts.append(f"{verdict.table} (output): {rules}")
    return f"Business date {report.business_date} not published. " + "; ".join(parts)


def data_docs_dir(business_date: date, run_id: str) -> Path:
    """Where the Great Expectations Data Docs of one run are written (its `index.html`)."""
    base = Path(os.environ.get("AANS_DATA_DOCS_DIR", LOCAL_DIR / "data_docs"))
    return base / business_date.isoformat() / re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


def _context(docs_folder: Path) -> Any:
    """An ephemeral Great Expectations context whose Data Docs go to `docs_folder`.

    Limitation: Great Expectations' per-suite set-up costs seconds a run whatever the day's size,
    most of a backfill's time; acceptable while a day still takes seconds, not minutes.
    """
    # Great Expectations reports usage to its vendor unless told not to; nothing leaves here.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.add_data_docs_site(
        site_name="run",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_folder),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context
