"""A strict Metabase stand-in for tests, written from shared/contracts (Metabase part A and C).

It validates what a real Metabase validates (auth, non-blank strings, dashcard fields), answers
in Metabase's shapes (`{data, total}` for databases and search, plain arrays for cards,
dashboards, collections and groups, MBQL 5 `dataset_query` from card endpoints), and can be told
to fail: 5xx answers (before or after doing the work), stalls past the client's timeout, and
expired sessions. It runs in-process on 127.0.0.1 with an ephemeral port.
"""

import copy
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

GRID_WIDTH = 24
PASSWORD_PLACEHOLDER = "**MetabasePass**"


class HttpError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def validation_error(key: str, message: str, detail: str | None = None) -> HttpError:
    return HttpError(400, {"errors": {key: message}, "specific-errors": {key: [detail or message]}})


def non_blank(body: dict, key: str, required: bool = True, nullable: bool = False) -> None:
    if key not in body:
        if required:
            raise validation_error(key, "value must be a non-blank string.", "missing required key")
        return
    value = body[key]
    if value is None and nullable:
        return
    if not isinstance(value, str) or not value.strip():
        raise validation_error(key, "value must be a non-blank string.", "should be non-blank")


def positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@dataclass
class Fault:
    method: str
    pattern: re.Pattern
    kind: str  # "status" | "status_after" (do the work, then fail) | "stall"
    times: int
    status: int = 503
    seconds: float = 0.0


@dataclass
class State:
    setup_token: str | None = field(default_factory=lambda: str(uuid.uuid4()))
    users: dict[str, str] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    api_keys: set[str] = field(default_factory=set)
    next_id: int = 100
    collections: dict[int, dict] = field(default_factory=dict)
    databases: dict[int, dict] = field(default_factory=dict)
    cards: dict[int, dict] = field(default_factory=dict)
    dashboards: dict[int, dict] = field(default_factory=dict)
    groups: dict[int, dict] = field(default_factory=dict)
    data_graph: dict = field(default_factory=lambda: {"revision": 1, "groups": {}})
    collection_graph: dict = field(default_factory=lambda: {"revision": 1, "groups": {}})
    sync_requests: list[int] = field(default_factory=list)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


