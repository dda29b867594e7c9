"""The cafes of the tenant and the traits that make each one behave differently."""

from dataclasses import dataclass

import numpy as np

from aans_analytics.tenant import catalog
from aans_analytics.tenant.clock import US_PER_DAY, US_PER_SECOND, ZoneCalendar, utc_us
from aans_analytics.tenant.spec import TenantSpec

MENU_SIZES = (15, 30)
CALLER_POOL = 2000
# Ids that belong to no cafe, for rows whose cafe does not exist.
GHOST_CAFES = 16


@dataclass(frozen=True)
class Cafes:
    """Per-cafe arrays, indexed by cafe number 0..count-1 (ids has GHOST_CAFES extra rows)."""

    count: int
    ids: np.ndarray
    names: list[str]
    zone: np.ndarray
    created_us: np.ndarray
    scale: np.ndarray
    profile: np.ndarray
    menu_size: np.ndarray
    menu_item: np.ndarray
    menu_price: np.ndarray
    delivery_cdf: np.ndarray
    cancel_share: np.ndarray
    missed_share: np.ndarray
    callers: np.ndarray
    rating_cdf: np.ndarray
    dormant: int | None
    opened_mid_range: np.ndarray


def build_cafes(
    spec: TenantSpec, calendar: ZoneCalendar, rng: np.random.Generator, ids: np.ndarray
) -> Cafes:
    """Draw every cafe's traits; `ids` holds count + GHOST_CAFES fresh uuids."""
    count = spec.cafes
    zone = np.arange(count) % len(catalog.ZONES)
    dormant = count - 1 if count >= 2 else None
    opened_mid_range = _mid_range_cafes(count, rng)
    created_us = _created_at(spec, calendar, rng, zone, opened_mid_range)

    scale = rng.lognormal(0.0, 0.35, count)
    if dormant is not None:
        scale[dormant] = 0.0
    # Rates are per active cafe: the sizes of the cafes with events average 1.
    scale /= scale[scale > 0].mean()

    menu_size, menu_item, menu_price = _menus(count, rng)
    return Cafes(
        count=count,
        ids=ids,
        names=[_name(i) for i in range(count)],
        zone=zone,
        created_us=created_us,
        scale=scale,
        profile=rng.integers(0, len(catalog.ORDER_PROFILES), count),
        menu_size=menu_size,
        menu_item=menu_item,
        menu_price=menu_price,
        delivery_cdf=np.cumsum(rng.dirichlet([2.0, 4.0, 3.0], count), axis=1),
        cancel_share=rng.uniform(0.02, 0.08, count),
        missed_share=rng.uniform(0.03, 0.12, count),
        callers=rng.integers(0, 10_000_000, (count, CALLER_POOL)),
        rating_cdf=_rating_cdfs(count, rng),
        dormant=dormant,
        opened_mid_range=opened_mid_range,
    )


def _name(number: int) -> str:
    first = catalog.NAME_FIRST[number % len(catalog.NAME_FIRST)]
    second = catalog.NAME_SECOND[(number // len(catalog.NAME_FIRST)) % len(catalog.NAME_SECOND)]
    return f"{first} {second} #{number + 1}"


def _mid_range_cafes(count: int, rng: np.random.Generator) -> np.ndarray:
    """About 8% of cafes open inside the period (at least one when there are three cafes or more).

    They are picked after the first cycle of zones where possible, so that every zone still has a
    cafe open for the whole period.
    """
    if count < 3:
        return np.array([], dtype=np.int64)
    wanted = max(1, round(count * 0.08))
    candidates = np.arange(len(catalog.ZONES), count - 1)
    if len(candidates) < wanted:
        candidates = np.arange(1, count - 1)
    return np.sort(rng.choice(candidates, size=min(wanted, len(candidates)), replace=False))


def _created_at(
    spec: TenantSpec,
    calendar: ZoneCalendar,
    rng: np.random.Generator,
    zone: np.ndarray,
    opened_mid_range: np.ndarray,
) -> np.ndarray:
    first_midnight = calendar.midnight_utc_us(zone, 0)
    days_before = rng.uniform(14, 700, len(zone))
    created = first_midnight - (days_before * US_PER_DAY).astype(np.int64)

    period_start = int(first_midnight.max()) + US_PER_DAY
    period_end = utc_us(spec.end_at) - US_PER_DAY
    if period_end <= period_start:
        period_start = period_end = (int(first_midnight.max()) + utc_us(spec.end_at)) // 2
    opened = rng.uniform(period_start, period_end + 1, len(opened_mid_range)).astype(np.int64)
    created[opened_mid_range] = opened
    # Whole seconds: an app stamps a sign-up with now(), but nothing here needs the microseconds.
    return created - created % US_PER_SECOND


def _menus(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cafe's menu: which catalogue items, in order of popularity, at the cafe's own prices."""
    catalogue = len(catalog.MENU)
    base_price = np.array([price for _, price in catalog.MENU])
    size = rng.integers(MENU_SIZES[0], MENU_SIZES[1] + 1, count)
    item = np.argsort(rng.random((count, catalogue)), axis=1)[:, : MENU_SIZES[1]]
    level = rng.uniform(0.8, 1.45, (count, 1))
    # Prices end in 0 or 5 cents, as menus do.
    price = (np.round(base_price[item] * level / 5) * 5).astype(np.int64)
    return size, item, price


def _rating_cdfs(count: int, rng: np.random.Generator) -> np.ndarray:
    """Per cafe, the cumulative shares of ratings 1..5: most cafes are loved, a few are not."""
    loved = np.array([0.05, 0.05, 0.10, 0.28, 0.52])
    mixed = np.array([0.22, 0.16, 0.22, 0.22, 0.18])
    weight = rng.beta(1.2, 4.0, (count, 1))
    return np.cumsum((1 - weight) * loved + weight * mixed, axis=1)
