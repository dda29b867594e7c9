"""One local day of events for every cafe: orders and their items, calls, reviews and bookings.

Everything is drawn in the cafe's local time (hour of day, weekday), then placed in UTC through the
zone calendar. Each table draws from its own random stream, so the rows are a pure function of the
spec, whatever order the tables are generated in.
"""

from dataclasses import dataclass

import numpy as np

from aans_analytics.tenant import catalog
from aans_analytics.tenant.cafes import CALLER_POOL, Cafes
from aans_analytics.tenant.clock import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    ZoneCalendar,
    utc_us,
)
from aans_analytics.tenant.frame import Frame
from aans_analytics.tenant.spec import TenantSpec

# One cafe-day in this many has an event at exactly 00:00:00 local time, and another one in as many
# has one at its last microsecond, the edges a date computation most easily gets wrong. A fixed
# cadence (not chance) so that small tenants have some.
MIDNIGHT_CADENCE = 16
US_PER_QUARTER = 15 * 60 * US_PER_SECOND


def cdf(weights: np.ndarray | list[float]) -> np.ndarray:
    """Cumulative shares of `weights`, ending at exactly 1 so that a uniform draw always lands."""
    shares = np.cumsum(weights) / np.sum(weights)
    shares[-1] = 1.0
    return shares


QUANTITIES = np.array([1, 2, 3, 4, 6])
QUANTITY_CDF = cdf([0.80, 0.14, 0.04, 0.015, 0.005])
PARTY_CDF = cdf(catalog.PARTY_WEIGHTS)
SLOT_CDF = cdf(catalog.SLOT_WEIGHTS)
# Reservation outcomes, in RESERVATION_STATUSES order (pending, confirmed, completed, cancelled,
# no_show): a past slot has mostly been honoured; a future one is still open.
PAST_STATUS_CDF = cdf([0.02, 0.04, 0.74, 0.12, 0.08])
FUTURE_STATUS_CDF = cdf([0.35, 0.55, 0.0, 0.10, 0.0])
COMMENT_SHARE = 0.55
WITHHELD_NUMBER_SHARE = 0.07
# Answered calls without a duration are valid (the app lost the hang-up), just not averaged.
LOST_DURATION_SHARE = 0.004
COMMENTS = catalog.COMMENTS_NEGATIVE + catalog.COMMENTS_NEUTRAL + catalog.COMMENTS_POSITIVE


def stacked_cdfs(profiles: np.ndarray) -> np.ndarray:
    """Cumulative hour shares of each profile, profile p shifted up by p, flattened.

    Searching `u + p` in it draws an hour from profile p for a whole array of events at once.
    """
    shares = np.cumsum(profiles, axis=1) / profiles.sum(axis=1, keepdims=True)
    shares[:, -1] = 1.0
    return (shares + np.arange(len(profiles))[:, None]).ravel()


