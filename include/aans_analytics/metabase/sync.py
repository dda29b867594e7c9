"""Make a Metabase instance match the dashboard definitions, and report what had to change.

The sync owns one collection (`MANAGED_COLLECTION`), the warehouse database entry, two permission
groups and every card and dashboard inside that collection. It reads the live state, compares it
with the definitions and writes only the differences: a second run writes nothing. What the
definitions no longer hold is archived (Metabase's soft delete, restorable from the Trash), and
only inside the managed collection, so hand-made questions elsewhere are never touched.
"""

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aans_analytics.metabase import permissions
from aans_analytics.metabase.client import MetabaseError
from aans_analytics.metabase.definitions import Card, Dashboard

log = logging.getLogger(__name__)

MANAGED_COLLECTION = "AANS analytics"
MANAGED_COLLECTION_DESCRIPTION = (
    "Dashboards kept in step with the aans-analytics repository by metabase_provision. "
    "Edits made here by hand are put back on the next sync."
)
DATABASE_NAME = "AANS analytics warehouse"
# The card keys compared with the definition; anything else Metabase stores is left alone.
CARD_FIELDS = ("name", "display", "description", "collection_id", "visualization_settings")
TAG_FIELDS = ("name", "display-name", "type", "required", "default")


@dataclass(frozen=True)
class WarehouseSettings:
    """How Metabase reaches the warehouse: as the read-only role, limited to schema analytics."""

    host: str
    port: int
    dbname: str
    user: str
    password: str
    ssl: bool = False
    name: str = DATABASE_NAME

    def details(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "password": self.password,
            "ssl": self.ssl,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": "analytics",
        }

    def __repr__(self) -> str:
        return f"WarehouseSettings(host={self.host!r}, dbname={self.dbname!r}, user={self.user!r})"


def warehouse_from_connection(conn: Any) -> WarehouseSettings:
    """From an Airflow postgres connection (`metabase_warehouse`) holding the read-only login."""
    extra = conn.extra_dejson or {}
    return WarehouseSettings(
        host=conn.host or "localhost",
        port=int(conn.port or 5432),
        dbname=conn.schema or "aans",
        user=conn.login,
        password=conn.password or "",
        ssl=str(extra.get("sslmode", "disable")) not in ("disable", "allow", "prefer"),
    )


@dataclass(frozen=True)
class Change:
    kind: str
    action: str
    name: str
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.action} {self.kind} {self.name!r}{detail}"


@dataclass
class SyncReport:
    """What differed between Metabase and the definitions; `applied` is False in plan mode."""

    applied: bool
    changes: list[Change] = field(default_factory=list)

    @property
    def drift(self) -> list[Change]:
        """Objects that existed but had been changed, by hand or by an older definition."""
        return [change for change in self.changes if change.action == "put back"]

    def summary(self) -> str:
        if not self.changes:
            return "Metabase matches the definitions: nothing to change."
        verb = "Changed" if self.applied else "Would change"
        lines = [f"{verb} {len(self.changes)} object(s):"]
        lines += [f"  {change}" for change in self.changes]
        return "\n".join(lines)


def sync(
    client: Any,
    dashboards: list[Dashboard],
    warehouse: WarehouseSettings,
    apply: bool = True,
) -> SyncReport:
    """Bring Metabase in line with `dashboards`; with `apply=False`, only report the changes."""
    syncer = _Syncer(client, warehouse, apply)
    syncer.run_all(dashboards)
    for change in syncer.report.changes:
        log.info("%s %s", "Applied:" if apply else "Planned:", change)
    log.info(
        "Metabase sync %s: %s change(s), %s put back",
        "done" if apply else "planned",
        len(syncer.report.changes),
        len(syncer.report.drift),
    )
    return syncer.report


