"""Static checks of the Logstash pipeline: Logstash itself cannot run here.

The path-normalisation rules are read out of `aans-requests.conf` and applied with Python's `re`,
whose syntax matches Ruby's for the constructs used (classes, quantifiers, lookarounds); the
document fields the pipeline keeps are compared with DESIGN section 5b and the index template.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = (ROOT / "include" / "logstash" / "pipeline" / "aans-requests.conf").read_text()
PATTERNS = (ROOT / "include" / "logstash" / "patterns" / "aans").read_text()
TEMPLATE = json.loads(
    (ROOT / "include" / "elasticsearch" / "aans-requests.index-template.json").read_text()
)
DESIGN_FIELDS = {
    "@timestamp",
    "method",
    "endpoint",
    "status",
    "duration_ms",
    "cache_hit",
    "service",
    "level",
}


def gsub_rules() -> list[tuple[str, str, str]]:
    block = re.search(r"gsub => \[(.*?)\n\s*\]", PIPELINE, re.S).group(1)
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', block)
    return [tuple(strings[i : i + 3]) for i in range(0, len(strings), 3)]


def normalise(path: str) -> str:
    value = path
    for field, pattern, replacement in gsub_rules():
        assert field == "endpoint"
        value = re.sub(pattern, replacement, value)
    return value


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/api/orders/123", "/api/orders/:id"),
        ("/api/orders/5f0c1e2a9b3d4c5e6f708192", "/api/orders/:id"),
        ("/api/orders/5f0c1e2a-0000-4000-8000-123456789012/items", "/api/orders/:id/items"),
        ("/api/cafes/42/orders/77?status=open", "/api/cafes/:id/orders/:id"),
        ("/api/menu", "/api/menu"),
        ("/api/menu/", "/api/menu"),
        ("/api/v2/reviews", "/api/v2/reviews"),
        ("/api/cafes/north-side/menu", "/api/cafes/north-side/menu"),
        ("/", "/"),
    ],
)
def test_paths_are_normalised_to_endpoints(path, endpoint):
    assert normalise(path) == endpoint


@pytest.mark.parametrize(
    ("duration", "value", "unit"),
    [("123ms", "123", "ms"), ("1.5s", "1.5", "s"), ("850", "850", None), ("12 ms", "12", "ms")],
)
def test_duration_pattern(duration, value, unit):
    units = re.search(r"^AANS_DURATION_UNIT (.*)$", PATTERNS, re.M).group(1)
    pattern = rf"^(?P<value>[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?:(?P<unit>{units}))?$"
    assert "%{NUMBER:[@metadata][duration_value]:float}" in PATTERNS

    match = re.match(pattern, duration)

    assert match and match["value"] == value and match["unit"] == unit


def test_only_the_design_fields_are_kept():
    whitelist = re.search(r"whitelist_names => \[(.*?)\]", PIPELINE, re.S).group(1)
    kept = {name.strip("^$") for name in re.findall(r'"([^"]+)"', whitelist)}

    assert kept == DESIGN_FIELDS | {"tags"}
    assert set(TEMPLATE["template"]["mappings"]["properties"]) == DESIGN_FIELDS


def test_output_goes_to_daily_indices_the_template_covers():
    index = re.search(r'index => "([^"]+)"', PIPELINE).group(1)

    assert index == "aans-requests-%{+YYYY.MM.dd}"
    assert TEMPLATE["index_patterns"] == ["aans-requests-*"]
