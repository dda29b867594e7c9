"""`python -m aans_analytics.demo`, the command behind `make run`, end to end in a private folder.

Real: its own embedded PostgreSQL, a fresh Airflow home with SQLite metadata, the synthetic tenant
and `analytics_daily` run through Airflow. The tenant is tiny (3 cafes, 4 days, no invalid rows)
so that every source row counts; the expected revenue and calls are computed here in Python from
the raw rows and each cafe's time zone, not read back through the project's SQL.
"""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[1]
DAYS = 2
SUMMARY_LINE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})\s+(?P<status>ran|reused|failed)\s+(?P<rows>[\d,]+) rows"
    r"\s+revenue\s+(?P<revenue>[\d,.]+)\s+calls\s+(?P<calls>[\d,]+)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class DemoRun:
    returncode: int
    output: str
    seconds: float

    def summary(self) -> dict[date, dict[str, str]]:
        """The per-day lines after the `Summary:` heading (progress lines come before it)."""
        tail = self.output.split("\nSummary:", 1)[1]
        return {
            date.fromisoformat(match["date"]): match.groupdict()
            for match in SUMMARY_LINE.finditer(tail)
        }


def run_demo(local_dir: Path, *extra: str) -> DemoRun:
    # The demo sets up its own Airflow; nothing of the test session's Airflow may leak into it.
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env["PYTHONPATH"] = str(ROOT / "include")
    env.pop("AANS_LOCAL_DIR", None)
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "aans_analytics.demo", "run", "--local-dir", str(local_dir), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return DemoRun(
        completed.returncode, completed.stdout + completed.stderr, time.monotonic() - started
    )


@pytest.fixture(scope="module")
def demo_dir() -> Iterator[Path]:
    # A short path: the server's socket lives in it and socket paths are limited to 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="aans-demo-"))
    yield folder
    # Stopped through the demo's own `down`, in a process of its own like the server's start.
    stopped = subprocess.run(
        [sys.executable, "-m", "aans_analytics.demo", "down", "--local-dir", str(folder)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "include")},
        capture_output=True,
        timeout=60,
    )
    assert stopped.returncode == 0
    assert not (folder / "pgdata" / "postmaster.pid").exists()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def first_run(demo_dir: Path) -> DemoRun:
    tenant = ("--cafes", "3", "--tenant-days", "4", "--invalid-share", "0")
    return run_demo(demo_dir, *tenant, "--days", str(DAYS))


def query(local_dir: Path, sql: str, params: object = None) -> list[tuple]:
    conn = psycopg2.connect(host=str(local_dir / "pgdata"), user="postgres", dbname="aans")
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def expected_day(local_dir: Path, day: date) -> tuple[Decimal, int]:
    """Revenue of completed orders and number of calls on each cafe's local `day`."""
    zones = dict(query(local_dir, "select id, timezone from cafes"))
    revenue = sum(
        (
            amount
            for cafe_id, created_at, status, amount in query(
                local_dir, "select cafe_id, created_at, status, total_amount from orders"
            )
            if status != "cancelled"
            and created_at.astimezone(ZoneInfo(zones[cafe_id])).date() == day
        ),
        Decimal(0),
    )
    calls = sum(
        1
        for cafe_id, started_at in query(local_dir, "select cafe_id, started_at from calls")
        if local_date(started_at, zones[cafe_id]) == day
    )
    return revenue, calls


def cafes_open_on(local_dir: Path, day: date) -> int:
    """Cafes created before their local `day` ended."""
    return sum(
        1
        for created_at, zone in query(local_dir, "select created_at, timezone from cafes")
        if local_date(created_at, zone) <= day
    )


def dag_runs(local_dir: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(local_dir / "airflow" / "airflow.db")
    try:
        return conn.execute(
            "select run_id, state from dag_run where dag_id = 'analytics_daily' order by run_id"
        ).fetchall()
    finally:
        conn.close()


def test_first_run_publishes_each_day_and_summarises_it(first_run: DemoRun, demo_dir: Path):
    assert first_run.returncode == 0, first_run.output[-3000:]

    summary = first_run.summary()
    assert len(summary) == DAYS
    days = sorted(summary)
    assert (days[-1] - days[0]).days == DAYS - 1
    for day, line in summary.items():
        assert line["status"] == "ran"
        revenue, calls = expected_day(demo_dir, day)
        assert revenue > 0 and calls > 0, f"the tenant has no activity on {day}"
        assert Decimal(line["revenue"].replace(",", "")) == revenue
        assert int(line["calls"].replace(",", "")) == calls

        published = query(
            demo_dir,
            "select count(*), bool_and(is_final) from analytics.order_analytics where date = %s",
            (day,),
        )
        assert published == [(cafes_open_on(demo_dir, day), True)], f"a final row per cafe, {day}"

    assert sorted(state for _, state in dag_runs(demo_dir)) == ["success"] * DAYS
    assert "Where to look next" in first_run.output
    # Airflow's own task logging stays out of the console and lands in the log file.
    assert "[DAG TEST]" not in first_run.output
    assert "[DAG TEST]" in (demo_dir / "logs" / "demo.log").read_text()


def test_second_run_reuses_everything(first_run: DemoRun, demo_dir: Path):
    assert first_run.returncode == 0
    runs_before = dag_runs(demo_dir)
    written_before = query(
        demo_dir, "select cafe_id, date, updated_at from analytics.order_analytics order by 1, 2"
    )
    tenant_before = query(demo_dir, "select count(*) from orders")

    second = run_demo(demo_dir, "--days", str(DAYS))

    assert second.returncode == 0, second.output[-3000:]
    summary = second.summary()
    assert sorted(summary) == sorted(first_run.summary())
    assert {line["status"] for line in summary.values()} == {"reused"}
    for day, line in summary.items():
        assert line["revenue"] == first_run.summary()[day]["revenue"]
    assert dag_runs(demo_dir) == runs_before
    assert (
        query(
            demo_dir,
            "select cafe_id, date, updated_at from analytics.order_analytics order by 1, 2",
        )
        == written_before
    )
    assert query(demo_dir, "select count(*) from orders") == tenant_before
    assert second.seconds < first_run.seconds
