"""Metabase native-query templates: `{{tag}}` variables and optional `[[ ... ]]` blocks.

Metabase fills these itself; the static renderer and the tests run the same SQL directly on
PostgreSQL, so this module turns a template plus values into a statement with bound parameters.
"""

import re
from collections.abc import Mapping

TAG_PATTERN = re.compile(r"\{\{\s*(\w+)\s*\}\}")
OPTIONAL_PATTERN = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


def template_tags(sql: str) -> list[str]:
    """The tag names a template uses, in order of first appearance."""
    return list(dict.fromkeys(TAG_PATTERN.findall(sql)))


def optional_tags(sql: str) -> set[str]:
    """The tags that appear only inside optional blocks (a query runs without them)."""
    inside = {tag for block in OPTIONAL_PATTERN.findall(sql) for tag in TAG_PATTERN.findall(block)}
    outside = set(TAG_PATTERN.findall(OPTIONAL_PATTERN.sub("", sql)))
    return inside - outside


def bind(sql: str, values: Mapping[str, object]) -> tuple[str, dict[str, object]]:
    """Return (statement, params) for psycopg2: optional blocks kept only when all their tags have
    a value, and every remaining tag a `%(name)s` placeholder. A required tag without a value is an
    error, as it is in Metabase.
    """
    given = {name: value for name, value in values.items() if value is not None}
    # psycopg2 treats every % as a placeholder marker; the template's own % must be doubled first.
    text = sql.replace("%", "%%")

    def keep_block(match: re.Match[str]) -> str:
        block = match.group(1)
        return block if all(tag in given for tag in TAG_PATTERN.findall(block)) else ""

    text = OPTIONAL_PATTERN.sub(keep_block, text)
    used = template_tags(text)
    missing = [tag for tag in used if tag not in given]
    if missing:
        raise ValueError(f"Template tags without a value: {', '.join(missing)}")
    text = TAG_PATTERN.sub(lambda match: f"%({match.group(1)})s", text)
    return text, {tag: given[tag] for tag in used}
