"""A small Metabase REST client over `requests`: timeouts, retries, session or API key auth.

Retries: connection failures are retried for every method (nothing reached the server), 5xx
answers and read timeouts only for methods that are safe to repeat (GET, PUT, DELETE). A POST
that failed half-way is not repeated here; the sync looks the object up by name before trying
again, so a fault never leaves a duplicate behind.
"""

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5.0, 60.0)
RETRY_STATUSES = (500, 502, 503, 504)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class MetabaseError(RuntimeError):
    """Metabase refused a request; `message` is Metabase's own explanation."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"Metabase answered {status} to {method} {path}: {message}")
        self.method = method
        self.path = path
        self.status = status
        self.message = message


@dataclass(frozen=True)
class MetabaseSettings:
    """Where Metabase is and how to sign in: an API key, or a user's e-mail and password."""

    url: str
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    setup_token_email: str | None = None
    site_name: str = "AANS analytics"

    def __repr__(self) -> str:
        # Never show a password or key in a log line or a traceback.
        return f"MetabaseSettings(url={self.url!r}, username={self.username!r})"


def settings_from_connection(conn: Any) -> MetabaseSettings:
    """Settings from an Airflow connection (`metabase_default`): host, port, schema http/https,
    login and password, extra `api_key`, `setup_token_email`, `site_name`.
    """
    extra = conn.extra_dejson or {}
    host = conn.host or "localhost"
    if "://" in host:
        parts = urlsplit(host)
        scheme, host = parts.scheme, parts.netloc
    else:
        scheme = conn.schema or "http"
    port = f":{conn.port}" if conn.port and ":" not in host else ""
    return MetabaseSettings(
        url=f"{scheme}://{host}{port}",
        api_key=extra.get("api_key"),
        username=conn.login or extra.get("setup_token_email"),
        password=conn.password,
        setup_token_email=extra.get("setup_token_email"),
        site_name=extra.get("site_name", "AANS analytics"),
    )


class MetabaseClient:
    """JSON over HTTP to one Metabase; `get`, `post`, `put`, `delete` return the decoded body."""

    def __init__(
        self,
        settings: MetabaseSettings,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff_factor: float = 0.5,
    ) -> None:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        self.settings = settings
        self.base_url = settings.url.rstrip("/")
        self.timeout = timeout
        self._session_id: str | None = None
        self._http = requests.Session()
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=backoff_factor,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=IDEMPOTENT_METHODS,
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)
        self._http.headers["Accept"] = "application/json"
        if settings.api_key:
            self._http.headers["x-api-key"] = settings.api_key

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "MetabaseClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, params: Any = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body=body)

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def request(self, method: str, path: str, params: Any = None, body: Any = None) -> Any:
        """Send one request; sign in first when needed, and once more if the session expired."""
        if not self.settings.api_key and self._session_id is None:
            self.login()
        response = self._send(method, path, params, body)
        if response.status_code == 401 and not self.settings.api_key:
            log.info("Metabase session expired; signing in again")
            self.login()
            response = self._send(method, path, params, body)
        return self._decode(method, path, response)

    def login(self) -> None:
        """Open a session with the configured e-mail and password."""
        if not (self.settings.username and self.settings.password):
            raise MetabaseError("POST", "/api/session", 401, "no API key and no login configured")
        response = self._send(
            "POST",
            "/api/session",
            None,
            {"username": self.settings.username, "password": self.settings.password},
            authenticated=False,
        )
        body = self._decode("POST", "/api/session", response)
        self._set_session(body["id"])

    def properties(self) -> dict[str, Any]:
        """The public session properties (setup token, whether a user exists, version)."""
        response = self._send("GET", "/api/session/properties", None, None, authenticated=False)
        properties: dict[str, Any] = self._decode("GET", "/api/session/properties", response)
        return properties

    def setup_if_needed(self) -> bool:
        """Create the first admin user through the setup token if Metabase has none; True if so.

        The admin's e-mail is `setup_token_email` (or the login) and the password the connection's.
        """
        properties = self.properties()
        token = properties.get("setup-token")
        if properties.get("has-user-setup") or not token:
            return False
        email = self.settings.setup_token_email or self.settings.username
        if not (email and self.settings.password):
            raise MetabaseError("POST", "/api/setup", 400, "setup needs an e-mail and a password")
        body = {
            "token": token,
            "user": {"email": email, "password": self.settings.password, "first_name": "AANS"},
            "prefs": {"site_name": self.settings.site_name},
        }
        response = self._send("POST", "/api/setup", None, body, authenticated=False)
        answer = self._decode("POST", "/api/setup", response)
        if not self.settings.api_key:
            self._set_session(answer["id"])
        log.info("Metabase was new: created its first admin user")
        return True

    def _set_session(self, session_id: str) -> None:
        self._session_id = session_id
        self._http.headers["X-Metabase-Session"] = session_id

    def _send(
        self,
        method: str,
        path: str,
        params: Any,
        body: Any,
        authenticated: bool = True,
    ) -> Any:
        import requests

        # A None header value removes the session default: open endpoints get no credentials.
        headers = None if authenticated else {"X-Metabase-Session": None, "x-api-key": None}
        try:
            response = self._http.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=body,
                timeout=self.timeout,
                headers=headers,
            )
        except requests.RequestException as exc:
            raise MetabaseError(method, path, 0, f"{type(exc).__name__}: {exc}") from exc
        log.debug("%s %s -> %s", method, path, response.status_code)
        return response

    @staticmethod
    def _decode(method: str, path: str, response: Any) -> Any:
        if response.status_code >= 400:
            raise MetabaseError(method, path, response.status_code, _error_message(response))
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


def _error_message(response: Any) -> str:
    """Metabase's explanation: `message`, else the `errors` map, else the plain text body."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason
    if isinstance(body, dict):
        if body.get("message"):
            return str(body["message"])
        if body.get("errors"):
            errors = body["errors"]
            if isinstance(errors, dict):
                return "; ".join(f"{key}: {value}" for key, value in errors.items())
            return str(errors)
    return str(body)[:500]
