"""
### alert_checks

Evaluates the alert rules of `include/alerts/rules.yaml` and notifies the on-call engineer through
the configured channels (JSON webhook `alerts_webhook`, Slack `alerts_slack`, e-mail `alerts_smtp`).

- **Sources**: `analytics.api_performance` and the daily analytics tables (rules under
  `sql/alerts/`), the reachability of the warehouse itself (`aans_postgres`).
- **Target**: `analytics.alert_events` (one row per rule and subject) and its outbox
  `analytics.alert_deliveries`; the connectivity alert keeps its state in the Airflow Variable
  `aans_alerts_offline_state`, because it must work while the warehouse is down.
- **Schedule**: every 15 minutes, one run at a time; a backfill or a run of a past logical date
  evaluates nothing and pages nobody.

Reading the grid: a firing alert is the normal output and leaves both tasks green (see the
return value of `evaluate_rules` and the notifications). `evaluate_rules` turns red only when a
rule cannot be evaluated (its error names the SQL file); `deliver_notifications` turns red when a
channel refused a notification, which then stays queued for the next run.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from aans_analytics.dag_defaults import PROJECT_TAG, default_args


@dag(
    dag_id="alert_checks",
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=14),
    # The next run, 15 minutes later, is the real retry; one quick retry covers a blip.
    default_args=default_args(retries=1, retry_delay=timedelta(minutes=1)),
    tags=[PROJECT_TAG, "alerts"],
    doc_md=__doc__,
)
def alert_checks() -> None:
    @task
    def evaluate_rules(**context: object) -> dict:
        """Measure every rule, update alert state, queue the notifications it calls for."""
        from aans_analytics.alerts import runs

        return runs.evaluate_rules(context)

    # all_done: notifications decided before a broken rule was met still go out.
    @task(trigger_rule="all_done")
    def deliver_notifications(**context: object) -> dict:
        """Send every queued notification; what a channel refuses stays queued."""
        from aans_analytics.alerts import runs

        return runs.deliver_notifications(context)

    evaluate_rules() >> deliver_notifications()


alert_checks()
