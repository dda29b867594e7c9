"""Columns of generated rows, kept as numpy arrays, and their rendering as COPY text.

A frame is one table's rows: named columns, a NULL mask for the columns that have NULLs, and the
moment the app would have appended each row (`key`), which orders the rows on disk.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

Formatter = Callable[[np.ndarray], list[str]]
COPY_NULL = "\\N"


@dataclass
class Frame:
    key: np.ndarray
    columns: dict[str, np.ndarray]
    nulls: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.key)

    def take(self, index: np.ndarray | slice) -> "Frame":
        return Frame(
            self.key[index],
            {name: values[index] for name, values in self.columns.items()},
            {name: mask[index] for name, mask in self.nulls.items()},
        )

    def set_null(self, column: str, rows: np.ndarray) -> None:
        mask = self.nulls.get(column)
        if mask is None:
            mask = self.nulls[column] = np.zeros(len(self), dtype=bool)
        mask[rows] = True

    def sorted(self) -> "Frame":
        # Stable, so that the lines of one order stay together and in their order.
        return self.take(np.argsort(self.key, kind="stable"))


def concat(frames: Sequence[Frame]) -> Frame:
    """The rows of `frames` one after another (all frames have the same columns)."""
    frames = [frame for frame in frames if len(frame)] or list(frames[:1])
    if len(frames) == 1:
        return frames[0]
    masked = {name for frame in frames for name in frame.nulls}
    return Frame(
        np.concatenate([frame.key for frame in frames]),
        {name: np.concatenate([f.columns[name] for f in frames]) for name in frames[0].columns},
        {name: np.concatenate([_mask(f, name) for f in frames]) for name in masked},
    )


def _mask(frame: Frame, column: str) -> np.ndarray:
    mask = frame.nulls.get(column)
    return mask if mask is not None else np.zeros(len(frame), dtype=bool)


def copy_text(frame: Frame, layout: Sequence[tuple[str, Formatter]]) -> bytes:
    """The frame's rows as PostgreSQL COPY text, columns in `layout` order."""
    rendered = []
    for name, formatter in layout:
        values = formatter(frame.columns[name])
        mask = frame.nulls.get(name)
        if mask is not None:
            for row in np.flatnonzero(mask).tolist():
                values[row] = COPY_NULL
        rendered.append(values)
    return ("\n".join(map("\t".join, zip(*rendered, strict=True))) + "\n").encode()


def copy_escape(text: str) -> str:
    """`text` as a COPY text field: backslash, tab, newline and carriage return escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def format_uuid(values: np.ndarray) -> list[str]:
    # PostgreSQL accepts the 32 hex digits without hyphens, which saves slicing every id.
    digits = values.tobytes().hex()
    return [digits[start : start + 32] for start in range(0, len(digits), 32)]


def format_timestamp(values: np.ndarray) -> list[str]:
    text = np.datetime_as_string(values.astype("datetime64[us]"), unit="us")
    return [f"{moment}+00" for moment in text.tolist()]


def format_int(values: np.ndarray) -> list[str]:
    return list(map(str, values.tolist()))


def format_cents(values: np.ndarray) -> list[str]:
    # Whole cents divided by 100 print exactly at two decimals for any amount numeric(10,2) holds.
    return [f"{amount:.2f}" for amount in (values / 100).tolist()]


def format_phone(values: np.ndarray) -> list[str]:
    # +1 555 numbers are reserved for fiction: no caller here can be a real person.
    return [f"+1555{number:07d}" for number in values.tolist()]


def format_choice(options: Sequence[str]) -> Formatter:
    """A formatter of codes that index `options` (text, escaped once here)."""
    table = np.array([copy_escape(option) for option in options], dtype=object)

    def format_codes(values: np.ndarray) -> list[str]:
        result: list[str] = table[values].tolist()
        return result

    return format_codes
