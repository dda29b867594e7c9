"""HTTP endpoints over the managed Metabase dashboards, mounted by the project's Airflow plugin.

`router` is included in the FastAPI app that `plugins/aans_api.py` serves on Airflow's API
server; each route requires Airflow's authentication and read access to `metabase_provision`.
Every call goes to Metabase through `MetabaseClient` with the `metabase_default` connection;
Metabase's own refusals come back as 502 with its message.
"""

import logging
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from aans_analytics.metabase.client import MetabaseClient, MetabaseError
from aans_analytics.metabase.sync import MANAGED_COLLECTION

log = logging.getLogger(__name__)

METABASE_CONN_ID = "metabase_default"
PROVISION_DAG_ID = "metabase_provision"

# Airflow puts no authentication in front of plugin apps: every route requires a user whom
# Airflow's auth manager lets read the runs of metabase_provision (the DAG that owns these
# dashboards). One module-level callable, so tests can override it by identity.
authorized = requires_access_dag("GET", DagAccessEntity.RUN, PROVISION_DAG_ID)

router = APIRouter(prefix="/metabase", tags=["metabase"], dependencies=[Depends(authorized)])


def get_client() -> Iterator[MetabaseClient]:
    """A client for the `metabase_default` connection, closed after the request."""
    from airflow.models.connection import Connection

    from aans_analytics.metabase.client import settings_from_connection

    conn = Connection.get_connection_from_secrets(METABASE_CONN_ID)
    client = MetabaseClient(settings_from_connection(conn), timeout=(5.0, 30.0), retries=1)
    try:
        yield client
    finally:
        client.close()


Client = Annotated[MetabaseClient, Depends(get_client)]


class DashboardSummary(BaseModel):
    id: int
    name: str
    description: str | None = None
    url: str


class CardSummary(BaseModel):
    id: int | None
    name: str | None
    display: str | None
    row: int
    col: int
    size_x: int
    size_y: int


class DashboardDetail(DashboardSummary):
    parameters: list[dict[str, Any]]
    cards: list[CardSummary]


class CardQuery(BaseModel):
    """Filter values by template tag name, e.g. {"cafe_id": "...", "date_from": "2026-01-01"}."""

    parameters: dict[str, str | date] = Field(default_factory=dict)


class CardResult(BaseModel):
    card_id: int
    name: str
    columns: list[str]
    rows: list[list[Any]]
    row_count: int


@router.get("/dashboards", response_model=list[DashboardSummary])
def list_dashboards(client: Client) -> list[DashboardSummary]:
    """The dashboards of the managed collection."""
    collection_id = _managed_collection_id(client)
    items = _call(client.get, f"/api/collection/{collection_id}/items", {"models": "dashboard"})
    return [
        DashboardSummary(
            id=item["id"],
            name=item["name"],
            description=item.get("description"),
            url=f"{client.base_url}/dashboard/{item['id']}",
        )
        for item in _data(items)
        if item.get("model") == "dashboard"
    ]


@router.get("/dashboards/{dashboard_id}", response_model=DashboardDetail)
def get_dashboard(dashboard_id: int, client: Client) -> DashboardDetail:
    """One dashboard of the managed collection, with its filters and cards."""
    dashboard = _call(client.get, f"/api/dashboard/{dashboard_id}")
    if dashboard.get("collection_id") != _managed_collection_id(client):
        raise HTTPException(404, f"Dashboard {dashboard_id} is not a managed dashboard")
    cards = [
        CardSummary(
            id=dashcard.get("card_id"),
            name=(dashcard.get("card") or {}).get("name"),
            display=(dashcard.get("card") or {}).get("display"),
            row=dashcard["row"],
            col=dashcard["col"],
            size_x=dashcard["size_x"],
            size_y=dashcard["size_y"],
        )
        for dashcard in dashboard.get("dashcards", [])
    ]
    return DashboardDetail(
        id=dashboard["id"],
        name=dashboard["name"],
        description=dashboard.get("description"),
        url=f"{client.base_url}/dashboard/{dashboard['id']}",
        parameters=dashboard.get("parameters", []),
        cards=sorted(cards, key=lambda card: (card.row, card.col)),
    )


@router.post("/cards/{card_name}/query", response_model=CardResult)
def run_card(card_name: str, query: CardQuery, client: Client) -> CardResult:
    """Run a managed card, found by its exact name, with filter values for its template tags."""
    collection_id = _managed_collection_id(client)
    items = _call(client.get, f"/api/collection/{collection_id}/items", {"models": "card"})
    matches = [i for i in _data(items) if i.get("model") == "card" and i["name"] == card_name]
    if not matches:
        raise HTTPException(404, f"No managed card is named {card_name!r}")
    card_id = matches[0]["id"]
    card = _call(client.get, f"/api/card/{card_id}")
    tags = _template_tags(card.get("dataset_query") or {})
    unknown = sorted(set(query.parameters) - set(tags))
    if unknown:
        raise HTTPException(422, f"Card {card_name!r} has no filter {', '.join(unknown)}")
    parameters = [
        {
            "type": "date/single" if tags[name].get("type") == "date" else "category",
            "target": ["variable", ["template-tag", name]],
            "value": value.isoformat() if isinstance(value, date) else value,
        }
        for name, value in query.parameters.items()
    ]
    answer = _call(client.post, f"/api/card/{card_id}/query", {"parameters": parameters})
    if answer.get("status") not in (None, "completed"):
        raise HTTPException(502, f"Metabase could not run the card: {answer.get('error')}")
    data = answer.get("data") or {}
    columns = [col.get("name") for col in data.get("cols", [])]
    rows = [list(row) for row in data.get("rows", [])]
    return CardResult(
        card_id=card_id, name=card_name, columns=columns, rows=rows, row_count=len(rows)
    )


def _managed_collection_id(client: MetabaseClient) -> int:
    for collection in _call(client.get, "/api/collection"):
        if collection.get("name") == MANAGED_COLLECTION and not collection.get("archived"):
            return int(collection["id"])
    raise HTTPException(404, f"Metabase has no collection {MANAGED_COLLECTION!r}: run the sync")


def _template_tags(dataset_query: dict[str, Any]) -> dict[str, Any]:
    from aans_analytics.metabase.sync import native_query

    tags: dict[str, Any] = native_query(dataset_query)[2]
    return tags


def _data(answer: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = answer["data"] if isinstance(answer, dict) else answer
    return items


def _call(method: Any, *args: Any) -> Any:
    try:
        return method(*args)
    except MetabaseError as exc:
        if exc.status == 404:
            raise HTTPException(404, exc.message) from exc
        log.warning("Metabase call failed: %s", exc)
        raise HTTPException(502, f"Metabase: {exc.message}") from exc
