"""docker-compose.yaml: valid against the Compose Specification schema, complete, secret-free.

No container engine runs here, so these are static checks of the file; see docs/elk.md.
"""

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yaml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
SCHEMA = json.loads((Path(__file__).parent / "compose_schema" / "compose_spec.json").read_text())
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
]
SECRET_NAME = re.compile(r"PASSWORD|PASS$|SECRET|_KEY$|ENCRYPTIONKEY")


def documented_services() -> list[str]:
    """The service list of docs/elk.md (section "Services"), which the README repeats."""
    text = (ROOT / "docs" / "elk.md").read_text()
    section = text.split("## Services", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- `([a-z0-9-]+)`", section, re.M)


def test_file_is_valid_against_the_compose_schema():
    validator_class = jsonschema.validators.validator_for(SCHEMA)
    validator_class.check_schema(SCHEMA)
    errors = sorted(validator_class(SCHEMA).iter_errors(COMPOSE), key=lambda e: e.json_path)

    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors)


def test_the_schema_rejects_what_compose_rejects():
    broken = {"services": {"x": {"image": "a", "healthcheck": {"test": "true", "every": "1s"}}}}

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(broken)


def test_every_documented_service_is_defined():
    documented = documented_services()

    assert {"postgres", "elasticsearch", "logstash", "kibana", "metabase"} <= set(documented)
    assert set(AIRFLOW_SERVICES) <= set(documented)
    assert set(documented) <= set(SERVICES)


@pytest.mark.parametrize(
    "name", ["postgres", "elasticsearch", "logstash", "kibana", "metabase", *AIRFLOW_SERVICES]
)
def test_long_running_services_have_health_checks(name):
    healthcheck = SERVICES[name]["healthcheck"]

    assert healthcheck["test"] and not healthcheck.get("disable", False)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("postgres", "/var/lib/postgresql/data"),
        ("elasticsearch", "/usr/share/elasticsearch/data"),
        ("logstash", "/usr/share/logstash/data"),
        ("kibana", "/usr/share/kibana/data"),
        ("redis", "/data"),
        ("airflow-scheduler", "/opt/airflow/logs"),
    ],
)
def test_data_lives_in_named_volumes(name, path):
    mounts = dict(m.split(":")[:2][::-1] for m in SERVICES[name]["volumes"])

    assert mounts[path] in COMPOSE["volumes"]


def test_bind_mounted_and_built_files_exist():
    for service in SERVICES.values():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
        for env_file in service.get("env_file", []):
            assert (ROOT / env_file).is_file(), env_file
        if "build" in service:
            assert (ROOT / service["build"]["dockerfile"]).is_file()


def test_no_secret_is_written_in_the_file():
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert re.fullmatch(r"\$\{[A-Z_]+\}", str(value)), f"{name}: {key}"
    for url in re.findall(r"://[^\s'\"]*@", COMPOSE_TEXT):
        assert re.fullmatch(r"://[a-z_]*:\$\{[A-Z_]+\}@", url), url
    assert "change-me" not in COMPOSE_TEXT


def test_every_variable_the_file_uses_is_in_env_example():
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", COMPOSE_TEXT))
    example = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE, re.M))

    assert used and used <= example, used - example


def test_airflow_services_run_the_project():
    for name in [*AIRFLOW_SERVICES, "airflow-worker"]:
        service = SERVICES[name]
        targets = {m.split(":")[1] for m in service["volumes"]}
        env = service["environment"]
        assert {f"/opt/airflow/{d}" for d in ("dags", "include", "plugins", "sql", "config")} <= (
            targets
        )
        assert "/opt/airflow/include" in env["PYTHONPATH"].split(":")
        assert {"AIRFLOW_CONN_AANS_POSTGRES", "AIRFLOW_CONN_AANS_ELASTICSEARCH"} <= set(env)
        assert "config/airflow_elasticsearch.env" in service["env_file"]
    assert (
        "FROM apache/airflow:3.3.2-python3.11" in (ROOT / "docker/airflow.Dockerfile").read_text()
    )


def test_elasticsearch_runs_with_security_on():
    env = SERVICES["elasticsearch"]["environment"]

    assert env["xpack.security.enabled"] == "true"
    assert env["ELASTIC_PASSWORD"] == "${ELASTIC_PASSWORD}"
    assert SERVICES["kibana"]["environment"]["ELASTICSEARCH_USERNAME"] == "kibana_system"


def test_celery_profile_adds_broker_and_several_workers():
    assert SERVICES["redis"]["profiles"] == ["celery"]
    assert SERVICES["airflow-worker"]["profiles"] == ["celery"]
    assert SERVICES["airflow-worker"]["deploy"]["replicas"] >= 2
    assert "redis" in SERVICES["airflow-worker"]["depends_on"]
    executor = SERVICES["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"]
    assert executor == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert re.search(r"^AIRFLOW_EXECUTOR=LocalExecutor$", ENV_EXAMPLE, re.M)


def test_task_log_settings_point_airflow_at_the_project_logging_config():
    settings = dict(
        line.split("=", 1)
        for line in (ROOT / "config" / "airflow_elasticsearch.env").read_text().splitlines()
        if line and not line.startswith("#")
    )

    assert settings["AIRFLOW__LOGGING__REMOTE_LOGGING"] == "True"
    assert settings["AIRFLOW__ELASTICSEARCH__WRITE_TO_ES"] == "True"
    assert settings["AIRFLOW__ELASTICSEARCH__JSON_FORMAT"] == "True"
    from airflow.sdk._shared.module_loading import import_string

    assert isinstance(import_string(settings["AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS"]), dict)
