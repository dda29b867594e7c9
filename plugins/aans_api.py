"""The project's HTTP API, mounted on Airflow's own API server under `/aans`.

One FastAPI app, registered through the plugin mechanism `fastapi_apps`, holding:
- the alert endpoints (`aans_analytics.alerts.api.router`): `/aans/alerts`, `/aans/alerts/check`,
  `/aans/performance/summary`;
- the Metabase endpoints (`aans_analytics.metabase.api.router`) under `/aans/metabase`, when
  that module is installed.

Airflow does not put its authentication in front of plugin apps; every router here declares
Airflow's own security dependencies on its routes, so a request without a valid token is refused.
"""

import importlib
import logging
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI

log = logging.getLogger(__name__)

URL_PREFIX = "/aans"
# Routers that live in other parts of the project and may not exist in every checkout: the API
# serves what is there rather than failing to start.
OPTIONAL_ROUTERS = ("aans_analytics.metabase.api",)


def create_app() -> FastAPI:
    """The FastAPI app the plugin mounts."""
    from airflow.api_fastapi.core_api.security import requires_authenticated

    from aans_analytics.alerts.api import router as alerts_router

    # A floor under every router: whatever a router declares, an anonymous request is refused.
    authenticated = [Depends(requires_authenticated())]
    app = FastAPI(
        title="AANS analytics API",
        description="Alerts, API performance and Metabase dashboards of AANS analytics. "
        "Authenticate with a token from Airflow's `POST /auth/token`.",
        version="1",
    )
    app.include_router(alerts_router, dependencies=authenticated)
    for module_name in OPTIONAL_ROUTERS:
        router = _optional_router(module_name)
        if router is not None:
            app.include_router(router, dependencies=authenticated)
    return app


def _optional_router(module_name: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            log.info("%s is not installed; its endpoints are not served", module_name)
            return None
        log.exception("%s could not be imported; its endpoints are not served", module_name)
        return None
    except Exception:
        # A broken neighbour must not take the alert endpoints down with it.
        log.exception("%s could not be imported; its endpoints are not served", module_name)
        return None
    return getattr(module, "router", None)


class AansApiPlugin(AirflowPlugin):
    name = "aans_api"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "AANS analytics API"}]
