"""Rules every DAG of the project obeys, checked on the real DagBag of `dags/`."""

import socket
from datetime import timedelta
from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
# The DAG ids other tools drive the project through (DESIGN section 3).
FIXED_DAG_IDS = {
    "analytics_daily",
    "analytics_intraday",
    "metabase_provision",
    "alert_checks",
    "api_performance",
}


class Forbidden(AssertionError):
    pass


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise Forbidden(f"parsing the DAG files {what}")

    return refuse


@pytest.fixture(scope="module")
def dagbag():
    """The DagBag of `dags/`, parsed while every way out to a database or network fails."""
    import psycopg
    import psycopg2
    from airflow.sdk import BaseHook, Variable

    with pytest.MonkeyPatch.context() as patch:
        # The suite runs tasks without retries; the policy is checked as deployed.
        patch.delenv("AANS_TASK_RETRIES", raising=False)
        patch.delenv("AANS_RETRY_DELAY_SECONDS", raising=False)
        patch.setattr(psycopg2, "connect", _refuse("opened a psycopg2 connection"))
        patch.setattr(psycopg.Connection, "connect", _refuse("opened a psycopg connection"))
        patch.setattr(socket, "create_connection", _refuse("opened a network connection"))
        patch.setattr(BaseHook, "get_connection", _refuse("looked up a connection"))
        patch.setattr(Variable, "get", _refuse("read a Variable"))
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAGS_FOLDER))
    return bag


def test_every_dag_file_imports_cleanly(dagbag):
    assert dagbag.import_errors == {}
    files = {Path(dag.fileloc).stem for dag in dagbag.dags.values()}
    assert files == {path.stem for path in DAGS_FOLDER.glob("*.py")}


def test_the_fixed_dag_ids_exist_one_per_file_named_after_it(dagbag):
    assert set(dagbag.dag_ids) == FIXED_DAG_IDS
    for dag in dagbag.dags.values():
        assert Path(dag.fileloc).stem == dag.dag_id


@pytest.mark.parametrize("dag_id", sorted(FIXED_DAG_IDS))
def test_dag_policy(dagbag, dag_id):
    dag = dagbag.dags[dag_id]

    assert "aans" in dag.tags
    assert dag.doc_md and dag.doc_md.strip().startswith("###"), "a Markdown docstring"
    for task in dag.tasks:
        assert task.owner == "aans-analytics", task.task_id
        assert task.retries >= 1, task.task_id
        assert task.retry_delay >= timedelta(seconds=10), task.task_id
        assert task.on_failure_callback, task.task_id


def test_task_ids_read_verb_object(dagbag):
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            words = task.task_id.split("_")
            assert len(words) >= 2 and task.task_id.islower(), f"{dag.dag_id}.{task.task_id}"


def test_a_daily_run_has_its_business_date_as_logical_date_and_waits_for_every_zone(dagbag):
    from datetime import UTC, datetime

    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable

    dag = dagbag.dags["analytics_daily"]
    # The scheduler's view of the timetable: what the DAG serialises to.
    timetable = decode_timetable(encode_timetable(dag.timetable))
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=_restriction(datetime(2026, 11, 5, tzinfo=UTC)),
    )
    # The run of business date D: logical date D at midnight UTC, created when D ends in UTC;
    # its first task then waits, without holding a worker, until every cafe has ended D.
    assert info.logical_date == datetime(2026, 11, 5, tzinfo=UTC)
    assert info.run_after == datetime(2026, 11, 6, tzinfo=UTC)
    stage = dag.get_task("stage_day")
    assert stage.mode == "reschedule"
    assert stage.timeout >= timedelta(hours=12).total_seconds()


def _restriction(earliest):
    from airflow.timetables.base import TimeRestriction

    return TimeRestriction(earliest=earliest, latest=None, catchup=True)
