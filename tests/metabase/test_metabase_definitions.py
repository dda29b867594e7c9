"""Native-query templates and the checks on dashboard definitions (no server needed)."""

import datetime as dt

import pytest

from aans_analytics.metabase import native
from aans_analytics.metabase.definitions import DefinitionError, load_dashboards

SQL = (
    "select count(*) from analytics.t as t where t.name like 'a%'"
    " [[and t.cafe_id = {{cafe_id}}]] [[and t.date >= {{ date_from }}]]"
)


def test_bind_keeps_only_blocks_with_values_and_escapes_percent():
    statement, params = native.bind(SQL, {"cafe_id": "x", "date_from": None})

    assert statement == (
        "select count(*) from analytics.t as t where t.name like 'a%%' and t.cafe_id = %(cafe_id)s "
    )
    assert params == {"cafe_id": "x"}


def test_bind_refuses_a_required_tag_without_value():
    with pytest.raises(ValueError, match="date_to"):
        native.bind("select 1 where x <= {{date_to}}", {})
    statement, params = native.bind("select {{d}}::date", {"d": dt.date(2026, 1, 2)})
    assert (statement, params) == ("select %(d)s::date", {"d": dt.date(2026, 1, 2)})


def test_tags_and_optional_tags():
    assert native.template_tags(SQL) == ["cafe_id", "date_from"]
    assert native.optional_tags(SQL + " and {{cafe_id}} is not null") == {"date_from"}


def _write(tmp_path, yaml_text: str, cards: dict[str, str]):
    definitions = tmp_path / "defs"
    definitions.mkdir()
    (definitions / "board.yaml").write_text(yaml_text)
    for key, sql in cards.items():
        (tmp_path / "sql" / "board").mkdir(parents=True, exist_ok=True)
        (tmp_path / "sql" / "board" / f"{key}.sql").write_text(sql)
    return definitions, tmp_path / "sql"


BOARD = """
name: Board
parameters: [{slug: cafe_id, name: Cafe, type: text}]
cards:
  - {key: a, name: A, display: scalar, position: [0, 0, 12, 4]}
  - {key: b, name: B, display: line, position: %s}
"""


@pytest.mark.parametrize(
    ("position", "sql_b", "message"),
    [
        ("[2, 6, 6, 4]", "select 1", "overlaps"),
        ("[0, 20, 6, 4]", "select 1", "wider than"),
        ("[4, 0, 0, 4]", "select 1", "positive"),
        ("[4, 0, 6, 4]", "select {{date_from}}", "not parameters"),
    ],
)
def test_inconsistent_definitions_are_refused(tmp_path, position, sql_b, message):
    definitions, sql_dir = _write(tmp_path, BOARD % position, {"a": "select 1", "b": sql_b})

    with pytest.raises(DefinitionError, match=message):
        load_dashboards(definitions, sql_dir)


def test_a_consistent_definition_loads(tmp_path):
    definitions, sql_dir = _write(
        tmp_path, BOARD % "[4, 0, 6, 4]", {"a": "select 1", "b": "select [[{{cafe_id}}]]"}
    )

    [board] = load_dashboards(definitions, sql_dir)

    tags = board.template_tags(board.cards[1])
    assert tags["cafe_id"]["type"] == "text" and tags["cafe_id"]["required"] is False
    assert tags == board.template_tags(board.cards[1]), "tag ids must be stable between runs"
