"""The command line, in-process, with connections from AIRFLOW_CONN_* variables."""

from urllib.parse import quote

from tests.metabase.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

from aans_analytics.metabase.__main__ import main


def test_plan_then_sync_from_the_command_line(standin, monkeypatch, capsys):
    host = standin.url.removeprefix("http://")
    monkeypatch.setenv(
        "AIRFLOW_CONN_METABASE_DEFAULT",
        f"http://{quote(ADMIN_EMAIL, safe='')}:{quote(ADMIN_PASSWORD, safe='')}@{host}",
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_METABASE_WAREHOUSE", "postgresql://metabase_reader:pw-123456@db.internal/aans"
    )

    assert main(["sync", "--plan"]) == 0
    planned = capsys.readouterr().out
    # Airflow's own log lines share stdout; the summary is what follows them.
    assert "Would change" in planned and "create dashboard 'Calls'" in planned
    assert standin.writes() == []

    assert main(["sync"]) == 0
    assert "Changed" in capsys.readouterr().out
    assert main(["plan"]) == 0
    assert "nothing to change" in capsys.readouterr().out


def test_render_from_the_command_line(populated_db, tmp_path, capsys):
    assert main(["render", "--out", str(tmp_path / "pictures")]) == 0

    page = tmp_path / "pictures" / "index.html"
    assert str(page) in capsys.readouterr().out
    assert "Orders today" in page.read_text()
