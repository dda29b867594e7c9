"""The DAG file of alert_checks parses without touching a database, connection or Variable."""

from pathlib import Path

from tests.alerts.conftest import ROOT_DAGS


def test_alert_checks_parses_offline_with_its_two_tasks(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    # Any lookup of the warehouse or a channel at parse time would fail loudly.
    monkeypatch.setenv("AIRFLOW_CONN_AANS_POSTGRES", "postgresql://nobody@%2Fnonexistent/none")
    bag = DagBag(str(Path(ROOT_DAGS) / "alert_checks.py"))

    assert bag.import_errors == {}
    dag = bag.dags["alert_checks"]
    assert [task.task_id for task in dag.topological_sort()] == [
        "evaluate_rules",
        "deliver_notifications",
    ]
    assert dag.get_task("deliver_notifications").trigger_rule == "all_done"
    assert "aans" in dag.tags and dag.max_active_runs == 1
    assert dag.doc_md and "evaluate_rules" in dag.doc_md
    assert dag.default_args["on_failure_callback"].__name__ == "on_task_failure"