class MetabaseStandIn:
    """Start with `start()`, stop with `stop()`; `requests` records (method, path, status)."""

    def __init__(self) -> None:
        self.state = State()
        self.state.groups = {
            1: {"id": 1, "name": "All Users", "member_count": 1},
            2: {"id": 2, "name": "Administrators", "member_count": 1},
        }
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []
        self.query_runner: Callable[[dict, list[dict]], dict] | None = None
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle and test controls -------------------------------------------------------
    def start(self) -> "MetabaseStandIn":
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in separate writes; without this, Nagle's algorithm and
            # delayed ACKs add 40 ms to every request.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                standin.handle(self, "GET")

            def do_POST(self) -> None:
                standin.handle(self, "POST")

            def do_PUT(self) -> None:
                standin.handle(self, "PUT")

            def do_DELETE(self) -> None:
                standin.handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def complete_setup(self, email: str, password: str) -> None:
        """Metabase as an admin left it: first user created, setup token used."""
        with self.lock:
            self.state.users[email] = password
            self.state.setup_token = None
            self._personal_collection(email)

    def add_api_key(self) -> str:
        key = "mb_" + uuid.uuid4().hex
        with self.lock:
            self.state.api_keys.add(key)
        return key

    def expire_sessions(self) -> None:
        with self.lock:
            self.state.sessions.clear()

    def fail(
        self, method: str, path: str, status: int = 503, times: int = 1, after: bool = False
    ) -> None:
        """The next `times` matching requests answer `status`; with `after`, the work is done
        first (the answer is lost, not the effect)."""
        kind = "status_after" if after else "status"
        self.faults.append(Fault(method, re.compile(path), kind, times, status))

    def stall(self, method: str, path: str, seconds: float, times: int = 1) -> None:
        """The next `times` matching requests wait `seconds` before answering (a slow server)."""
        self.faults.append(Fault(method, re.compile(path), "stall", times, seconds=seconds))

    def writes(self) -> list[tuple[str, str, int]]:
        """Requests that change state, other than signing in."""
        return [r for r in self.requests if r[0] != "GET" and r[1] not in ("/api/session",)]

    # ---- dispatch ---------------------------------------------------------------------------
    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        path = parts.path
        query = parse_qs(parts.query)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        fault = self._take_fault(method, path)
        try:
            if fault and fault.kind == "stall":
                self._stop.wait(fault.seconds)
            if fault and fault.kind == "status":
                raise HttpError(fault.status, {"message": f"injected {fault.status}"})
            body = json.loads(raw) if raw else None
            with self.lock:
                status, answer = self.route(request, method, path, query, body)
            if fault and fault.kind == "status_after":
                raise HttpError(fault.status, {"message": f"injected {fault.status} after work"})
        except HttpError as err:
            status, answer = err.status, err.body
        except json.JSONDecodeError:
            status, answer = 400, {"message": "Malformed JSON"}
        self.requests.append((method, path, status))
        self._respond(request, status, answer)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.pattern.fullmatch(path):
                    fault.times -= 1
                    return fault
        return None

    @staticmethod
    def _respond(request: BaseHTTPRequestHandler, status: int, answer: Any) -> None:
        if status == 204 or answer is None:
            payload, kind = b"", None
        elif isinstance(answer, str):
            payload, kind = answer.encode(), "text/plain"
        else:
            payload, kind = json.dumps(answer).encode(), "application/json;charset=utf-8"
        try:
            request.send_response(status)
            if kind:
                request.send_header("Content-Type", kind)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer to

    def _authenticated(self, request: BaseHTTPRequestHandler) -> bool:
        session = request.headers.get("X-Metabase-Session")
        if session:
            try:
                uuid.UUID(session)
            except ValueError:
                return False
            if session in self.state.sessions:
                return True
        key = request.headers.get("x-api-key")
        return bool(key and key in self.state.api_keys)

    def route(
        self,
        request: BaseHTTPRequestHandler,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
    ) -> tuple[int, Any]:
        open_routes = {
            ("GET", "/api/session/properties"): self.session_properties,
            ("POST", "/api/session"): self.login,
            ("POST", "/api/setup"): self.setup,
        }
        if (method, path) in open_routes:
            return open_routes[(method, path)](body)
        if not self._authenticated(request):
            return 401, "Unauthenticated"
        for route_method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                ids = [int(group) for group in match.groups()]
                return handler(*ids, query=query, body=body if body is not None else {})
        raise HttpError(404, "API endpoint does not exist.")

    def _routes(self) -> list[tuple[str, str, Callable[..., tuple[int, Any]]]]:
        return [
            ("DELETE", r"/api/session", lambda **_: (204, None)),
            ("GET", r"/api/user/current", self.current_user),
            ("GET", r"/api/collection", self.list_collections),
            ("POST", r"/api/collection", self.create_collection),
            ("GET", r"/api/collection/graph", lambda **_: (200, self.state.collection_graph)),
            ("PUT", r"/api/collection/graph", self.put_collection_graph),
            ("GET", r"/api/collection/(\d+)/items", self.collection_items),
            ("GET", r"/api/database", self.list_databases),
            ("POST", r"/api/database", self.create_database),
            ("GET", r"/api/database/(\d+)", self.get_database),
            ("PUT", r"/api/database/(\d+)", self.update_database),
            ("POST", r"/api/database/(\d+)/sync_schema", self.sync_schema),
            ("GET", r"/api/permissions/group", self.list_groups),
            ("POST", r"/api/permissions/group", self.create_group),
            ("GET", r"/api/permissions/graph", lambda **_: (200, self.state.data_graph)),
            ("PUT", r"/api/permissions/graph", self.put_data_graph),
            ("GET", r"/api/card", self.list_cards),
            ("POST", r"/api/card", self.create_card),
            ("GET", r"/api/card/(\d+)", self.get_card),
            ("PUT", r"/api/card/(\d+)", self.update_card),
            ("DELETE", r"/api/card/(\d+)", self.delete_card),
            ("POST", r"/api/card/(\d+)/query", self.query_card),
            ("GET", r"/api/dashboard", self.list_dashboards),
            ("POST", r"/api/dashboard", self.create_dashboard),
            ("GET", r"/api/dashboard/(\d+)", self.get_dashboard),
            ("PUT", r"/api/dashboard/(\d+)", self.update_dashboard),
            ("GET", r"/api/search", self.search),
        ]

    # ---- session and setup ------------------------------------------------------------------
    def session_properties(self, _body: Any) -> tuple[int, Any]:
        return 200, {
            "setup-token": self.state.setup_token,
            "has-user-setup": bool(self.state.users),
            "version": {"tag": "v0.58.0"},
            "available-locales": [["en", "English"]],
        }

    def login(self, body: Any) -> tuple[int, Any]:
        body = body or {}
        non_blank(body, "username")
        non_blank(body, "password")
        if self.state.users.get(body["username"]) != body["password"]:
            raise HttpError(401, {"errors": {"password": "did not match stored password"}})
        return 200, {"id": self._new_session()}

    def setup(self, body: Any) -> tuple[int, Any]:
        body = body or {}
        if self.state.users:
            raise HttpError(
                403,
                "The /api/setup route can only be used to create the first user, however a user"
                " currently exists.",
            )
        if body.get("token") != self.state.setup_token:
            raise validation_error("token", "Token does not match the setup token.")
        user = body.get("user")
        prefs = body.get("prefs")
        if not isinstance(user, dict):
            raise validation_error("user", "value must be a map.")
        if not isinstance(prefs, dict):
            raise validation_error("prefs", "value must be a map.")
        non_blank(user, "email")
        non_blank(user, "password")
        non_blank(user, "first_name", required=False, nullable=True)
        non_blank(user, "last_name", required=False, nullable=True)
        non_blank(prefs, "site_name")
        self.complete_setup(user["email"], user["password"])
        return 200, {"id": self._new_session()}

    def _new_session(self) -> str:
        session = str(uuid.uuid4())
        self.state.sessions.add(session)
        return session

    def _personal_collection(self, email: str) -> None:
        cid = self.state.new_id()
        self.state.collections[cid] = {
            "id": cid,
            "name": f"{email}'s Personal Collection",
            "location": "/",
            "personal_owner_id": 1,
            "archived": False,
            "description": None,
        }

    def current_user(self, **_: Any) -> tuple[int, Any]:
        email = next(iter(self.state.users), None)
        return 200, {"id": 1, "email": email, "is_superuser": True, "common_name": "Admin"}

    # ---- collections ------------------------------------------------------------------------
    def list_collections(self, query: dict, **_: Any) -> tuple[int, Any]:
        archived = query.get("archived", ["false"])[0] == "true"
        listed = [c for c in self.state.collections.values() if c["archived"] == archived]
        return 200, [dict(c, can_write=True) for c in listed]

    def create_collection(self, body: dict, **_: Any) -> tuple[int, Any]:
        non_blank(body, "name")
        non_blank(body, "description", required=False, nullable=True)
        parent = body.get("parent_id")
        if parent is not None and not positive_int(parent):
            raise validation_error("parent_id", "value must be an integer greater than zero.")
        cid = self.state.new_id()
        collection = {
            "id": cid,
            "name": body["name"],
            "description": body.get("description"),
            "location": "/" if parent is None else f"/{parent}/",
            "personal_owner_id": None,
            "archived": False,
            "slug": body["name"].lower().replace(" ", "_"),
        }
        self.state.collections[cid] = collection
        return 200, collection

    def collection_items(self, cid: int, query: dict, **_: Any) -> tuple[int, Any]:
        if cid not in self.state.collections:
            raise HttpError(404, "Not found.")
        models = query.get("models") or ["card", "dashboard"]
        archived = query.get("archived", ["false"])[0] == "true"
        items = []
        for model, store in (("card", self.state.cards), ("dashboard", self.state.dashboards)):
            if model not in models:
                continue
            for obj in store.values():
                if obj["collection_id"] == cid and obj["archived"] == archived:
                    items.append(
                        {
                            "id": obj["id"],
                            "name": obj["name"],
                            "model": model,
                            "description": obj.get("description"),
                            "archived": obj["archived"],
                        }
                    )
        return 200, {
            "data": items,
            "total": len(items),
            "models": models,
            "limit": None,
            "offset": None,
        }

    # ---- databases --------------------------------------------------------------------------
    def _public_database(self, db: dict) -> dict:
        details = dict(db["details"])
        if "password" in details:
            details["password"] = PASSWORD_PLACEHOLDER
        return dict(db, details=details)

    def list_databases(self, **_: Any) -> tuple[int, Any]:
        data = [self._public_database(db) for db in self.state.databases.values()]
        return 200, {"data": data, "total": len(data)}

    def get_database(self, did: int, **_: Any) -> tuple[int, Any]:
        db = self._database(did)
        return 200, dict(self._public_database(db), schedules={}, **{"can-manage": True})

    def _database(self, did: int) -> dict:
        if did not in self.state.databases:
            raise HttpError(404, "Not found.")
        return self.state.databases[did]

    def create_database(self, body: dict, **_: Any) -> tuple[int, Any]:
        non_blank(body, "name")
        non_blank(body, "engine")
        if not isinstance(body.get("details"), dict):
            raise validation_error("details", "value must be a map.")
        self._check_connection(body["details"])
        did = self.state.new_id()
        db = {
            "id": did,
            "name": body["name"],
            "engine": body["engine"],
            "details": copy.deepcopy(body["details"]),
            "is_full_sync": body.get("is_full_sync", True),
        }
        self.state.databases[did] = db
        return 200, self._public_database(db)

    def update_database(self, did: int, body: dict, **_: Any) -> tuple[int, Any]:
        db = self._database(did)
        non_blank(body, "name", required=False)
        if "details" in body:
            if not isinstance(body["details"], dict):
                raise validation_error("details", "value must be a map.")
            details = dict(body["details"])
            if details.get("password") == PASSWORD_PLACEHOLDER:
                details["password"] = db["details"].get("password")
            self._check_connection(details)
            db["details"] = details
        for key in ("name", "engine"):
            if key in body:
                db[key] = body[key]
        return 200, self._public_database(db)

    @staticmethod
    def _check_connection(details: dict) -> None:
        for key in ("host", "dbname", "user"):
            if not details.get(key):
                raise HttpError(
                    400,
                    {"message": f"Missing connection detail: {key}", "errors": {key: "missing"}},
                )

    def sync_schema(self, did: int, **_: Any) -> tuple[int, Any]:
        self._database(did)
        self.state.sync_requests.append(did)
        return 200, {"status": "ok"}

    # ---- permissions ------------------------------------------------------------------------
    def list_groups(self, **_: Any) -> tuple[int, Any]:
        return 200, list(self.state.groups.values())

    def create_group(self, body: dict, **_: Any) -> tuple[int, Any]:
        non_blank(body, "name")
        if any(g["name"] == body["name"] for g in self.state.groups.values()):
            raise HttpError(400, {"message": "A group with that name already exists."})
        gid = self.state.new_id()
        self.state.groups[gid] = {"id": gid, "name": body["name"], "member_count": 0}
        return 200, self.state.groups[gid]

    def _put_graph(self, graph: dict, body: dict, check: Callable[[str, Any], None]) -> dict:
        if body.get("revision") != graph["revision"]:
            raise HttpError(
                409,
                {
                    "message": "Looks like someone else edited the permissions and your data is out"
                    " of date. Please fetch new data and try again."
                },
            )
        groups = body.get("groups")
        if not isinstance(groups, dict):
            raise validation_error("groups", "value must be a map.")
        for gid, entries in groups.items():
            if not gid.isdigit() or int(gid) not in self.state.groups:
                raise HttpError(400, {"message": f"Unknown group {gid}"})
            for key, value in entries.items():
                check(key, value)
                graph["groups"].setdefault(gid, {})[key] = copy.deepcopy(value)
        graph["revision"] += 1
        return graph

    def put_data_graph(self, body: dict, **_: Any) -> tuple[int, Any]:
        def check(key: str, value: Any) -> None:
            if not key.isdigit() or int(key) not in self.state.databases:
                raise HttpError(400, {"message": f"Unknown database {key}"})
            allowed = {
                "view-data": {"unrestricted", "blocked", "legacy-no-self-service"},
                "create-queries": {"query-builder-and-native", "query-builder", "no"},
            }
            for perm, level in value.items():
                if perm in allowed and level not in allowed[perm]:
                    raise validation_error("groups", f"invalid {perm} value {level!r}")

        return 200, self._put_graph(self.state.data_graph, body, check)

    def put_collection_graph(self, body: dict, **_: Any) -> tuple[int, Any]:
        def check(key: str, value: Any) -> None:
            if key != "root" and (not key.isdigit() or int(key) not in self.state.collections):
                raise HttpError(400, {"message": f"Unknown collection {key}"})
            if value not in ("read", "write", "none"):
                raise validation_error("groups", f"invalid collection permission {value!r}")

        return 200, self._put_graph(self.state.collection_graph, body, check)

    # ---- cards ------------------------------------------------------------------------------
    def _check_collection(self, cid: Any) -> None:
        if cid is None:
            return
        if not positive_int(cid):
            raise validation_error("collection_id", "value must be an integer greater than zero.")
        if cid not in self.state.collections:
            raise HttpError(404, "Not found.")

    def _normalize_query(self, query: Any) -> dict:
        """Legacy native queries are stored (and returned) as MBQL 5, as Metabase ≥ 0.57 does."""
        if not isinstance(query, dict):
            raise validation_error("dataset_query", "value must be a map.")
        if "stages" in query:
            stage = query["stages"][0]
            sql, tags = stage.get("native"), stage.get("template-tags", {})
        elif query.get("type") == "native":
            native = query.get("native") or {}
            sql, tags = native.get("query"), native.get("template-tags", {})
        else:
            raise validation_error("dataset_query", "only native queries are supported here")
        if not isinstance(sql, str) or not sql.strip():
            raise validation_error("dataset_query", "native query must be a non-blank string")
        database = query.get("database")
        if database not in self.state.databases:
            raise HttpError(400, {"message": f"Invalid database id {database!r}"})
        for name, tag in tags.items():
            if not isinstance(tag, dict) or tag.get("name") != name or not tag.get("type"):
                raise validation_error("dataset_query", f"invalid template tag {name!r}")
        return {
            "lib/type": "mbql/query",
            "database": database,
            "stages": [
                {
                    "lib/type": "mbql.stage/native",
                    "native": sql,
                    "template-tags": copy.deepcopy(tags),
                }
            ],
        }

    def list_cards(self, query: dict, **_: Any) -> tuple[int, Any]:
        archived = query.get("f", ["all"])[0] == "archived"
        return 200, [c for c in self.state.cards.values() if c["archived"] == archived]

    def _card(self, card_id: int) -> dict:
        if card_id not in self.state.cards:
            raise HttpError(404, "Not found.")
        return self.state.cards[card_id]

    def get_card(self, card_id: int, **_: Any) -> tuple[int, Any]:
        return 200, dict(self._card(card_id), can_write=True)

    def create_card(self, body: dict, **_: Any) -> tuple[int, Any]:
        non_blank(body, "name")
        non_blank(body, "display")
        non_blank(body, "description", required=False, nullable=True)
        if "dataset_query" not in body:
            raise validation_error("dataset_query", "value must be a map.", "missing required key")
        if not isinstance(body.get("visualization_settings"), dict):
            raise validation_error("visualization_settings", "value must be a map.")
        if body.get("type") not in (None, "question", "model", "metric"):
            raise validation_error("type", "should be either question, model or metric")
        self._check_collection(body.get("collection_id"))
        card_id = self.state.new_id()
        card = {
            "id": card_id,
            "name": body["name"],
            "type": body.get("type") or "question",
            "display": body["display"],
            "description": body.get("description"),
            "collection_id": body.get("collection_id"),
            "visualization_settings": copy.deepcopy(body["visualization_settings"]),
            "dataset_query": self._normalize_query(body["dataset_query"]),
            "archived": False,
            "creator_id": 1,
        }
        self.state.cards[card_id] = card
        return 200, dict(card, can_write=True)

    def update_card(self, card_id: int, body: dict, **_: Any) -> tuple[int, Any]:
        card = self._card(card_id)
        non_blank(body, "name", required=False)
        non_blank(body, "display", required=False)
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise validation_error("description", "value must be a string.")
        if "collection_id" in body:
            self._check_collection(body["collection_id"])
        if "visualization_settings" in body and not isinstance(
            body["visualization_settings"], dict
        ):
            raise validation_error("visualization_settings", "value must be a map.")
        if "archived" in body and not isinstance(body["archived"], bool):
            raise validation_error("archived", "value must be a boolean.")
        updated = dict(card)
        if "dataset_query" in body:
            updated["dataset_query"] = self._normalize_query(body["dataset_query"])
        for key in (
            "name",
            "type",
            "display",
            "description",
            "collection_id",
            "visualization_settings",
            "archived",
        ):
            if key in body:
                updated[key] = copy.deepcopy(body[key])
        self.state.cards[card_id] = updated
        return 200, dict(updated, can_write=True)

    def delete_card(self, card_id: int, **_: Any) -> tuple[int, Any]:
        self._card(card_id)
        del self.state.cards[card_id]
        return 204, None

    def query_card(self, card_id: int, body: dict, **_: Any) -> tuple[int, Any]:
        card = self._card(card_id)
        tags = card["dataset_query"]["stages"][0]["template-tags"]
        parameters = body.get("parameters") or []
        for parameter in parameters:
            target = parameter.get("target")
            if (
                not isinstance(target, list)
                or len(target) != 2
                or target[0] != "variable"
                or not isinstance(target[1], list)
                or target[1][0] != "template-tag"
                or target[1][1] not in tags
            ):
                raise validation_error("parameters", f"invalid parameter target {target!r}")
            if not parameter.get("type"):
                raise validation_error("parameters", "parameter type is required")
        if self.query_runner is None:
            data = {"rows": [], "cols": []}
        else:
            data = self.query_runner(card, parameters)
        return 202, {
            "data": data,
            "row_count": len(data["rows"]),
            "status": "completed",
            "database_id": card["dataset_query"]["database"],
        }

    # ---- dashboards -------------------------------------------------------------------------
    def _dashboard(self, dashboard_id: int) -> dict:
        if dashboard_id not in self.state.dashboards:
            raise HttpError(404, "Not found.")
        return self.state.dashboards[dashboard_id]

    def list_dashboards(self, query: dict, **_: Any) -> tuple[int, Any]:
        archived = query.get("f", ["all"])[0] == "archived"
        return 200, [
            {k: v for k, v in d.items() if k != "dashcards"}
            for d in self.state.dashboards.values()
            if d["archived"] == archived
        ]

    def get_dashboard(self, dashboard_id: int, **_: Any) -> tuple[int, Any]:
        dashboard = copy.deepcopy(self._dashboard(dashboard_id))
        for dashcard in dashboard["dashcards"]:
            card = self.state.cards.get(dashcard["card_id"])
            dashcard["card"] = copy.deepcopy(card) if card else {"id": dashcard["card_id"]}
        return 200, dict(dashboard, can_write=True, param_fields=None)

    @staticmethod
    def _check_parameters(parameters: Any) -> None:
        if not isinstance(parameters, list):
            raise validation_error("parameters", "value must be an array.")
        for parameter in parameters:
            for key in ("id", "slug", "type"):
                if not isinstance(parameter.get(key), str) or not parameter[key]:
                    raise validation_error("parameters", f"parameter needs a non-blank {key}")

    def create_dashboard(self, body: dict, **_: Any) -> tuple[int, Any]:
        non_blank(body, "name")
        self._check_collection(body.get("collection_id"))
        parameters = body.get("parameters") or []
        self._check_parameters(parameters)
        dashboard_id = self.state.new_id()
        self.state.dashboards[dashboard_id] = {
            "id": dashboard_id,
            "name": body["name"],
            "description": body.get("description"),
            "collection_id": body.get("collection_id"),
            "parameters": copy.deepcopy(parameters),
            "dashcards": [],
            "tabs": [],
            "archived": False,
            "width": "fixed",
        }
        return self.get_dashboard(dashboard_id)

    def update_dashboard(self, dashboard_id: int, body: dict, **_: Any) -> tuple[int, Any]:
        dashboard = self._dashboard(dashboard_id)
        if dashboard["archived"] and body.get("archived") is not False:
            raise HttpError(400, {"message": "The object has been archived."})
        non_blank(body, "name", required=False)
        if "collection_id" in body:
            self._check_collection(body["collection_id"])
        if "width" in body and body["width"] not in ("fixed", "full"):
            raise validation_error("width", 'should be either "fixed" or "full"')
        updated = copy.deepcopy(dashboard)
        if "parameters" in body:
            self._check_parameters(body["parameters"])
            updated["parameters"] = copy.deepcopy(body["parameters"])
        for key in ("name", "description", "collection_id", "archived", "width"):
            if key in body:
                updated[key] = body[key]
        if "tabs" in body:
            updated["tabs"] = self._replace_tabs(updated["tabs"], body["tabs"])
        if "dashcards" in body:
            updated["dashcards"] = self._replace_dashcards(updated, body["dashcards"], dashboard_id)
        self.state.dashboards[dashboard_id] = updated
        return self.get_dashboard(dashboard_id)

    def _replace_tabs(self, live: list[dict], tabs: Any) -> list[dict]:
        if not isinstance(tabs, list):
            raise validation_error("tabs", "value must be an array.")
        result = []
        for tab in tabs:
            non_blank(tab, "name")
            tab_id = tab.get("id")
            if not isinstance(tab_id, int):
                raise validation_error("tabs", "each tab needs an integer id")
            new_id = tab_id if tab_id > 0 else self.state.new_id()
            result.append({"id": new_id, "name": tab["name"]})
        return result

    def _replace_dashcards(self, dashboard: dict, dashcards: Any, dashboard_id: int) -> list[dict]:
        """Full replacement: negative ids create, known ids update, missing ids are deleted."""
        if not isinstance(dashcards, list):
            raise validation_error("dashcards", "value must be seq of maps in which ids are unique")
        ids = [dc.get("id") if isinstance(dc, dict) else None for dc in dashcards]
        if len(set(map(str, ids))) != len(ids):
            raise validation_error("dashcards", "value must be seq of maps in which ids are unique")
        live_ids = {dc["id"] for dc in dashboard["dashcards"]}
        parameter_ids = {p["id"] for p in dashboard["parameters"]}
        result = []
        for dc in dashcards:
            dc_id = dc.get("id")
            if not isinstance(dc_id, int) or isinstance(dc_id, bool):
                raise validation_error("dashcards", "value must be an integer.", "id")
            if dc_id >= 0 and dc_id not in live_ids:
                raise HttpError(404, "Not found.")
            for key in ("size_x", "size_y"):
                if not positive_int(dc.get(key)):
                    raise validation_error(
                        "dashcards", "value must be an integer greater than zero.", key
                    )
            for key in ("row", "col"):
                value = dc.get(key)
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise validation_error(
                        "dashcards", "value must be an integer greater or equal to than zero.", key
                    )
            if dc["col"] + dc["size_x"] > GRID_WIDTH:
                raise validation_error("dashcards", f"card is wider than the {GRID_WIDTH} columns")
            card_id = dc.get("card_id")
            if card_id is not None:
                card = self._card(card_id)
                if card.get("dashboard_id") not in (None, dashboard_id):
                    raise HttpError(400, {"message": "card is internal to another dashboard"})
            for mapping in dc.get("parameter_mappings") or []:
                if mapping.get("parameter_id") not in parameter_ids:
                    raise validation_error(
                        "dashcards", f"unknown parameter {mapping.get('parameter_id')!r}"
                    )
                if mapping.get("card_id") != card_id:
                    raise validation_error("dashcards", "parameter mapping for another card")
            if dashboard["tabs"] and dc.get("dashboard_tab_id") is None:
                raise HttpError(
                    400, {"message": "This dashboard has tab, makes sure every card has a tab"}
                )
            result.append(
                {
                    "id": dc_id if dc_id >= 0 else self.state.new_id(),
                    "card_id": card_id,
                    "row": dc["row"],
                    "col": dc["col"],
                    "size_x": dc["size_x"],
                    "size_y": dc["size_y"],
                    "parameter_mappings": copy.deepcopy(dc.get("parameter_mappings") or []),
                    "visualization_settings": copy.deepcopy(dc.get("visualization_settings") or {}),
                    "dashboard_tab_id": dc.get("dashboard_tab_id"),
                    "series": [],
                }
            )
        return result

    # ---- search -----------------------------------------------------------------------------
    def search(self, query: dict, **_: Any) -> tuple[int, Any]:
        q = (query.get("q") or [""])[0].lower()
        models = query.get("models") or ["card", "dashboard", "collection"]
        data = []
        stores = (
            ("card", self.state.cards),
            ("dashboard", self.state.dashboards),
            ("collection", self.state.collections),
        )
        for model, store in stores:
            if model not in models:
                continue
            for obj in store.values():
                # Fuzzy like the real one: any word of the query in the name matches.
                if obj["archived"] or not any(w in obj["name"].lower() for w in q.split()):
                    continue
                collection = self.state.collections.get(obj.get("collection_id"))
                data.append(
                    {
                        "id": obj["id"],
                        "name": obj["name"],
                        "model": model,
                        "archived": False,
                        "collection": {
                            "id": collection["id"] if collection else None,
                            "name": collection["name"] if collection else None,
                        },
                    }
                )
        return 200, {
            "data": data,
            "total": len(data),
            "models": models,
            "limit": None,
            "offset": None,
            "engine": "search.engine/in-place",
        }
