"""Deliberately invalid rows: every way DESIGN section 4 says a source row can be wrong.

A share of each table's rows is spoiled, one kind of fault per row, the kinds taken in turn so that
even a small tenant holds every kind. The rest of the row stays as generated.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from aans_analytics.tenant import catalog
from aans_analytics.tenant.frame import Frame

Fault = Callable[[Frame, np.ndarray, "Spoiler"], None]


def null(column: str) -> Fault:
    def spoil(frame: Frame, rows: np.ndarray, spoiler: "Spoiler") -> None:
        frame.set_null(column, rows)

    return spoil


def unknown_value(column: str, known: int, unknown: int) -> Fault:
    """A code past the `known` valid values of an enumeration, among `unknown` invalid ones."""

    def spoil(frame: Frame, rows: np.ndarray, spoiler: "Spoiler") -> None:
        frame.columns[column][rows] = known + spoiler.rng.integers(0, unknown, len(rows))

    return spoil


def value(column: str, fixed: int) -> Fault:
    def spoil(frame: Frame, rows: np.ndarray, spoiler: "Spoiler") -> None:
        frame.columns[column][rows] = fixed

    return spoil


def negative(column: str) -> Fault:
    def spoil(frame: Frame, rows: np.ndarray, spoiler: "Spoiler") -> None:
        values = frame.columns[column][rows]
        frame.columns[column][rows] = np.where(values > 0, -values, -1)
        # A missed call has no duration; give the spoiled one a (negative) value to show.
        if column in frame.nulls:
            frame.nulls[column][rows] = False

    return spoil


def unknown_cafe(frame: Frame, rows: np.ndarray, spoiler: "Spoiler") -> None:
    ghosts = spoiler.ghost_cafes
    frame.columns["cafe_id"][rows] = ghosts[spoiler.rng.integers(0, len(ghosts), len(rows))]


def missing_order(frame: Frame, rows: np.ndarray, spoiler: "Spoiler") -> None:
    frame.columns["order_id"][rows] = spoiler.new_ids(len(rows))


FAULTS: dict[str, dict[str, Fault]] = {
    "orders": {
        "null id": null("id"),
        "null cafe_id": null("cafe_id"),
        "null created_at": null("created_at"),
        "null delivery_type": null("delivery_type"),
        "null status": null("status"),
        "null total_amount": null("total_amount"),
        "unknown cafe": unknown_cafe,
        "unknown delivery_type": unknown_value(
            "delivery_type", len(catalog.DELIVERY_TYPES), len(catalog.UNKNOWN_DELIVERY_TYPES)
        ),
        "unknown status": unknown_value(
            "status", len(catalog.ORDER_STATUSES), len(catalog.UNKNOWN_ORDER_STATUSES)
        ),
        "negative total_amount": negative("total_amount"),
    },
    "order_items": {
        "null id": null("id"),
        "null order_id": null("order_id"),
        "null item_name": null("item_name"),
        "null quantity": null("quantity"),
        "null unit_price": null("unit_price"),
        "quantity 0": value("quantity", 0),
        "negative quantity": negative("quantity"),
        "negative unit_price": negative("unit_price"),
        "order does not exist": missing_order,
    },
    "calls": {
        "null id": null("id"),
        "null cafe_id": null("cafe_id"),
        "null started_at": null("started_at"),
        "null status": null("status"),
        "unknown cafe": unknown_cafe,
        "unknown status": unknown_value(
            "status", len(catalog.CALL_STATUSES), len(catalog.UNKNOWN_CALL_STATUSES)
        ),
        "negative duration_seconds": negative("duration_seconds"),
    },
    "reviews": {
        "null id": null("id"),
        "null cafe_id": null("cafe_id"),
        "null created_at": null("created_at"),
        "null rating": null("rating"),
        "unknown cafe": unknown_cafe,
        "rating 0": value("rating", 0),
        "rating 6": value("rating", 6),
    },
    "reservations": {
        "null id": null("id"),
        "null cafe_id": null("cafe_id"),
        "null created_at": null("created_at"),
        "null reserved_for": null("reserved_for"),
        "null party_size": null("party_size"),
        "null status": null("status"),
        "unknown cafe": unknown_cafe,
        "unknown status": unknown_value(
            "status", len(catalog.RESERVATION_STATUSES), len(catalog.UNKNOWN_RESERVATION_STATUSES)
        ),
        "party_size 0": value("party_size", 0),
        "negative party_size": negative("party_size"),
    },
}


@dataclass
class Spoiler:
    """Spoils `share` of the rows of each frame it is given, with its own random stream."""

    share: float
    rng: np.random.Generator
    ghost_cafes: np.ndarray
    new_ids: Callable[[int], np.ndarray]
    spoiled: dict[str, int] = field(default_factory=dict)

    def spoil(self, table: str, frame: Frame) -> None:
        faults = list(FAULTS[table].values())
        rows = np.flatnonzero(self.rng.random(len(frame)) < self.share)
        done = self.spoiled.get(table, 0)
        fault_of_row = (done + np.arange(len(rows))) % len(faults)
        for number, fault in enumerate(faults):
            fault(frame, rows[fault_of_row == number], self)
        self.spoiled[table] = done + len(rows)