class _Syncer:
    def __init__(self, client: Any, warehouse: WarehouseSettings, apply: bool) -> None:
        self.client = client
        self.warehouse = warehouse
        self.report = SyncReport(applied=apply)

    # The two primitives the steps share: record a difference, and write only when applying.
    def change(self, kind: str, action: str, name: str, detail: str = "") -> None:
        self.report.changes.append(Change(kind, action, name, detail))

    def run(self, write: Callable[[], Any]) -> Any:
        return write() if self.report.applied else None

    def run_all(self, dashboards: list[Dashboard]) -> None:
        collection_id = self.sync_collection()
        database_id = self.sync_database()
        group_ids = permissions.sync_groups(self.client, self)
        permissions.sync_data_permissions(self.client, self, group_ids, database_id)
        permissions.sync_collection_permissions(self.client, self, group_ids, collection_id)

        live = self.collection_items(collection_id, archived=False)
        trash = self.collection_items(collection_id, archived=True)
        card_ids: dict[str, int | None] = {}
        for dashboard in dashboards:
            for card in dashboard.cards:
                card_ids[card.name] = self.sync_card(
                    dashboard, card, database_id, collection_id, live, trash
                )
        wanted_cards = {card.name for dashboard in dashboards for card in dashboard.cards}
        self.archive_removed(live, "card", wanted_cards)

        for dashboard in dashboards:
            self.sync_dashboard(dashboard, card_ids, collection_id, live, trash)
        self.archive_removed(live, "dashboard", {dashboard.name for dashboard in dashboards})

    def sync_collection(self) -> int | None:
        for collection in self.client.get("/api/collection"):
            if (
                collection.get("name") == MANAGED_COLLECTION
                and not collection.get("archived")
                and collection.get("personal_owner_id") is None
                and collection.get("location", "/") == "/"
            ):
                return int(collection["id"])
        self.change("collection", "create", MANAGED_COLLECTION)
        body = {"name": MANAGED_COLLECTION, "description": MANAGED_COLLECTION_DESCRIPTION}
        created = self.create("/api/collection", body, self.find_collection)
        return int(created["id"]) if created else None

    def find_collection(self) -> dict[str, Any] | None:
        for collection in self.client.get("/api/collection"):
            if collection.get("name") == MANAGED_COLLECTION and not collection.get("archived"):
                return dict(collection)
        return None

    def sync_database(self) -> int | None:
        desired = self.warehouse.details()
        live = self.find_database()
        if live is None:
            self.change("database", "create", self.warehouse.name, _where(desired))
            body = {
                "name": self.warehouse.name,
                "engine": "postgres",
                "details": desired,
                "is_full_sync": True,
            }
            created = self.create("/api/database", body, self.find_database)
            if created:
                self.run(lambda: self.client.post(f"/api/database/{created['id']}/sync_schema"))
            return int(created["id"]) if created else None

        database_id = int(live["id"])
        live_details = live.get("details") or {}
        # Limitation: Metabase never returns the stored password, so a changed password alone is
        # not seen; rotate it by changing the role's password and the connection together, then
        # run the sync with a changed host detail or re-save the database in Metabase.
        differing = sorted(
            key
            for key, value in desired.items()
            if key != "password" and live_details.get(key) != value
        )
        if live.get("engine") != "postgres":
            differing.append("engine")
        if differing:
            self.change("database", "put back", self.warehouse.name, ", ".join(differing))
            body = {"name": self.warehouse.name, "engine": "postgres", "details": desired}
            self.run(lambda: self.client.put(f"/api/database/{database_id}", body))
            self.run(lambda: self.client.post(f"/api/database/{database_id}/sync_schema"))
        return database_id

    def find_database(self) -> dict[str, Any] | None:
        answer = self.client.get("/api/database")
        for database in answer["data"]:
            if database.get("name") == self.warehouse.name:
                return dict(database)
        return None

    def collection_items(self, collection_id: int | None, archived: bool) -> list[dict[str, Any]]:
        """Cards and dashboards directly in the managed collection (or in the Trash from it)."""
        if collection_id is None:
            return []
        params: dict[str, Any] = {"models": ["card", "dashboard"]}
        if archived:
            params["archived"] = "true"
        answer = self.client.get(f"/api/collection/{collection_id}/items", params)
        items = answer["data"] if isinstance(answer, dict) else answer
        return [dict(item) for item in items]

    def sync_card(
        self,
        dashboard: Dashboard,
        card: Card,
        database_id: int | None,
        collection_id: int | None,
        live: list[dict[str, Any]],
        trash: list[dict[str, Any]],
    ) -> int | None:
        desired = card_body(dashboard, card, database_id, collection_id)
        existing = _item(live, "card", card.name) or _item(trash, "card", card.name)
        if existing is None:
            self.change("card", "create", card.name, f"{card.display} on {dashboard.name}")
            created = self.create(
                "/api/card", desired, lambda: self.find_item(collection_id, "card", card.name)
            )
            return int(created["id"]) if created else None

        card_id = int(existing["id"])
        current = self.client.get(f"/api/card/{card_id}")
        differing = card_differences(current, desired)
        if differing:
            action = "restore" if current.get("archived") else "put back"
            self.change("card", action, card.name, ", ".join(differing))
            body = {**desired, "archived": False}
            self.run(lambda: self.client.put(f"/api/card/{card_id}", body))
        return card_id

    def sync_dashboard(
        self,
        dashboard: Dashboard,
        card_ids: dict[str, int | None],
        collection_id: int | None,
        live: list[dict[str, Any]],
        trash: list[dict[str, Any]],
    ) -> None:
        existing = _item(live, "dashboard", dashboard.name) or _item(
            trash, "dashboard", dashboard.name
        )
        if existing is None:
            self.change("dashboard", "create", dashboard.name, f"{len(dashboard.cards)} cards")
            body = {
                "name": dashboard.name,
                "description": dashboard.description,
                "collection_id": collection_id,
                "parameters": [p.metabase_parameter(dashboard.slug) for p in dashboard.parameters],
            }
            created = self.create(
                "/api/dashboard",
                body,
                lambda: self.find_item(collection_id, "dashboard", dashboard.name),
            )
            if created is None:
                return
            current = self.client.get(f"/api/dashboard/{created['id']}")
        else:
            current = self.client.get(f"/api/dashboard/{existing['id']}")

        desired = dashboard_body(dashboard, card_ids, collection_id, current.get("dashcards", []))
        differing = dashboard_differences(current, desired)
        if not differing:
            return
        if existing is not None:
            action = "restore" if current.get("archived") else "put back"
            self.change("dashboard", action, dashboard.name, ", ".join(differing))
        if current.get("tabs"):
            desired["tabs"] = []
        self.run(lambda: self.client.put(f"/api/dashboard/{current['id']}", desired))

    def archive_removed(self, live: list[dict[str, Any]], model: str, wanted: set[str]) -> None:
        for item in live:
            if item.get("model") == model and item.get("name") not in wanted:
                self.change(model, "archive", item["name"], "no longer defined")
                path = f"/api/{model}/{item['id']}"
                self.run(functools.partial(self.client.put, path, {"archived": True}))

    def find_item(self, collection_id: int | None, model: str, name: str) -> dict[str, Any] | None:
        return _item(self.collection_items(collection_id, archived=False), model, name)

    def create(
        self, path: str, body: dict[str, Any], find: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """POST once; when the answer is lost (5xx, timeout), look for the object before trying
        again, because the first POST may have created it.
        """
        if not self.report.applied:
            return None
        try:
            created: dict[str, Any] = self.client.post(path, body)
            return created
        except MetabaseError as exc:
            if exc.status and exc.status < 500:
                raise
            log.warning("POST %s failed (%s); checking whether it took effect", path, exc.message)
        found = find()
        if found is not None:
            log.info("POST %s had created %s before failing; using it", path, found.get("id"))
            return found
        created = self.client.post(path, body)
        return created


def card_body(
    dashboard: Dashboard, card: Card, database_id: int | None, collection_id: int | None
) -> dict[str, Any]:
    """The card as POST/PUT /api/card takes it: a native question in legacy (MBQL 4) form."""
    return {
        "name": card.name,
        "type": "question",
        "display": card.display,
        "description": card.description,
        "collection_id": collection_id,
        "visualization_settings": card.visualization_settings,
        "dataset_query": {
            "type": "native",
            "database": database_id,
            "native": {"query": card.sql, "template-tags": dashboard.template_tags(card)},
        },
    }


def native_query(dataset_query: dict[str, Any]) -> tuple[Any, str | None, dict[str, Any]]:
    """(database, SQL, template tags) of a native query, whether MBQL 4 or MBQL 5 shaped."""
    if "stages" in dataset_query:
        stage = (dataset_query.get("stages") or [{}])[0]
        return dataset_query.get("database"), stage.get("native"), stage.get("template-tags", {})
    native = dataset_query.get("native") or {}
    return dataset_query.get("database"), native.get("query"), native.get("template-tags", {})


def card_differences(live: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    """The fields where the live card departs from the definition."""
    differing = [key for key in CARD_FIELDS if live.get(key) != desired.get(key)]
    if live.get("archived"):
        differing.append("archived")
    live_db, live_sql, live_tags = native_query(live.get("dataset_query") or {})
    want_db, want_sql, want_tags = native_query(desired["dataset_query"])
    if live_db != want_db:
        differing.append("database")
    if live_sql != want_sql:
        differing.append("query")
    if _project_tags(live_tags) != _project_tags(want_tags):
        differing.append("template tags")
    return differing


def _project_tags(tags: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {key: tag.get(key) for key in TAG_FIELDS if tag.get(key) is not None}
        for name, tag in tags.items()
    }


def dashboard_body(
    dashboard: Dashboard,
    card_ids: dict[str, int | None],
    collection_id: int | None,
    live_dashcards: list[dict[str, Any]],
) -> dict[str, Any]:
    """The dashboard as PUT /api/dashboard/:id takes it, with the full set of dashcards.

    A dashcard already showing the card keeps its id (an update); others get negative ids (new);
    live dashcards left out are deleted by Metabase.
    """
    live_by_card = {dc.get("card_id"): dc["id"] for dc in live_dashcards if dc.get("card_id")}
    dashcards = []
    for index, card in enumerate(dashboard.cards, start=1):
        card_id = card_ids.get(card.name)
        mappings = [
            {
                "parameter_id": dashboard.parameter(tag).parameter_id(dashboard.slug),
                "card_id": card_id,
                "target": ["variable", ["template-tag", tag]],
            }
            for tag in card.tags
        ]
        dashcards.append(
            {
                "id": live_by_card.get(card_id, -index),
                "card_id": card_id,
                "row": card.row,
                "col": card.col,
                "size_x": card.size_x,
                "size_y": card.size_y,
                "parameter_mappings": mappings,
                "visualization_settings": {},
            }
        )
    return {
        "name": dashboard.name,
        "description": dashboard.description,
        "collection_id": collection_id,
        "archived": False,
        "width": "full",
        "parameters": [p.metabase_parameter(dashboard.slug) for p in dashboard.parameters],
        "dashcards": dashcards,
    }


def dashboard_differences(live: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    differing = [
        key
        for key in ("name", "description", "collection_id", "width")
        if live.get(key) != desired.get(key)
    ]
    if live.get("archived"):
        differing.append("archived")
    if _project_parameters(live.get("parameters") or []) != desired["parameters"]:
        differing.append("filters")
    if _dashcard_set(live.get("dashcards") or []) != _dashcard_set(desired["dashcards"]):
        differing.append("cards")
    if live.get("tabs"):
        differing.append("tabs")
    return differing


def _project_parameters(parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("id", "name", "slug", "type", "sectionId", "default")
    return [{key: p[key] for key in keys if p.get(key) is not None} for p in parameters]


def _dashcard_set(dashcards: list[dict[str, Any]]) -> set[str]:
    def shape(dc: dict[str, Any]) -> str:
        mappings = sorted(
            (m.get("parameter_id"), m.get("card_id"), json.dumps(m.get("target")))
            for m in dc.get("parameter_mappings") or []
        )
        keys = ("card_id", "row", "col", "size_x", "size_y")
        return json.dumps([[dc.get(key) for key in keys], mappings])

    return {shape(dc) for dc in dashcards}


def _item(items: list[dict[str, Any]], model: str, name: str) -> dict[str, Any] | None:
    for item in items:
        if item.get("model") == model and item.get("name") == name:
            return item
    return None


def _where(details: dict[str, Any]) -> str:
    return f"postgres {details['user']}@{details['host']}:{details['port']}/{details['dbname']}"
