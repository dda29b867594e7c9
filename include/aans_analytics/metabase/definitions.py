"""Dashboard definitions: `include/dashboards/<slug>.yaml` plus `sql/dashboards/<slug>/<card>.sql`.

A definition names its filters (dashboard parameters) and its cards: display type, place on
Metabase's 24-column grid and visualisation settings. Each card's SQL is a native query whose
`{{tag}}` variables must all be filters of its dashboard.
"""

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aans_analytics.metabase import native
from aans_analytics.paths import INCLUDE_DIR, SQL_DIR

DEFINITIONS_DIR = INCLUDE_DIR / "dashboards"
CARD_SQL_DIR = SQL_DIR / "dashboards"
GRID_COLUMNS = 24
DISPLAYS = ("scalar", "gauge", "line", "bar", "row", "pie", "table")
# Template tag type -> (dashboard parameter type, its section in Metabase's filter picker).
PARAMETER_TYPES = {"text": ("string/=", "string"), "date": ("date/single", "date")}
# Fixed namespace so tag ids stay the same from one run (and machine) to the next.
_TAG_NAMESPACE = uuid.UUID("6f1d3c52-5b0e-4d7a-9a54-0c7e2b7d9a31")


class DefinitionError(ValueError):
    """A dashboard definition file is malformed or inconsistent."""


@dataclass(frozen=True)
class Parameter:
    """A dashboard filter, fed to the cards through the template tag of the same name."""

    slug: str
    name: str
    type: str
    default: str | None = None

    def parameter_id(self, dashboard_slug: str) -> str:
        # Metabase uses short random hex ids; a stable one keeps the second sync a no-op.
        return hashlib.sha1(f"{dashboard_slug}/{self.slug}".encode()).hexdigest()[:8]

    def metabase_parameter(self, dashboard_slug: str) -> dict[str, Any]:
        kind, section = PARAMETER_TYPES[self.type]
        parameter: dict[str, Any] = {
            "id": self.parameter_id(dashboard_slug),
            "name": self.name,
            "slug": self.slug,
            "type": kind,
            "sectionId": section,
        }
        if self.default is not None:
            parameter["default"] = self.default
        return parameter


@dataclass(frozen=True)
class Card:
    """A saved native question, shown once on its dashboard."""

    key: str
    name: str
    display: str
    sql: str
    row: int
    col: int
    size_x: int
    size_y: int
    description: str | None = None
    visualization_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def tags(self) -> list[str]:
        return native.template_tags(self.sql)


@dataclass(frozen=True)
class Dashboard:
    slug: str
    name: str
    description: str | None
    parameters: tuple[Parameter, ...]
    cards: tuple[Card, ...]

    def parameter(self, slug: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.slug == slug:
                return parameter
        raise KeyError(slug)

    def template_tags(self, card: Card) -> dict[str, dict[str, Any]]:
        """The card's `template-tags` map as Metabase stores it in a native `dataset_query`."""
        tags: dict[str, dict[str, Any]] = {}
        optional = native.optional_tags(card.sql)
        for tag in card.tags:
            parameter = self.parameter(tag)
            tags[tag] = {
                "id": str(uuid.uuid5(_TAG_NAMESPACE, f"{self.slug}/{card.key}/{tag}")),
                "name": tag,
                "display-name": parameter.name,
                "type": parameter.type,
                "required": tag not in optional,
            }
            if parameter.default is not None:
                tags[tag]["default"] = parameter.default
        return tags

    def defaults(self) -> dict[str, object]:
        """The filter values a picture of the dashboard uses: each parameter's default."""
        return {parameter.slug: parameter.default for parameter in self.parameters}


def load_dashboards(
    definitions_dir: Path = DEFINITIONS_DIR, sql_dir: Path = CARD_SQL_DIR
) -> list[Dashboard]:
    """Every definition in `definitions_dir`, checked, in file name order."""
    import yaml

    dashboards = []
    for path in sorted(definitions_dir.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            dashboards.append(_dashboard(path.stem, raw, sql_dir))
        except (KeyError, TypeError, ValueError) as exc:
            raise DefinitionError(f"{path.name}: {exc}") from exc
    _check_unique([card.name for dashboard in dashboards for card in dashboard.cards], "card")
    _check_unique([dashboard.name for dashboard in dashboards], "dashboard")
    return dashboards


def _dashboard(slug: str, raw: dict[str, Any], sql_dir: Path) -> Dashboard:
    parameters = tuple(
        Parameter(
            slug=item["slug"],
            name=item["name"],
            type=item.get("type", "text"),
            default=item.get("default"),
        )
        for item in raw.get("parameters", [])
    )
    for parameter in parameters:
        if parameter.type not in PARAMETER_TYPES:
            raise DefinitionError(f"parameter {parameter.slug}: unknown type {parameter.type!r}")
    cards = tuple(_card(slug, item, sql_dir) for item in raw["cards"])
    dashboard = Dashboard(
        slug=slug,
        name=raw["name"],
        description=raw.get("description"),
        parameters=parameters,
        cards=cards,
    )
    known = {parameter.slug for parameter in parameters}
    for card in cards:
        unknown = set(card.tags) - known
        if unknown:
            raise DefinitionError(f"card {card.key}: tags {sorted(unknown)} are not parameters")
    _check_unique([card.key for card in cards], "card key")
    _check_layout(cards)
    return dashboard


def _card(dashboard_slug: str, raw: dict[str, Any], sql_dir: Path) -> Card:
    key = raw["key"]
    display = raw["display"]
    if display not in DISPLAYS:
        raise DefinitionError(f"card {key}: display {display!r} is not one of {DISPLAYS}")
    row, col, size_x, size_y = (int(value) for value in raw["position"])
    sql = (sql_dir / dashboard_slug / f"{key}.sql").read_text(encoding="utf-8")
    return Card(
        key=key,
        name=raw["name"],
        display=display,
        sql=sql,
        row=row,
        col=col,
        size_x=size_x,
        size_y=size_y,
        description=raw.get("description"),
        visualization_settings=raw.get("visualization_settings") or {},
    )


def _check_layout(cards: tuple[Card, ...]) -> None:
    taken: dict[tuple[int, int], str] = {}
    for card in cards:
        if card.size_x < 1 or card.size_y < 1 or card.row < 0 or card.col < 0:
            raise DefinitionError(f"card {card.key}: sizes must be positive, places not negative")
        if card.col + card.size_x > GRID_COLUMNS:
            raise DefinitionError(f"card {card.key}: wider than the {GRID_COLUMNS}-column grid")
        for row in range(card.row, card.row + card.size_y):
            for col in range(card.col, card.col + card.size_x):
                if (row, col) in taken:
                    raise DefinitionError(f"card {card.key} overlaps {taken[(row, col)]}")
                taken[(row, col)] = card.key


def _check_unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DefinitionError(f"{what} name {name!r} is used twice")
        seen.add(name)
