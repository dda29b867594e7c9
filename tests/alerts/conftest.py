"""Fixtures of the alert tests: local receivers driven through Airflow's real notifiers.

- an HTTP receiver thread (127.0.0.1, ephemeral port) that plays the JSON webhook and Slack's
  incoming webhook; it can be switched to answer 503, like a channel that is down;
- an aiosmtpd SMTP server on an ephemeral port for e-mail;
- the connections `alerts_webhook`, `alerts_slack`, `alerts_smtp` pointing at them.
"""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from aans_analytics import warehouse
from aans_analytics.alerts.rules import RuleSet, load_rules

# A fixed clock: 12:00 UTC is 17:30 in Asia/Kolkata, whose "yesterday" is then 2026-03-09.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
YESTERDAY = "2026-03-09"
TODAY = "2026-03-10"
SLACK_PATH = "/services/T000/B000/XXXX"
WEBHOOK_PATH = "/alerts"


@dataclass
class HttpReceiver:
    """Records every POST; answers 503 while `failing` is set."""

    server: ThreadingHTTPServer
    received: list[dict[str, Any]] = field(default_factory=list)
    failing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def bodies(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [item["body"] for item in self.received if item["path"] == path]

    def wait_for(self, path: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Poll until `count` bodies arrived at `path` (or the deadline passed); return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bodies = self.bodies(path)
            if len(bodies) >= count:
                return bodies
            time.sleep(0.02)
        return self.bodies(path)


def _handler(receiver_ref: list[HttpReceiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = receiver_ref[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if receiver.failing:
                self.send_response(503)
                self.end_headers()
                self.wfile.write(b"unavailable")
                return
            with receiver.lock:
                receiver.received.append(
                    {"path": self.path, "body": json.loads(raw or b"{}"), "at": time.monotonic()}
                )
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            # Slack's incoming webhooks answer a plain "ok".
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@dataclass
class SmtpSink:
    controller: Controller
    messages: list[Any] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.controller.port

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.02)
        return self.subjects()


class _Handler:
    def __init__(self, sink_ref: list[SmtpSink]) -> None:
        self.sink_ref = sink_ref

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.sink_ref[0].messages.append(message)
        return "250 OK"


class _EphemeralController(Controller):
    """aiosmtpd bound to port 0: learn the real port before the readiness probe uses it."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    ref: list[HttpReceiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    receiver = HttpReceiver(server)
    ref.append(receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    ref: list[SmtpSink] = []
    controller = _EphemeralController(_Handler(ref), hostname="127.0.0.1", port=0)
    sink = SmtpSink(controller)
    ref.append(sink)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def channels(
    http_receiver: HttpReceiver, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> tuple[HttpReceiver, SmtpSink]:
    """All three channels on, pointing at the local receivers."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERTS_WEBHOOK",
        json.dumps({"conn_type": "http", "host": http_receiver.base_url + WEBHOOK_PATH}),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERTS_SLACK",
        json.dumps({"conn_type": "slackwebhook", "password": http_receiver.base_url + SLACK_PATH}),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERTS_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": smtp_sink.port,
                "extra": {
                    "disable_tls": True,
                    "disable_ssl": True,
                    "from_email": "alerts@aans.example",
                    "to": "oncall@aans.example",
                    "timeout": 5,
                    "retry_limit": 0,
                },
            }
        ),
    )
    return http_receiver, smtp_sink


@pytest.fixture
def alert_db(app_db: Any) -> Any:
    """The app tables plus schema analytics, migrated; `aans_postgres` points at it."""
    conn = app_db.connect()
    try:
        warehouse.migrate(conn)
    finally:
        conn.close()
    return app_db


@pytest.fixture
def offline_file(tmp_path: Path) -> Path:
    return tmp_path / "offline_state.json"


@pytest.fixture
def warehouse_down(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`aans_postgres` names a socket folder where no server listens."""
    nowhere = str(tmp_path / "no-server").replace("/", "%2F")
    monkeypatch.setenv("AIRFLOW_CONN_AANS_POSTGRES", f"postgresql://postgres@{nowhere}/aans")


def rules(*names: str) -> RuleSet:
    """The project's own rules, narrowed to `names`."""
    full = load_rules()
    return RuleSet(tuple(rule for rule in full.rules if rule.name in names), full.channels)


def add_cafe(db: Any, name: str, timezone: str = "Asia/Kolkata") -> str:
    cafe_id = str(uuid.uuid4())
    db.query(
        "insert into public.cafes (id, name, timezone, created_at) values (%s, %s, %s, %s)",
        (cafe_id, name, timezone, "2025-01-01T00:00:00Z"),
    )
    return cafe_id


def set_calls(db: Any, cafe_id: str, date: str, total: int, answered: int) -> None:
    db.query(
        "insert into analytics.call_metrics (cafe_id, date, total_calls, answered_calls,"
        " missed_calls, average_duration, peak_hour, is_final, complete_through)"
        " values (%s, %s, %s, %s, %s, 60, 12, true, now())"
        " on conflict (cafe_id, date) do update set total_calls = excluded.total_calls,"
        " answered_calls = excluded.answered_calls, missed_calls = excluded.missed_calls",
        (cafe_id, date, total, answered, total - answered),
    )


ROOT_DAGS = Path(__file__).resolve().parents[2] / "dags"
