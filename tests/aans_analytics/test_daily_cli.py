"""`airflow dags test analytics_daily D`, as a data engineer types it, gives business date D.

The run happens in a separate process, configured only through the environment, as it would be
on a worker: the `aans_postgres` connection comes from AIRFLOW_CONN_AANS_POSTGRES.
"""

import os
import subprocess
import sys

from tests.aans_analytics.test_quality_gate import (
    BUSINESS_DATE,
    CLEAN_DAY,
    CLEAN_KOLKATA,
    KOLKATA,
    NEW_YORK,
    orders_published,
)


def test_airflow_dags_test_publishes_business_date_d(app_db, airflow_db):
    app_db.query(CLEAN_DAY)

    done = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "analytics_daily", BUSINESS_DATE],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=600,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert orders_published(app_db) == {KOLKATA: CLEAN_KOLKATA, NEW_YORK: CLEAN_KOLKATA}
    dates = app_db.query("select distinct date::text, is_final from analytics.call_metrics")
    assert dates == [(BUSINESS_DATE, True)]


def test_a_failed_run_exits_non_zero_and_publishes_nothing(app_db, airflow_db):
    app_db.query(CLEAN_DAY)
    app_db.query("update orders set status = 'lost'")

    done = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "analytics_daily", BUSINESS_DATE],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=600,
    )

    assert done.returncode != 0
    assert app_db.query("select count(*) from analytics.order_analytics") == [(0,)]
