"""A picture of the dashboards without Metabase: one self-contained HTML page from the warehouse.

Every card's own SQL runs with its dashboard's default filter values, and its display type picks
the chart: scalar → a big number, gauge → a dial, line / bar / row / pie → a Plotly chart, table
→ a table. Plotly's JavaScript is embedded once in the page, so it opens offline.
"""

import datetime as dt
import html
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aans_analytics.metabase import native
from aans_analytics.metabase.definitions import Card, Dashboard, load_dashboards

log = logging.getLogger(__name__)

PAGE_NAME = "index.html"
ROW_HEIGHT_PX = 56
GAP_PX = 12
TABLE_ROW_LIMIT = 50
COLORS = ["#509EE3", "#88BF4D", "#A989C5", "#EF8C8C", "#F9D45C", "#F2A86F", "#98D9D9", "#7172AD"]


@dataclass(frozen=True)
class CardResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    error: str | None = None


def render_dashboards(conn: Any, out_dir: Path, dashboards: list[Dashboard] | None = None) -> Path:
    """Render every dashboard definition from the tables behind `conn` (psycopg2 or 3) into
    `out_dir/index.html`; return the page's path.
    """
    started = time.monotonic()
    dashboards = load_dashboards() if dashboards is None else dashboards
    sections = []
    for dashboard in dashboards:
        values = dashboard.defaults()
        cards = [(card, run_card(conn, card, values)) for card in dashboard.cards]
        sections.append(_dashboard_html(dashboard, cards))
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / PAGE_NAME
    page.write_text(_page_html(dashboards, sections), encoding="utf-8")
    log.info(
        "Rendered %s dashboards to %s in %.1f s", len(dashboards), page, time.monotonic() - started
    )
    return page


def run_card(conn: Any, card: Card, values: dict[str, object]) -> CardResult:
    """Run a card's SQL read-only with the given filter values; an error is kept, not raised,
    so one broken card does not hide the others.
    """
    statement, params = native.bind(card.sql, values)
    try:
        with conn.cursor() as cur:
            cur.execute("set transaction read only")
            cur.execute(statement, params)
            columns = [_column_name(column) for column in cur.description]
            rows = [tuple(row) for row in cur.fetchall()]
        conn.rollback()
        return CardResult(columns, rows)
    except Exception as exc:  # a database error of any kind becomes the card's message
        conn.rollback()
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("Card %r could not run: %s", card.name, message)
        return CardResult([], [], message)


def _dashboard_html(dashboard: Dashboard, cards: list[tuple[Card, CardResult]]) -> str:
    tiles = []
    for card, result in cards:
        style = (
            f"grid-column: {card.col + 1} / span {card.size_x};"
            f" grid-row: {card.row + 1} / span {card.size_y};"
        )
        description = (
            f'<p class="hint">{html.escape(card.description)}</p>' if card.description else ""
        )
        tiles.append(
            f'<div class="card card-{card.display}" style="{style}">'
            f"<h3>{html.escape(card.name)}</h3>{description}"
            f'<div class="body">{_card_body(card, result)}</div></div>'
        )
    filters = ", ".join(
        f"{p.name}: {html.escape(p.default) if p.default else 'all'}" for p in dashboard.parameters
    )
    return (
        f'<section id="{dashboard.slug}"><h2>{html.escape(dashboard.name)}</h2>'
        f'<p class="lead">{html.escape(dashboard.description or "")}</p>'
        f'<p class="filters">Filters: {filters}</p>'
        f'<div class="grid">{"".join(tiles)}</div></section>'
    )


