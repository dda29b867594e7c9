"""The static picture of the dashboards, drawn from a populated real PostgreSQL."""

import os
import re
from pathlib import Path

from tests.metabase.conftest import ROOT_DIR

from aans_analytics.metabase.render import render_dashboards


def _defined_cards() -> list[tuple[str, str]]:
    import yaml

    cards = []
    for path in sorted((ROOT_DIR / "include" / "dashboards").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        cards += [(card["name"], card["display"]) for card in raw["cards"]]
    return cards


def test_render_draws_every_card_offline(populated_db, tmp_path):
    conn = populated_db.connect()
    try:
        page = render_dashboards(conn, tmp_path / "out")
    finally:
        conn.close()

    text = page.read_text()
    assert page == tmp_path / "out" / "index.html"
    cards = _defined_cards()
    for name, _ in cards:
        assert f"<h3>{name.replace(chr(39), '&#x27;')}</h3>" in text, name
    charts = [display for _, display in cards if display in ("gauge", "line", "bar", "row", "pie")]
    assert text.count('class="plotly-graph-div"') == len(charts)
    assert text.count('<p class="big') == len([d for _, d in cards if d == "scalar"])
    assert '<p class="error">' not in text
    # Self-contained: Plotly's code is inline and nothing is fetched from elsewhere.
    assert not re.search(r"<script[^>]+src=", text)
    assert "Plotly" in text and len(text) > 1_000_000
    # The provisional "today" freshness shows on the page.
    assert "14:45 UTC, provisional" in text
    if os.environ.get("AANS_RENDER_KEEP"):
        Path(os.environ["AANS_RENDER_KEEP"]).write_text(text)


def test_render_keeps_going_when_a_table_is_missing(empty_db, tmp_path):
    conn = empty_db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("create schema analytics")
        conn.commit()
        page = render_dashboards(conn, tmp_path)
    finally:
        conn.close()

    text = page.read_text()
    assert text.count('<p class="error">') == len(_defined_cards())
    assert "does not exist" in text