def new_ids(rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` random (version 4) uuids as rows of 16 bytes, drawn from the seeded `rng`."""
    ids = np.frombuffer(rng.bytes(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    ids[:, 6] = (ids[:, 6] & 0x0F) | 0x40
    ids[:, 8] = (ids[:, 8] & 0x3F) | 0x80
    return ids


@dataclass
class Streams:
    """The random streams of the tables, spawned from the spec's seed."""

    orders: np.random.Generator
    calls: np.random.Generator
    reviews: np.random.Generator
    reservations: np.random.Generator
    ids: np.random.Generator


class DayGenerator:
    """Generates day after day of valid rows; `day(k)` gives local day start_date + k."""

    def __init__(self, spec: TenantSpec, cafes: Cafes, calendar: ZoneCalendar, streams: Streams):
        self.spec = spec
        self.cafes = cafes
        self.calendar = calendar
        self.streams = streams
        self.end_us = utc_us(spec.end_at)
        self.weekday0 = spec.start_date.weekday()
        self.order_hours = stacked_cdfs(catalog.ORDER_PROFILES)
        self.call_hours = stacked_cdfs(catalog.CALL_PROFILES)
        self.review_hours = stacked_cdfs(catalog.REVIEW_PROFILES)
        self.booking_hours = stacked_cdfs(catalog.BOOKING_PROFILE[None, :])
        self.call_load = catalog.CALL_PROFILES / catalog.CALL_PROFILES.max(axis=1, keepdims=True)

    def day(self, day: int) -> dict[str, Frame]:
        orders, items = self.orders(day)
        return {
            "orders": orders,
            "order_items": items,
            "calls": self.calls(day),
            "reviews": self.reviews(day),
            "reservations": self.reservations(day),
        }

    def new_ids(self, count: int) -> np.ndarray:
        return new_ids(self.streams.ids, count)

    def arrivals(
        self,
        rng: np.random.Generator,
        per_day: float,
        hours: np.ndarray,
        profile: np.ndarray,
        day: int,
        salt: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Events of one local day: (cafe, wall time in microseconds after local midnight, UTC).

        Events of a cafe before it was created or after end_at are dropped.
        """
        weekday = (self.weekday0 + day) % 7
        counts = rng.poisson(per_day * catalog.WEEKDAY_FACTOR[weekday] * self.cafes.scale)
        cafe = np.repeat(np.arange(self.cafes.count), counts)
        kind = profile[cafe]
        hour = np.searchsorted(hours, rng.random(len(cafe)) + kind, side="right") - kind * 24
        wall = np.minimum(hour, 23) * US_PER_HOUR + rng.integers(0, US_PER_HOUR, len(cafe))

        first = np.cumsum(counts) - counts
        cadence = (np.arange(self.cafes.count) * 7 + day * 3 + salt) % MIDNIGHT_CADENCE
        wall[first[(cadence == 0) & (counts > 0)]] = 0
        wall[first[(cadence == MIDNIGHT_CADENCE // 2) & (counts > 0)]] = US_PER_DAY - 1

        utc = self.calendar.to_utc(self.cafes.zone[cafe], day, wall)
        keep = (utc >= self.cafes.created_us[cafe]) & (utc <= self.end_us)
        return cafe[keep], wall[keep], utc[keep]

    def orders(self, day: int) -> tuple[Frame, Frame]:
        rng, cafes = self.streams.orders, self.cafes
        cafe, _, created = self.arrivals(
            rng, self.spec.orders_per_cafe_day, self.order_hours, cafes.profile, day, salt=0
        )
        count = len(cafe)

        lines = 1 + np.minimum(rng.poisson(1.5, count), 7)
        line_order = np.repeat(np.arange(count), lines)
        line_cafe = cafe[line_order]
        # Squaring a uniform favours the top of each menu: a few items make most of the sales.
        rank = (rng.random(len(line_order)) ** 2 * cafes.menu_size[line_cafe]).astype(np.int64)
        item = cafes.menu_item[line_cafe, rank]
        price = cafes.menu_price[line_cafe, rank]
        quantity = QUANTITIES[np.searchsorted(QUANTITY_CDF, rng.random(len(line_order)))]
        line_total = quantity * price
        total = np.add.reduceat(line_total, np.cumsum(lines) - lines) if count else line_total

        delivery = (rng.random(count)[:, None] >= cafes.delivery_cdf[cafe]).sum(axis=1)
        delivery = np.minimum(delivery, len(catalog.DELIVERY_TYPES) - 1)
        # Deliveries are cancelled more often than orders at the counter.
        cancel_share = cafes.cancel_share[cafe] * np.where(delivery == 0, 1.8, 0.8)
        status = (rng.random(count) < cancel_share).astype(np.int8)

        ids = self.new_ids(count)
        orders = Frame(
            created,
            {
                "id": ids,
                "cafe_id": cafes.ids[cafe],
                "created_at": created,
                "delivery_type": delivery.astype(np.int8),
                "status": status,
                "total_amount": total.astype(np.int64),
            },
        )
        items = Frame(
            created[line_order],
            {
                # Numbered when written, in the order the rows land on disk, like a sequence.
                "id": np.zeros(len(line_order), dtype=np.int64),
                "order_id": ids[line_order],
                "item_name": item,
                "quantity": quantity.astype(np.int32),
                "unit_price": price,
            },
        )
        return orders, items

    def calls(self, day: int) -> Frame:
        rng, cafes = self.streams.calls, self.cafes
        cafe, wall, started = self.arrivals(
            rng, self.spec.calls_per_cafe_day, self.call_hours, cafes.profile, day, salt=5
        )
        count = len(cafe)

        # Busy hours miss more calls: the line is engaged while staff serve the room.
        load = self.call_load[cafes.profile[cafe], wall // US_PER_HOUR]
        missed = rng.random(count) < cafes.missed_share[cafe] + 0.12 * load
        duration = np.clip(rng.lognormal(np.log(95), 0.65, count), 4, 3600).astype(np.int32)
        caller = cafes.callers[cafe, (rng.random(count) ** 2 * CALLER_POOL).astype(np.int64)]
        lost = ~missed & (rng.random(count) < LOST_DURATION_SHARE)
        withheld = rng.random(count) < WITHHELD_NUMBER_SHARE

        frame = Frame(
            started,
            {
                "id": self.new_ids(count),
                "cafe_id": cafes.ids[cafe],
                "started_at": started,
                "status": missed.astype(np.int8),
                "duration_seconds": duration,
                "caller_phone": caller,
            },
        )
        frame.set_null("duration_seconds", np.flatnonzero(missed | lost))
        frame.set_null("caller_phone", np.flatnonzero(withheld))
        return frame

    def reviews(self, day: int) -> Frame:
        rng, cafes = self.streams.reviews, self.cafes
        cafe, _, created = self.arrivals(
            rng, self.spec.reviews_per_cafe_day, self.review_hours, cafes.profile, day, salt=11
        )
        count = len(cafe)

        rating = 1 + (rng.random(count)[:, None] >= cafes.rating_cdf[cafe]).sum(axis=1)
        rating = np.minimum(rating, 5)
        negative, neutral = len(catalog.COMMENTS_NEGATIVE), len(catalog.COMMENTS_NEUTRAL)
        positive = len(catalog.COMMENTS_POSITIVE)
        first = np.select([rating <= 2, rating == 3], [0, negative], negative + neutral)
        size = np.select([rating <= 2, rating == 3], [negative, neutral], positive)
        comment = first + (rng.random(count) * size).astype(np.int64)

        frame = Frame(
            created,
            {
                "id": self.new_ids(count),
                "cafe_id": cafes.ids[cafe],
                "created_at": created,
                "rating": rating.astype(np.int16),
                "comment": comment,
            },
        )
        frame.set_null("comment", np.flatnonzero(rng.random(count) >= COMMENT_SHARE))
        return frame

    def reservations(self, day: int) -> Frame:
        """Bookings made on this local day, for a slot on this day or up to three weeks ahead."""
        rng, cafes = self.streams.reservations, self.cafes
        no_profile = np.zeros(cafes.count, dtype=np.int64)
        cafe, wall, created = self.arrivals(
            rng, self.spec.reservations_per_cafe_day, self.booking_hours, no_profile, day, salt=3
        )
        count = len(cafe)

        ahead = np.where(rng.random(count) < 0.25, 0, np.minimum(rng.geometric(0.3, count), 21))
        slot = np.searchsorted(SLOT_CDF, rng.random(count)) * US_PER_QUARTER
        ahead[(ahead == 0) & (slot <= wall + 2 * US_PER_QUARTER)] = 1
        _, first = np.unique(cafe, return_index=True)
        at_midnight = first[(cafe[first] * 5 + day) % MIDNIGHT_CADENCE == 0]
        slot[at_midnight] = 0
        ahead[at_midnight] = np.maximum(ahead[at_midnight], 1)
        reserved = self.calendar.to_utc(cafes.zone[cafe], day + ahead, slot)

        past = reserved <= self.end_us
        status_cdf = np.where(past[:, None], PAST_STATUS_CDF, FUTURE_STATUS_CDF)
        status = (rng.random(count)[:, None] >= status_cdf).sum(axis=1)
        party = catalog.PARTY_SIZES[np.searchsorted(PARTY_CDF, rng.random(count))]

        return Frame(
            created,
            {
                "id": self.new_ids(count),
                "cafe_id": cafes.ids[cafe],
                "created_at": created,
                "reserved_for": reserved,
                "party_size": party.astype(np.int32),
                "status": np.minimum(status, len(catalog.RESERVATION_STATUSES) - 1).astype(np.int8),
            },
        )