def _card_body(card: Card, result: CardResult) -> str:
    if result.error:
        return f'<p class="error">Could not load: {html.escape(result.error)}</p>'
    if not result.rows or (card.display in ("scalar", "gauge") and result.rows[0][0] is None):
        return '<p class="empty">No data for these filters yet.</p>'
    if card.display == "scalar":
        value = _format(result.rows[0][0], card, result.columns[0])
        size = "big" if len(value) <= 12 else "big long"
        return f'<p class="{size}">{html.escape(value)}</p>'
    if card.display == "table":
        return _table(result)
    figure = _figure(card, result)
    # The tile spans size_y grid rows and the gaps between them; its title takes the rest.
    height = card.size_y * ROW_HEIGHT_PX + (card.size_y - 1) * GAP_PX - 64
    left = figure.layout.margin.l if figure.layout.margin.l is not None else 48
    figure.update_layout(
        height=max(height, 140),
        margin={"l": left, "r": 40, "t": 8, "b": 32},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"family": "Lato, Helvetica, Arial, sans-serif", "size": 12, "color": "#4C5773"},
        colorway=COLORS,
        legend={"orientation": "h", "y": -0.18},
    )
    config = {"displayModeBar": False, "responsive": True}
    fragment: str = figure.to_html(full_html=False, include_plotlyjs=False, config=config)
    return fragment


def _figure(card: Card, result: CardResult) -> Any:
    import plotly.graph_objects as go

    settings = card.visualization_settings
    columns = result.columns
    data = {name: [_plain(row[i]) for row in result.rows] for i, name in enumerate(columns)}
    dimension = (settings.get("graph.dimensions") or [columns[0]])[0]
    metrics = settings.get("graph.metrics") or [name for name in columns if name != dimension]

    if card.display == "gauge":
        return _gauge(card, data[columns[0]][0])
    if card.display == "pie":
        label = settings.get("pie.dimension", columns[0])
        value = settings.get("pie.metric", columns[1])
        pie = go.Pie(labels=data[label], values=data[value], hole=0.55, sort=False)
        return go.Figure(pie)
    figure = go.Figure()
    colors = {
        metric: options["color"]
        for metric, options in (settings.get("series_settings") or {}).items()
        if isinstance(options, dict) and options.get("color")
    }
    right_axis = _right_axis_metric(card.display, metrics, settings)
    for metric in metrics:
        name = _label(metric)
        marker = {"color": colors[metric]} if metric in colors else None
        if card.display == "line":
            figure.add_trace(
                go.Scatter(
                    x=data[dimension],
                    y=data[metric],
                    name=name,
                    mode="lines+markers",
                    marker=marker,
                    yaxis="y2" if metric == right_axis else "y",
                )
            )
        elif card.display == "row":
            # Largest at the top: Plotly draws the first category at the bottom.
            figure.add_trace(
                go.Bar(
                    y=data[dimension][::-1],
                    x=data[metric][::-1],
                    name=name,
                    orientation="h",
                    marker=marker,
                )
            )
        else:
            figure.add_trace(go.Bar(x=data[dimension], y=data[metric], name=name, marker=marker))
    if settings.get("stackable.stack_type") == "stacked":
        figure.update_layout(barmode="stack")
    figure.update_layout(showlegend=len(metrics) > 1)
    figure.update_xaxes(showgrid=False)
    figure.update_yaxes(gridcolor="#EEF0F3")
    if right_axis:
        figure.update_layout(
            yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero"},
            yaxis={"rangemode": "tozero"},
        )
    if card.display == "row":
        longest = max((len(str(label)) for label in data[dimension]), default=4)
        figure.update_layout(margin={"l": min(24 + 7 * longest, 260)})
    return figure


def _right_axis_metric(display: str, metrics: list[str], settings: dict[str, Any]) -> str | None:
    """The series a line chart draws against a second axis on the right (revenue against
    orders), named in Metabase's own `series_settings.<column>.axis`."""
    if display != "line":
        return None
    series = settings.get("series_settings") or {}
    for metric in metrics:
        if isinstance(series.get(metric), dict) and series[metric].get("axis") == "right":
            return metric
    return None


def _gauge(card: Card, value: float) -> Any:
    import plotly.graph_objects as go

    segments = card.visualization_settings.get("gauge.segments") or []
    top = max([segment["max"] for segment in segments] or [1])
    percent = top <= 1
    steps = [
        {"range": [segment["min"], segment["max"]], "color": segment["color"]}
        for segment in segments
    ]
    indicator = go.Indicator(
        mode="gauge+number",
        value=value * 100 if percent else value,
        number={"suffix": "%" if percent else "", "valueformat": ".1f"},
        gauge={
            "axis": {"range": [0, top * 100 if percent else top]},
            "bar": {"color": "#2E353B", "thickness": 0.25},
            "steps": [
                {**step, "range": [edge * 100 if percent else edge for edge in step["range"]]}
                for step in steps
            ],
        },
    )
    return go.Figure(indicator)


