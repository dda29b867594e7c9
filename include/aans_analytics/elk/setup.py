"""Prepares Elasticsearch for the project: retention policies, index templates, users and roles.

Idempotent: every call puts the same definitions again. docker-compose runs it once per start
(`python -m aans_analytics.elk.setup`) before Logstash, Kibana and Airflow connect; the
definitions live as JSON under `include/elasticsearch/`.
"""

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from aans_analytics.paths import INCLUDE_DIR

log = logging.getLogger(__name__)

DEFINITIONS_DIR = INCLUDE_DIR / "elasticsearch"
TASK_LOG_ALIAS = "airflow-logs"
# The first backing index behind the alias; ILM rolls over to -000002 and so on.
TASK_LOG_FIRST_INDEX = "airflow-logs-000001"

# Least privilege per component. Logstash only creates request documents (and the daily index);
# Airflow writes and reads task logs and reads request logs for api_performance.
ROLES: dict[str, dict[str, Any]] = {
    "aans_logstash_writer": {
        "cluster": ["monitor"],
        "indices": [
            {
                "names": ["aans-requests-*"],
                "privileges": ["create_doc", "create_index", "auto_configure"],
            }
        ],
    },
    "aans_airflow": {
        "cluster": ["monitor"],
        "indices": [
            {
                "names": [TASK_LOG_ALIAS, f"{TASK_LOG_ALIAS}-*"],
                "privileges": ["write", "read", "view_index_metadata"],
            },
            {"names": ["aans-requests-*"], "privileges": ["read", "view_index_metadata"]},
        ],
    },
}
# user name -> (role, environment variable holding its password)
USERS = {
    "logstash_writer": ("aans_logstash_writer", "LOGSTASH_WRITER_PASSWORD"),
    "airflow": ("aans_airflow", "AIRFLOW_ES_PASSWORD"),
}


def load_definition(relative_path: str) -> dict[str, Any]:
    """A JSON body kept under `include/elasticsearch/`."""
    body: dict[str, Any] = json.loads((DEFINITIONS_DIR / relative_path).read_text(encoding="utf-8"))
    return body


def install_definitions(client: Any) -> list[str]:
    """Put the ILM policies and index templates; create the first task-log index once."""
    done = []
    for path in sorted((DEFINITIONS_DIR / "ilm").glob("*.json")):
        client.ilm.put_lifecycle(name=path.stem, body=load_definition(f"ilm/{path.name}"))
        done.append(f"ilm policy {path.stem}")
    for path in sorted(DEFINITIONS_DIR.glob("*.index-template.json")):
        name = path.name.removesuffix(".index-template.json")
        client.indices.put_index_template(name=name, body=load_definition(path.name))
        done.append(f"index template {name}")
    if not client.indices.exists_alias(name=TASK_LOG_ALIAS):
        # The task handler writes to the alias; ILM rolls the backing index over.
        client.indices.create(
            index=TASK_LOG_FIRST_INDEX, aliases={TASK_LOG_ALIAS: {"is_write_index": True}}
        )
        done.append(f"index {TASK_LOG_FIRST_INDEX} behind alias {TASK_LOG_ALIAS}")
    for item in done:
        log.info("Elasticsearch: put %s", item)
    return done


def install_security(client: Any, passwords: dict[str, str]) -> list[str]:
    """Create the roles and users; set the built-in `kibana_system` user's password.

    `passwords` maps the environment variable names of `USERS` (and `KIBANA_SYSTEM_PASSWORD`)
    to their values.
    """
    done = []
    for role, body in ROLES.items():
        client.security.put_role(name=role, body=body)
        done.append(f"role {role}")
    for user, (role, variable) in USERS.items():
        client.security.put_user(username=user, password=passwords[variable], roles=[role])
        done.append(f"user {user}")
    client.security.change_password(
        username="kibana_system", password=passwords["KIBANA_SYSTEM_PASSWORD"]
    )
    done.append("password of kibana_system")
    for item in done:
        log.info("Elasticsearch: put %s", item)
    return done


def wait_until_up(client: Any, timeout_s: float = 300.0) -> None:
    """Poll cluster health until it is yellow or green, or raise after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            status = client.cluster.health(wait_for_status="yellow", timeout="5s")["status"]
            if status in ("yellow", "green"):
                return
        except Exception as error:  # the node may refuse connections while it starts
            if time.monotonic() > deadline:
                raise TimeoutError(f"Elasticsearch not up after {timeout_s} s") from error
            log.info("Waiting for Elasticsearch: %s", type(error).__name__)
        if time.monotonic() > deadline:
            raise TimeoutError(f"Elasticsearch not healthy after {timeout_s} s")
        time.sleep(2)


def main() -> None:
    """Entry point of the compose `elasticsearch-setup` service; settings from the environment."""
    from elasticsearch import Elasticsearch

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    options: dict[str, Any] = {}
    ca_certs = os.environ.get("ELASTICSEARCH_CA_CERTS")
    if ca_certs and Path(ca_certs).exists():
        options["ca_certs"] = ca_certs
    client = Elasticsearch(
        os.environ.get("ELASTICSEARCH_URL", "http://elasticsearch:9200"),
        basic_auth=("elastic", os.environ["ELASTIC_PASSWORD"]),
        request_timeout=30,
        **options,
    )
    wait_until_up(client)
    passwords = {
        name: os.environ[name]
        for name in ("LOGSTASH_WRITER_PASSWORD", "AIRFLOW_ES_PASSWORD", "KIBANA_SYSTEM_PASSWORD")
    }
    install_security(client, passwords)
    install_definitions(client)


if __name__ == "__main__":
    main()
