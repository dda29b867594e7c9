"""The two permission groups the sync manages, and their rights in Metabase's permission graphs.

Analysts may write native queries on the warehouse and edit the managed collection; cafe managers
may only view the managed collection's saved questions and dashboards.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Group:
    name: str
    data: dict[str, str]
    collection: str


ANALYSTS = Group(
    name="AANS analysts",
    data={"view-data": "unrestricted", "create-queries": "query-builder-and-native"},
    collection="write",
)
CAFE_MANAGERS = Group(
    name="AANS cafe managers",
    # Viewing a saved question's results needs view-data; create-queries "no" keeps them from
    # writing queries of their own.
    data={"view-data": "unrestricted", "create-queries": "no"},
    collection="read",
)
GROUPS = (ANALYSTS, CAFE_MANAGERS)


class Recorder(Protocol):
    """What the sync offers: record a change, and carry out a write unless only planning."""

    def change(self, kind: str, action: str, name: str, detail: str = "") -> None: ...

    def run(self, write: Any) -> Any: ...


def sync_groups(client: Any, sync: Recorder) -> dict[str, int | None]:
    """Make sure both groups exist; return their ids by name (None for one only planned)."""
    live = {group["name"]: group["id"] for group in client.get("/api/permissions/group")}
    ids: dict[str, int | None] = {}
    for group in GROUPS:
        if group.name in live:
            ids[group.name] = live[group.name]
            continue
        sync.change("group", "create", group.name)
        created = sync.run(
            lambda group=group: client.post("/api/permissions/group", {"name": group.name})
        )
        ids[group.name] = created["id"] if created else None
    return ids


def sync_data_permissions(
    client: Any, sync: Recorder, group_ids: dict[str, int | None], database_id: int | None
) -> None:
    """Set each group's rights on the warehouse entry; touch nothing when they are already so."""
    if database_id is None or None in group_ids.values():
        for group in GROUPS:
            sync.change("data permissions", "set", group.name, "after the planned creations")
        return
    graph = client.get("/api/permissions/graph")
    changes: dict[str, Any] = {}
    for group in GROUPS:
        gid = str(group_ids[group.name])
        current = graph.get("groups", {}).get(gid, {}).get(str(database_id), {})
        if not isinstance(current, dict) or any(
            current.get(key) != value for key, value in group.data.items()
        ):
            changes[gid] = {str(database_id): dict(group.data)}
            sync.change("data permissions", "set", group.name, json.dumps(group.data))
    if changes:
        _put_graph(client, sync, "/api/permissions/graph", graph["revision"], changes)


def sync_collection_permissions(
    client: Any, sync: Recorder, group_ids: dict[str, int | None], collection_id: int | None
) -> None:
    """Give each group its access to the managed collection (other collections stay as they are)."""
    if collection_id is None or None in group_ids.values():
        for group in GROUPS:
            sync.change("collection permissions", "set", group.name, "after the planned creations")
        return
    graph = client.get("/api/collection/graph")
    changes: dict[str, Any] = {}
    for group in GROUPS:
        gid = str(group_ids[group.name])
        current = graph.get("groups", {}).get(gid, {}).get(str(collection_id))
        if current != group.collection:
            changes[gid] = {str(collection_id): group.collection}
            sync.change("collection permissions", "set", group.name, group.collection)
    if changes:
        _put_graph(client, sync, "/api/collection/graph", graph["revision"], changes)


def _put_graph(
    client: Any, sync: Recorder, path: str, revision: int, groups: dict[str, Any]
) -> None:
    # Metabase applies a partial graph: only the groups sent change. The revision guards against
    # overwriting an edit made since the graph was read (409).
    sync.run(lambda: client.put(path, {"revision": revision, "groups": groups}))