def _table(result: CardResult) -> str:
    head = "".join(f"<th>{html.escape(_label(name))}</th>" for name in result.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_format(v, None, ''))}</td>" for v in row) + "</tr>"
        for row in result.rows[:TABLE_ROW_LIMIT]
    )
    more = len(result.rows) - TABLE_ROW_LIMIT
    note = f'<p class="hint">{more} more rows not shown.</p>' if more > 0 else ""
    return f'<div class="table"><table><tr>{head}</tr>{body}</table></div>{note}'


def _format(value: Any, card: Card | None, column: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M %Z").strip()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal | float):
        decimals = 0 if float(value).is_integer() else 2
        if card is not None:
            key = f'["name","{column}"]'
            setting = card.visualization_settings.get("column_settings", {}).get(key, {})
            decimals = int(setting.get("decimals", decimals))
        return f"{float(value):,.{decimals}f}"
    return str(value)


def _column_name(column: Any) -> str:
    # psycopg 3 describes a column with an object, psycopg2 with a tuple-like one.
    name = getattr(column, "name", None)
    return str(name if name is not None else column[0])


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _label(column: str) -> str:
    return column.replace("_", " ").capitalize()


def _page_html(dashboards: list[Dashboard], sections: list[str]) -> str:
    from plotly.offline import get_plotlyjs

    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#{d.slug}">{html.escape(d.name)}</a>' for d in dashboards)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AANS analytics dashboards</title>
<style>{_CSS}</style>
<script>{get_plotlyjs()}</script>
</head><body>
<header><h1>AANS analytics</h1><p>The Metabase dashboards of this repository, drawn from the
warehouse on {generated}. Today's numbers are provisional until the day is sealed.</p>
<nav>{nav}</nav></header>
<main>{"".join(sections)}</main>
</body></html>
"""


_CSS = f"""
body {{ margin: 0; background: #F9FBFC; color: #2E353B;
  font-family: Lato, "Helvetica Neue", Helvetica, Arial, sans-serif; }}
header {{ background: #fff; border-bottom: 1px solid #EEECEC; padding: 16px 32px; }}
header h1 {{ margin: 0 0 4px; font-size: 22px; color: #509EE3; }}
header p {{ margin: 0 0 8px; color: #696E7B; font-size: 13px; }}
nav a {{ margin-right: 16px; color: #509EE3; text-decoration: none; font-weight: bold;
  font-size: 14px; }}
main {{ padding: 8px 32px 48px; }}
section {{ margin-top: 28px; }}
section h2 {{ margin: 0; font-size: 20px; }}
.lead {{ margin: 4px 0; color: #696E7B; font-size: 14px; }}
.filters {{ margin: 0 0 12px; color: #949AAB; font-size: 12px; }}
.grid {{ display: grid; grid-template-columns: repeat(24, minmax(0, 1fr));
  grid-auto-rows: {ROW_HEIGHT_PX}px; gap: {GAP_PX}px; }}
.card {{ background: #fff; border: 1px solid #EEECEC; border-radius: 8px;
  box-shadow: 0 1px 3px rgba(0,0,0,0.06); padding: 12px 16px; overflow: hidden;
  display: flex; flex-direction: column; }}
.card h3 {{ margin: 0; font-size: 14px; color: #4C5773; }}
.card .hint {{ margin: 2px 0 0; font-size: 11px; color: #949AAB; }}
.card .body {{ flex: 1; min-height: 0; }}
.big {{ font-size: 40px; font-weight: 900; margin: 12px 0 0; color: #2E353B; }}
.big.long {{ font-size: 20px; font-weight: 700; }}
.empty, .error {{ color: #949AAB; font-size: 13px; margin-top: 16px; }}
.error {{ color: #ED6E6E; }}
.table {{ overflow: auto; max-height: 100%; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12px; }}
th {{ text-align: left; color: #949AAB; font-weight: bold; border-bottom: 1px solid #EEECEC;
  padding: 6px 8px; position: sticky; top: 0; background: #fff; }}
td {{ padding: 5px 8px; border-bottom: 1px solid #F4F5F6; white-space: nowrap; }}
"""
