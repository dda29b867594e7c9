"""A strict, in-process stand-in for the Elasticsearch HTTP API, for tests only.

Written from `shared/contracts/metabase-and-elasticsearch-http.md` (parts B, C and D): it validates
what a real server validates (content types, NDJSON framing, index existence, field types for
aggregations) and answers in the shapes the real server uses, so that a client that passes here
works against Elasticsearch. It covers only the APIs this project uses.

Mapping behaviour follows Elasticsearch: an index created by a write takes the mappings of the
highest-priority index template whose pattern matches; unmapped strings become `text` with a
`.keyword` sub-field, so a `terms` aggregation on a string field the template forgot fails with
400 as it would for real.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import math
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

VERSION = "9.2.0"
COMPAT_MAJORS = {"8", "9"}
ACCEPTED_MEDIA = re.compile(
    r"^application/(?:(json|x-ndjson)|vnd\.elasticsearch\+(json|x-ndjson);\s*compatible-with=(\d+))"
    r"\s*(?:;\s*charset=utf-8)?$",
    re.IGNORECASE,
)
WRITE_ACTIONS = {"index", "create", "update", "delete"}
TEMPLATE_KEYS = {
    "index_patterns",
    "composed_of",
    "template",
    "data_stream",
    "priority",
    "version",
    "_meta",
    "allow_auto_create",
    "ignore_missing_component_templates",
    "deprecated",
}
TEMPLATE_BODY_KEYS = {"aliases", "mappings", "settings", "lifecycle", "data_stream_options"}
FIELD_TYPES = {
    "keyword",
    "text",
    "integer",
    "long",
    "short",
    "float",
    "double",
    "half_float",
    "scaled_float",
    "boolean",
    "date",
    "ip",
    "object",
}
NUMERIC_TYPES = {"integer", "long", "short", "float", "double", "half_float", "scaled_float"}
MAX_RESULT_WINDOW = 10_000


class EsError(Exception):
    """An error answered the way Elasticsearch does: `{"error": {...}, "status": n}`."""

    def __init__(self, status: int, error_type: str, reason: str, **extra: Any) -> None:
        super().__init__(reason)
        self.status = status
        self.body = {
            "error": {
                "root_cause": [{"type": error_type, "reason": reason, **extra}],
                "type": error_type,
                "reason": reason,
                **extra,
            },
            "status": status,
        }


@dataclass
class Index:
    name: str
    mappings: dict[str, str]  # flat field path -> type
    settings: dict[str, Any]
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)  # insertion ordered
    seq_no: int = 0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class ElasticsearchStandIn:
    """Serves the stand-in on 127.0.0.1 with an ephemeral port; use as a context manager."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self.indices: dict[str, Index] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.ilm_policies: dict[str, dict[str, Any]] = {}
        self.aliases: dict[str, dict[str, bool]] = {}  # alias -> {index: is_write_index}
        self.roles: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> ElasticsearchStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest output clean; every request is recorded in `requests`

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
                request = Request(
                    self.command,
                    unquote(split.path),
                    query,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                status, payload = stand_in.dispatch(request)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- helpers for tests ---------------------------------------------------------------------

    def documents(self, index: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(doc) for doc in self.indices[index].docs.values()]

    def calls(self, method: str, path_suffix: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    # -- dispatch ------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(request)
            try:
                self._check_auth(request)
                self._check_media_types(request)
                return self._route(request)
            except EsError as error:
                return error.status, error.body

    def _check_auth(self, request: Request) -> None:
        if self.credentials is None:
            return
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            raise EsError(
                401,
                "security_exception",
                f"missing authentication credentials for REST request [{request.path}]",
            )

    def _check_media_types(self, request: Request) -> None:
        for header in ("content-type", "accept"):
            value = request.headers.get(header)
            if value is None or (header == "accept" and value in ("*/*", "")):
                continue
            match = ACCEPTED_MEDIA.match(value.strip())
            if match is None:
                if header == "content-type":
                    raise EsError(
                        406,
                        "media_type_header_exception",
                        f"Content-Type header [{value}] is not supported",
                    )
                if "json" in value:
                    raise EsError(
                        400,
                        "media_type_header_exception",
                        f"Invalid media-type value on headers [{header}]: {value}",
                    )
                continue
            if match.group(3) is not None and match.group(3) not in COMPAT_MAJORS:
                raise EsError(
                    400,
                    "media_type_header_exception",
                    f"Accept version must be either version 8 or 9, but found {match.group(3)}",
                )
        if request.body and "content-type" not in request.headers:
            raise EsError(406, "media_type_header_exception", "Content-Type header is missing")

    def _route(self, r: Request) -> tuple[int, Any]:
        parts = [p for p in r.path.split("/") if p]
        m = r.method
        if not parts:
            if m in ("GET", "HEAD"):
                return 200, self._info()
            raise _bad_method(r)
        head = parts[0]
        if head == "_bulk" and len(parts) == 1:
            return self._bulk(r, None)
        if head == "_cluster" and parts[1:2] == ["health"]:
            return 200, self._health()
        if head == "_index_template" and len(parts) == 2:
            return self._index_template(r, parts[1])
        if head == "_ilm" and parts[1:2] == ["policy"] and len(parts) == 3:
            return self._ilm_policy(r, parts[2])
        if head == "_alias" and len(parts) == 2:
            if r.method != "HEAD" and r.method != "GET":
                raise _bad_method(r)
            if parts[1] not in self.aliases:
                raise EsError(404, "aliases_not_found_exception", f"aliases [{parts[1]}] missing")
            return 200, {i: {"aliases": {parts[1]: {}}} for i in self.aliases[parts[1]]}
        if head == "_security" and len(parts) >= 3:
            return self._security(r, parts[1:])
        if head in ("_search", "_count", "_refresh"):
            return self._index_api(r, "_all", head)
        if head.startswith("_"):
            raise EsError(400, "illegal_argument_exception", f"unsupported endpoint [{r.path}]")
        index_expr = head
        if len(parts) == 1:
            return self._index_crud(r, index_expr)
        op = parts[1]
        if op == "_bulk" and len(parts) == 2:
            return self._bulk(r, index_expr)
        if op in ("_search", "_count", "_refresh") and len(parts) == 2:
            return self._index_api(r, index_expr, op)
        if op == "_doc":
            return self._doc(r, index_expr, parts[2] if len(parts) > 2 else None)
        raise EsError(400, "illegal_argument_exception", f"unsupported endpoint [{r.path}]")

    # -- cluster -------------------------------------------------------------------------------

    def _info(self) -> dict[str, Any]:
        return {
            "name": "stand-in-node",
            "cluster_name": "aans-test",
            "cluster_uuid": "stand-in-cluster-uuid",
            "version": {
                "number": VERSION,
                "build_flavor": "default",
                "build_type": "docker",
                "build_hash": "0" * 40,
                "build_date": "2025-10-21T00:00:00.000Z",
                "build_snapshot": False,
                "lucene_version": "10.3.1",
                "minimum_wire_compatibility_version": "8.19.0",
                "minimum_index_compatibility_version": "8.0.0",
            },
            "tagline": "You Know, for Search",
        }

    def _health(self) -> dict[str, Any]:
        shards = len(self.indices)
        return {
            "cluster_name": "aans-test",
            "status": "green",
            "timed_out": False,
            "number_of_nodes": 1,
            "number_of_data_nodes": 1,
            "active_primary_shards": shards,
            "active_shards": shards,
            "relocating_shards": 0,
            "initializing_shards": 0,
            "unassigned_shards": 0,
            "unassigned_primary_shards": 0,
            "delayed_unassigned_shards": 0,
            "number_of_pending_tasks": 0,
            "number_of_in_flight_fetch": 0,
            "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": 100.0,
        }

    def _index_template(self, r: Request, name: str) -> tuple[int, Any]:
        if r.method in ("PUT", "POST"):
            body = _json_body(r)
            unknown = set(body) - TEMPLATE_KEYS
            if unknown:
                raise EsError(
                    400, "x_content_parse_exception", f"unknown field [{sorted(unknown)[0]}]"
                )
            patterns = body.get("index_patterns")
            if isinstance(patterns, str):
                patterns = [patterns]
            if not patterns or not all(isinstance(p, str) for p in patterns):
                raise EsError(
                    400, "action_request_validation_exception", "index patterns are missing"
                )
            template = body.get("template", {})
            unknown = set(template) - TEMPLATE_BODY_KEYS
            if unknown:
                raise EsError(
                    400, "x_content_parse_exception", f"unknown field [{sorted(unknown)[0]}]"
                )
            _flatten_mappings(template.get("mappings", {}))  # validates the types
            for other_name, other in self.templates.items():
                same_priority = other.get("priority", 0) == body.get("priority", 0)
                overlap = set(other["index_patterns"]) & set(patterns)
                if other_name != name and same_priority and overlap:
                    raise EsError(
                        400,
                        "illegal_argument_exception",
                        f"index template [{name}] has index patterns {patterns} matching "
                        f"patterns from existing templates [{other_name}] with the same priority",
                    )
            self.templates[name] = {**body, "index_patterns": patterns}
            return 200, {"acknowledged": True}
        if r.method in ("GET", "HEAD"):
            if name not in self.templates:
                raise EsError(
                    404,
                    "resource_not_found_exception",
                    f"index template matching [{name}] not found",
                )
            return 200, {
                "index_templates": [{"name": name, "index_template": self.templates[name]}]
            }
        if r.method == "DELETE":
            if self.templates.pop(name, None) is None:
                raise EsError(
                    404, "resource_not_found_exception", f"index_template [{name}] missing"
                )
            return 200, {"acknowledged": True}
        raise _bad_method(r)

    def _ilm_policy(self, r: Request, name: str) -> tuple[int, Any]:
        if r.method == "PUT":
            body = _json_body(r)
            policy = body.get("policy")
            if set(body) != {"policy"} or not isinstance(policy, dict):
                raise EsError(400, "x_content_parse_exception", "[put_lifecycle] expects {policy}")
            phases = policy.get("phases")
            if not isinstance(phases, dict) or not phases:
                raise EsError(400, "x_content_parse_exception", "policy needs phases")
            unknown = set(phases) - {"hot", "warm", "cold", "frozen", "delete"}
            if unknown:
                raise EsError(400, "illegal_argument_exception", f"unknown phase {unknown}")
            for phase in phases.values():
                if not re.fullmatch(
                    r"\d+(d|h|m|s|ms|micros|nanos)", str(phase.get("min_age", "0ms"))
                ):
                    raise EsError(400, "illegal_argument_exception", "bad min_age")
            self.ilm_policies[name] = policy
            return 200, {"acknowledged": True}
        if r.method == "GET":
            if name not in self.ilm_policies:
                raise EsError(
                    404, "resource_not_found_exception", f"Lifecycle policy not found: {name}"
                )
            return 200, {name: {"version": 1, "policy": self.ilm_policies[name]}}
        raise _bad_method(r)

    def _security(self, r: Request, parts: list[str]) -> tuple[int, Any]:
        kind, name, *rest = parts
        if kind == "role" and not rest and r.method in ("PUT", "POST"):
            body = _json_body(r)
            unknown = set(body) - {"cluster", "indices", "applications", "run_as", "metadata"}
            if unknown:
                raise EsError(400, "parse_exception", f"unexpected field {sorted(unknown)}")
            for entry in body.get("indices", []):
                if not entry.get("names") or not entry.get("privileges"):
                    raise EsError(400, "parse_exception", "indices need names and privileges")
            created = name not in self.roles
            self.roles[name] = body
            return 200, {"role": {"created": created}}
        if kind == "user" and not rest and r.method in ("PUT", "POST"):
            body = _json_body(r)
            unknown_roles = set(body.get("roles", [])) - set(self.roles)
            if len(body.get("password", "")) < 6 or unknown_roles:
                raise EsError(400, "action_request_validation_exception", "invalid user")
            created = name not in self.users
            self.users[name] = body
            return 200, {"created": created}
        if kind == "user" and rest == ["_password"] and r.method in ("PUT", "POST"):
            body = _json_body(r)
            if set(body) != {"password"} or len(body["password"]) < 6:
                raise EsError(400, "action_request_validation_exception", "invalid password")
            self.users.setdefault(name, {})["password"] = body["password"]
            return 200, {}
        raise EsError(400, "illegal_argument_exception", f"unsupported endpoint [{r.path}]")

    # -- indices -------------------------------------------------------------------------------

    def _index_crud(self, r: Request, name: str) -> tuple[int, Any]:
        if r.method == "HEAD":
            return (200 if name in self.indices else 404), None
        if r.method == "PUT":
            if name in self.indices:
                raise EsError(
                    400, "resource_already_exists_exception", f"index [{name}] already exists"
                )
            body = _json_body(r) if r.body else {}
            if name in self.aliases:
                raise EsError(
                    400, "invalid_index_name_exception", f"[{name}] already exists as alias"
                )
            self._create_index(name, body.get("mappings"), body.get("settings"))
            for alias, spec in body.get("aliases", {}).items():
                self.aliases.setdefault(alias, {})[name] = bool(spec.get("is_write_index"))
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
        if r.method == "DELETE":
            for index in self._resolve(name):
                del self.indices[index]
            return 200, {"acknowledged": True}
        if r.method == "GET":
            names = self._resolve(name)
            return 200, {
                n: {"mappings": _unflatten(self.indices[n].mappings), "settings": {}} for n in names
            }
        raise _bad_method(r)

    def _create_index(
        self, name: str, mappings: dict[str, Any] | None = None, settings: Any = None
    ) -> Index:
        if name != name.lower() or name.startswith(("_", "-", "+")) or "*" in name:
            raise EsError(400, "invalid_index_name_exception", f"Invalid index name [{name}]")
        flat: dict[str, str] = {}
        applied_settings: dict[str, Any] = {}
        matching = [
            t
            for t in self.templates.values()
            if any(fnmatch.fnmatchcase(name, p) for p in t["index_patterns"])
        ]
        if matching:
            best = max(matching, key=lambda t: t.get("priority", 0))
            flat.update(_flatten_mappings(best.get("template", {}).get("mappings", {})))
            applied_settings = best.get("template", {}).get("settings", {})
        if mappings:
            flat.update(_flatten_mappings(mappings))
        index = Index(name, flat, settings or applied_settings)
        self.indices[name] = index
        return index

    def _resolve(self, expression: str, ignore_unavailable: bool = False) -> list[str]:
        names: list[str] = []
        for part in expression.split(","):
            if part in ("_all", "*"):
                names.extend(sorted(self.indices))
            elif "*" in part:
                names.extend(sorted(n for n in self.indices if fnmatch.fnmatchcase(n, part)))
            elif part in self.indices:
                names.append(part)
            elif part in self.aliases:
                names.extend(sorted(self.aliases[part]))
            elif not ignore_unavailable:
                raise EsError(
                    404,
                    "index_not_found_exception",
                    f"no such index [{part}]",
                    index=part,
                    **{"resource.type": "index_or_alias", "resource.id": part},
                )
        return list(dict.fromkeys(names))

    def _index_api(self, r: Request, expression: str, op: str) -> tuple[int, Any]:
        ignore = r.query.get("ignore_unavailable") == "true"
        names = self._resolve(expression, ignore_unavailable=ignore)
        if op == "_refresh":
            if r.method not in ("POST", "GET"):
                raise _bad_method(r)
            n = len(names)
            return 200, {"_shards": {"total": n, "successful": n, "failed": 0}}
        if r.method not in ("POST", "GET"):
            raise _bad_method(r)
        body = _json_body(r) if r.body else {}
        if op == "_count":
            unknown = set(body) - {"query"}
            if unknown:
                raise EsError(400, "parsing_exception", f"request does not support {unknown}")
            docs = self._matching(names, body.get("query"))
            return 200, {"count": len(docs), "_shards": _shards(len(names))}
        return 200, self._search(names, body, r.query)

    def _doc(self, r: Request, index: str, doc_id: str | None) -> tuple[int, Any]:
        if r.method in ("PUT", "POST"):
            if r.method == "PUT" and doc_id is None:
                raise _bad_method(r)
            item = self._write("index", index, doc_id, _json_body(r))
            return item["status"], {k: v for k, v in item.items() if k != "status"}
        if r.method == "GET" and doc_id is not None:
            if index not in self.indices:
                self._resolve(index)
            doc = self.indices[index].docs.get(doc_id)
            if doc is None:
                return 404, {"_index": index, "_id": doc_id, "found": False}
            return 200, {"_index": index, "_id": doc_id, "found": True, "_source": doc}
        raise _bad_method(r)

    # -- writes --------------------------------------------------------------------------------

    def _bulk(self, r: Request, default_index: str | None) -> tuple[int, Any]:
        if r.method not in ("PUT", "POST"):
            raise _bad_method(r)
        ctype = r.headers.get("content-type", "")
        if "json" not in ctype:
            raise EsError(400, "illegal_argument_exception", "bulk needs an NDJSON content type")
        text = r.body.decode("utf-8")
        if not text:
            raise EsError(400, "action_request_validation_exception", "no requests added")
        if not text.endswith("\n"):
            raise EsError(
                400,
                "illegal_argument_exception",
                "The bulk request must be terminated by a newline [\\n]",
            )
        lines = text[:-1].split("\n")
        items: list[dict[str, Any]] = []
        i = 0
        while i < len(lines):
            action_line = _parse_line(lines[i], i)
            if len(action_line) != 1:
                raise EsError(
                    400, "illegal_argument_exception", f"Malformed action/metadata line [{i + 1}]"
                )
            ((action, meta),) = action_line.items()
            if action not in WRITE_ACTIONS or not isinstance(meta, dict):
                raise EsError(
                    400,
                    "illegal_argument_exception",
                    f"Malformed action/metadata line [{i + 1}], expected one of {WRITE_ACTIONS}"
                    f" but found [{action}]",
                )
            index = meta.get("_index", default_index)
            if index is None:
                raise EsError(400, "action_request_validation_exception", "index is missing")
            if action == "delete":
                items.append({action: self._delete(index, meta.get("_id"))})
                i += 1
                continue
            if i + 1 >= len(lines):
                raise EsError(
                    400,
                    "illegal_argument_exception",
                    f"The bulk request is missing the source of action line [{i + 1}]",
                )
            source = _parse_line(lines[i + 1], i + 1)
            items.append({action: self._write(action, index, meta.get("_id"), source)})
            i += 2
        errors = any("error" in next(iter(item.values())) for item in items)
        return 200, {"errors": errors, "took": 1, "items": items}

    def _write(
        self, action: str, index_name: str, doc_id: str | None, source: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            if index_name in self.aliases:
                writers = [i for i, w in self.aliases[index_name].items() if w]
                if len(writers) != 1:
                    raise EsError(
                        400,
                        "illegal_argument_exception",
                        f"no write index is defined for alias [{index_name}]",
                    )
                index_name = writers[0]
            index = self.indices.get(index_name) or self._create_index(index_name)
            if action == "update":
                if doc_id not in index.docs:
                    raise EsError(
                        404, "document_missing_exception", f"[{doc_id}]: document missing"
                    )
                merged = {**index.docs[doc_id], **source.get("doc", {})}
                self._map_document(index, merged)
                index.docs[doc_id] = merged
                result, status = "updated", 200
            else:
                self._map_document(index, source)
                doc_id = doc_id or uuid.uuid4().hex[:20]
                exists = doc_id in index.docs
                if action == "create" and exists:
                    raise EsError(
                        409,
                        "version_conflict_engine_exception",
                        f"[{doc_id}]: version conflict, document already exists",
                    )
                index.docs[doc_id] = source
                result, status = ("updated", 200) if exists else ("created", 201)
        except EsError as error:
            return {
                "_index": index_name,
                "_id": doc_id,
                "status": error.status,
                "error": {k: v for k, v in error.body["error"].items() if k != "root_cause"},
            }
        index.seq_no += 1
        return {
            "_index": index_name,
            "_id": doc_id,
            "_version": 1,
            "result": result,
            "_shards": {"total": 1, "successful": 1, "failed": 0},
            "_seq_no": index.seq_no,
            "_primary_term": 1,
            "status": status,
        }

    def _delete(self, index_name: str, doc_id: str | None) -> dict[str, Any]:
        index = self.indices.get(index_name)
        found = index is not None and index.docs.pop(str(doc_id), None) is not None
        return {
            "_index": index_name,
            "_id": doc_id,
            "result": "deleted" if found else "not_found",
            "status": 200 if found else 404,
        }

    def _map_document(self, index: Index, source: dict[str, Any]) -> None:
        """Check values against the mapping; add dynamic mappings for new fields."""
        for path, value in _flatten_doc(source):
            mapped = index.mappings.get(path)
            if mapped is None:
                index.mappings[path] = _dynamic_type(value)
                continue
            if value is None:
                continue
            if _coerce(mapped, value) is _INVALID:
                raise EsError(
                    400,
                    "document_parsing_exception",
                    f"failed to parse field [{path}] of type [{mapped}] in document",
                )

    # -- search --------------------------------------------------------------------------------

    def _matching(
        self, names: list[str], query: dict[str, Any] | None
    ) -> list[tuple[str, str, dict]]:
        found: list[tuple[str, str, dict]] = []
        for name in names:
            index = self.indices[name]
            for doc_id, source in index.docs.items():
                if query is None or self._match(index, source, query):
                    found.append((name, doc_id, source))
        return found

    def _search(
        self, names: list[str], body: dict[str, Any], params: dict[str, str]
    ) -> dict[str, Any]:
        allowed = {
            "query",
            "sort",
            "size",
            "from",
            "_source",
            "aggs",
            "aggregations",
            "track_total_hits",
            "search_after",
        }
        unknown = set(body) - allowed
        if unknown:
            raise EsError(400, "parsing_exception", f"Unknown key for a START_OBJECT in {unknown}")
        docs = self._matching(names, body.get("query"))
        size = int(body.get("size", params.get("size", 10)))
        start = int(body.get("from", params.get("from", 0)))
        if size < 0 or start < 0:
            raise EsError(400, "illegal_argument_exception", "[size] and [from] must be >= 0")
        if start + size > MAX_RESULT_WINDOW:
            raise EsError(400, "illegal_argument_exception", "Result window is too large")
        sort_spec = _parse_sort(body.get("sort", params.get("sort")))
        for field_name, _ in sort_spec:
            for name in names:
                mapped = self.indices[name].mappings.get(field_name)
                if mapped == "text":
                    raise EsError(
                        400,
                        "illegal_argument_exception",
                        f"Text fields are not optimised for sorting; use a keyword field "
                        f"instead of [{field_name}]",
                    )
        for field_name, order in reversed(sort_spec):
            present = [d for d in docs if _get(d[2], field_name) is not None]
            missing = [d for d in docs if _get(d[2], field_name) is None]
            present.sort(
                key=lambda d, f=field_name: _sort_key(_get(d[2], f)), reverse=order == "desc"
            )
            docs = present + missing  # Elasticsearch puts missing values last either way
        includes = _source_includes(body.get("_source"), params.get("_source_includes"))
        hits = []
        for name, doc_id, source in docs[start : start + size]:
            hit: dict[str, Any] = {"_index": name, "_id": doc_id, "_score": None}
            if includes is not False:
                hit["_source"] = _filter_source(source, includes)
            if sort_spec:
                hit["sort"] = [_get(source, f) for f, _ in sort_spec]
            hits.append(hit)
        result: dict[str, Any] = {
            "took": 1,
            "timed_out": False,
            "_shards": _shards(len(names)),
            "hits": {
                "total": {
                    "value": min(len(docs), MAX_RESULT_WINDOW),
                    "relation": "eq" if len(docs) <= MAX_RESULT_WINDOW else "gte",
                },
                "max_score": None,
                "hits": hits,
            },
        }
        aggs = body.get("aggs", body.get("aggregations"))
        if aggs is not None:
            mappings = self._merged_mappings(names)
            result["aggregations"] = self._aggregate(aggs, [d[2] for d in docs], mappings)
        return result

    def _merged_mappings(self, names: list[str]) -> dict[str, str]:
        merged: dict[str, str] = {}
        for name in names:
            merged.update(self.indices[name].mappings)
        return merged

    def _match(self, index: Index, source: dict[str, Any], query: dict[str, Any]) -> bool:
        if not isinstance(query, dict) or len(query) != 1:
            raise EsError(400, "parsing_exception", "query malformed, must start with one key")
        ((kind, spec),) = query.items()
        if kind == "match_all":
            return True
        if kind == "bool":
            return self._match_bool(index, source, spec)
        if kind == "exists":
            return _get(source, spec["field"]) not in (None, [])
        if not isinstance(spec, dict) or len(spec) != 1:
            raise EsError(400, "parsing_exception", f"[{kind}] query malformed")
        ((field_name, arg),) = spec.items()
        mapped = index.mappings.get(field_name)
        value = _get(source, field_name)
        if kind == "range":
            return _in_range(mapped, value, arg)
        if kind == "term":
            wanted = arg["value"] if isinstance(arg, dict) else arg
            return value is not None and _equal(mapped, value, wanted)
        if kind == "terms":
            return value is not None and any(_equal(mapped, value, w) for w in arg)
        if kind == "match_phrase":
            wanted = arg["query"] if isinstance(arg, dict) else arg
            if value is None:
                return False
            if mapped == "text":
                return _tokens_contain(_tokens(str(value)), _tokens(str(wanted)))
            return _equal(mapped, value, wanted)
        raise EsError(400, "parsing_exception", f"unknown query [{kind}]")

    def _match_bool(self, index: Index, source: dict[str, Any], spec: dict[str, Any]) -> bool:
        unknown = set(spec) - {"filter", "must", "should", "must_not", "minimum_should_match"}
        if unknown:
            raise EsError(400, "parsing_exception", f"[bool] query does not support {unknown}")

        def listed(key: str) -> list[dict[str, Any]]:
            value = spec.get(key, [])
            return value if isinstance(value, list) else [value]

        if not all(self._match(index, source, q) for q in listed("filter") + listed("must")):
            return False
        if any(self._match(index, source, q) for q in listed("must_not")):
            return False
        should = listed("should")
        if should:
            default = 0 if spec.get("filter") or spec.get("must") else 1
            needed = int(spec.get("minimum_should_match", default))
            return sum(self._match(index, source, q) for q in should) >= needed
        return True

    # -- aggregations --------------------------------------------------------------------------

    def _aggregate(
        self, aggs: dict[str, Any], docs: list[dict[str, Any]], mappings: dict[str, str]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, spec in aggs.items():
            sub = spec.get("aggs", spec.get("aggregations"))
            kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
            if len(kinds) != 1:
                raise EsError(
                    400, "parsing_exception", f"Expected one type for aggregation [{name}]"
                )
            kind = kinds[0]
            body = spec[kind]
            if kind == "terms":
                out[name] = self._agg_terms(body, docs, mappings, sub)
            elif kind == "date_histogram":
                out[name] = self._agg_date_histogram(body, docs, mappings, sub)
            elif kind == "filter":
                index = Index("_agg", mappings, {})
                kept = [d for d in docs if self._match(index, d, body)]
                out[name] = {"doc_count": len(kept)}
                if sub:
                    out[name].update(self._aggregate(sub, kept, mappings))
            elif kind == "percentiles":
                out[name] = _agg_percentiles(body, docs, mappings)
            elif kind in ("avg", "sum", "min", "max", "value_count"):
                out[name] = _agg_metric(kind, body, docs, mappings)
            else:
                raise EsError(400, "x_content_parse_exception", f"unknown aggregation [{kind}]")
        return out

    def _agg_terms(
        self,
        body: dict[str, Any],
        docs: list[dict[str, Any]],
        mappings: dict[str, str],
        sub: dict[str, Any] | None,
    ) -> dict[str, Any]:
        field_name = body["field"]
        mapped = mappings.get(field_name)
        if mapped == "text":
            raise EsError(
                400,
                "illegal_argument_exception",
                f"Fielddata is disabled on [{field_name}] in [index]. Text fields are not "
                "optimised for operations that require per-document field data like aggregations",
            )
        size = int(body.get("size", 10))
        groups: dict[Any, list[dict[str, Any]]] = {}
        for doc in docs:
            value = _get(doc, field_name)
            if value is None:
                continue
            key = _coerce(mapped, value) if mapped else value
            groups.setdefault(key, []).append(doc)
        ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), _sort_key(kv[0])))
        kept = ordered[:size]
        buckets = []
        for key, members in kept:
            bucket: dict[str, Any] = {"key": key, "doc_count": len(members)}
            if sub:
                bucket.update(self._aggregate(sub, members, mappings))
            buckets.append(bucket)
        return {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": sum(len(m) for _, m in ordered[size:]),
            "buckets": buckets,
        }

    def _agg_date_histogram(
        self,
        body: dict[str, Any],
        docs: list[dict[str, Any]],
        mappings: dict[str, str],
        sub: dict[str, Any] | None,
    ) -> dict[str, Any]:
        field_name = body["field"]
        if mappings.get(field_name) != "date":
            raise EsError(
                400,
                "illegal_argument_exception",
                f"Field [{field_name}] of type [{mappings.get(field_name)}] is not supported "
                "for aggregation [date_histogram]",
            )
        interval = body.get("fixed_interval") or body.get("calendar_interval")
        seconds = {"1h": 3600, "hour": 3600, "1d": 86400, "day": 86400, "1m": 60, "minute": 60}
        if interval not in seconds or body.get("time_zone", "UTC") not in ("UTC", "Z", "+00:00"):
            raise EsError(400, "illegal_argument_exception", f"unsupported interval [{interval}]")
        step = seconds[interval] * 1000
        groups: dict[int, list[dict[str, Any]]] = {}
        for doc in docs:
            millis = _to_millis(_get(doc, field_name))
            if millis is not None:
                groups.setdefault(millis - millis % step, []).append(doc)
        min_doc_count = int(body.get("min_doc_count", 0))
        keys = sorted(groups)
        if keys and min_doc_count == 0:
            keys = list(range(keys[0], keys[-1] + step, step))
        buckets = []
        for key in keys:
            members = groups.get(key, [])
            if len(members) < min_doc_count:
                continue
            stamp = datetime.fromtimestamp(key / 1000, tz=UTC)
            bucket: dict[str, Any] = {
                "key_as_string": stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "key": key,
                "doc_count": len(members),
            }
            if sub:
                bucket.update(self._aggregate(sub, members, mappings))
            buckets.append(bucket)
        return {"buckets": buckets}


# -- pure helpers ------------------------------------------------------------------------------

_INVALID = object()


def _bad_method(r: Request) -> EsError:
    return EsError(405, "method_not_allowed", f"Incorrect HTTP method for uri [{r.path}]")


def _json_body(r: Request) -> dict[str, Any]:
    try:
        body = json.loads(r.body or b"{}")
    except json.JSONDecodeError as error:
        raise EsError(
            400, "x_content_parse_exception", f"Failed to parse request body: {error}"
        ) from None
    if not isinstance(body, dict):
        raise EsError(400, "parse_exception", "request body must be an object")
    return body


def _parse_line(line: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        raise EsError(
            400, "x_content_parse_exception", f"[{number + 1}:1] Malformed content on line"
        ) from None
    if not isinstance(value, dict):
        raise EsError(400, "illegal_argument_exception", f"line [{number + 1}] is not an object")
    return value


def _shards(n: int) -> dict[str, int]:
    return {"total": n, "successful": n, "skipped": 0, "failed": 0}


def _flatten_mappings(mappings: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    unknown = set(mappings) - {"properties", "dynamic", "_source", "dynamic_templates", "_meta"}
    if unknown:
        raise EsError(400, "mapper_parsing_exception", f"unknown mapping parameters {unknown}")
    for name, spec in mappings.get("properties", {}).items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            flat.update(_flatten_mappings({"properties": spec["properties"]}, f"{path}."))
            continue
        kind = spec.get("type")
        if kind not in FIELD_TYPES:
            raise EsError(
                400, "mapper_parsing_exception", f"No handler for type [{kind}] on field [{path}]"
            )
        flat[path] = kind
        for sub_name, sub_spec in spec.get("fields", {}).items():
            flat[f"{path}.{sub_name}"] = sub_spec.get("type", "keyword")
    return flat


def _unflatten(flat: dict[str, str]) -> dict[str, Any]:
    return {"properties": {k: {"type": v} for k, v in flat.items()}}


def _flatten_doc(source: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in source.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_flatten_doc(value, f"{path}."))
        else:
            items.append((path, value))
    return items


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def _dynamic_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str) and _DATE_RE.match(value):
        return "date"
    if isinstance(value, list):
        return "object" if not value else _dynamic_type(value[0])
    return "text"


def _to_millis(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        text = value.replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    return None


def _coerce(mapped: str | None, value: Any) -> Any:
    if mapped in NUMERIC_TYPES:
        if isinstance(value, bool):
            return _INVALID
        try:
            number = float(value)
        except (TypeError, ValueError):
            return _INVALID
        if mapped in ("integer", "long", "short"):
            return int(number)
        return number
    if mapped == "boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        return _INVALID
    if mapped == "date":
        millis = _to_millis(value)
        return _INVALID if millis is None else millis
    if mapped in ("keyword", "text", "ip"):
        if isinstance(value, bool):
            return "true" if value else "false"  # how Elasticsearch indexes a JSON boolean
        return value if isinstance(value, str) else str(value)
    return value


def _equal(mapped: str | None, value: Any, wanted: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    if mapped == "text":
        return any(_tokens(str(wanted)) == _tokens(str(v)) for v in values)
    target = _coerce(mapped, wanted) if mapped else wanted
    return any((_coerce(mapped, v) if mapped else v) == target for v in values)


def _in_range(mapped: str | None, value: Any, bounds: dict[str, Any]) -> bool:
    if value is None:
        return False
    unknown = set(bounds) - {"gt", "gte", "lt", "lte", "format", "time_zone"}
    if unknown:
        raise EsError(400, "parsing_exception", f"[range] query does not support {unknown}")
    if mapped == "text":
        raise EsError(400, "illegal_argument_exception", "range on a text field")
    convert = _to_millis if mapped == "date" else (lambda v: _coerce(mapped or "double", v))
    current = convert(value)
    for op, bound in bounds.items():
        if op in ("format", "time_zone"):
            continue
        limit = convert(bound)
        if limit is None or limit is _INVALID or current is None or current is _INVALID:
            raise EsError(400, "parse_exception", f"failed to parse [{bound}] for range")
        ok = {
            "gt": current > limit,
            "gte": current >= limit,
            "lt": current < limit,
            "lte": current <= limit,
        }[op]
        if not ok:
            return False
    return True


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _tokens_contain(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _get(source: dict[str, Any], path: str) -> Any:
    if path in source:
        return source[path]
    node: Any = source
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def _parse_sort(spec: Any) -> list[tuple[str, str]]:
    if spec is None:
        return []
    if isinstance(spec, str):
        spec = spec.split(",")
    result: list[tuple[str, str]] = []
    for item in spec:
        if isinstance(item, str):
            name, _, order = item.partition(":")
            result.append((name, order or "asc"))
        elif isinstance(item, dict) and len(item) == 1:
            ((name, order),) = item.items()
            order = order.get("order", "asc") if isinstance(order, dict) else order
            if order not in ("asc", "desc"):
                raise EsError(400, "parsing_exception", f"unknown sort order [{order}]")
            result.append((name, order))
        else:
            raise EsError(400, "parsing_exception", f"malformed sort [{item}]")
    return result


def _source_includes(body_value: Any, param: str | None) -> list[str] | bool | None:
    if param:
        return param.split(",")
    if body_value is None or body_value is True:
        return None
    if body_value is False:
        return False
    if isinstance(body_value, str):
        return [body_value]
    if isinstance(body_value, list):
        return body_value
    if isinstance(body_value, dict):
        return body_value.get("includes")
    raise EsError(400, "parsing_exception", "malformed _source")


def _filter_source(source: dict[str, Any], includes: list[str] | bool | None) -> dict[str, Any]:
    if includes is None or includes is True:
        return dict(source)
    assert isinstance(includes, list)
    return {k: v for k, v in source.items() if any(fnmatch.fnmatchcase(k, p) for p in includes)}


def _numeric_values(
    kind: str, body: dict[str, Any], docs: list[dict[str, Any]], mappings: dict[str, str]
) -> list[float]:
    field_name = body["field"]
    mapped = mappings.get(field_name)
    if mapped is None:
        return []  # an unmapped field aggregates as empty, as in Elasticsearch
    if mapped not in NUMERIC_TYPES | {"boolean", "date"}:
        raise EsError(
            400,
            "illegal_argument_exception",
            f"Field [{field_name}] of type [{mapped}] is not supported for aggregation [{kind}]",
        )
    values: list[float] = []
    for doc in docs:
        raw = _get(doc, field_name)
        for item in raw if isinstance(raw, list) else [raw]:
            if item is None:
                continue
            coerced = _coerce(mapped, item)
            values.append(float(coerced))
    return values


def _agg_metric(
    kind: str, body: dict[str, Any], docs: list[dict[str, Any]], mappings: dict[str, str]
) -> dict[str, Any]:
    if kind == "value_count":
        field_name = body["field"]
        return {"value": sum(1 for d in docs if _get(d, field_name) is not None)}
    values = _numeric_values(kind, body, docs, mappings)
    if kind == "sum":
        return {"value": float(sum(values))}
    if not values:
        return {"value": None}
    if kind == "avg":
        return {"value": sum(values) / len(values)}
    return {"value": min(values) if kind == "min" else max(values)}


def _agg_percentiles(
    body: dict[str, Any], docs: list[dict[str, Any]], mappings: dict[str, str]
) -> dict[str, Any]:
    unknown = set(body) - {"field", "percents", "keyed", "tdigest", "missing"}
    if unknown:
        raise EsError(400, "x_content_parse_exception", f"[percentiles] unknown field {unknown}")
    percents = [float(p) for p in body.get("percents", [1, 5, 25, 50, 75, 95, 99])]
    if any(not 0 <= p <= 100 for p in percents):
        raise EsError(400, "illegal_argument_exception", "percent must be in [0,100]")
    values = sorted(_numeric_values("percentiles", body, docs, mappings))
    results = {p: _linear_percentile(values, p) for p in percents}
    if body.get("keyed", True):
        return {"values": {str(p): v for p, v in results.items()}}
    return {"values": [{"key": p, "value": v} for p, v in results.items()]}


def _linear_percentile(values: list[float], percent: float) -> float | None:
    # Exact over the sorted values with linear interpolation between neighbours, which is what
    # Elasticsearch's digest converges to for the small samples tests use.
    if not values:
        return None
    rank = percent / 100 * (len(values) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)
