"""What tenant to generate: size, period, seed and the share of deliberately invalid rows."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aans_analytics.tenant.catalog import MAX_UTC_OFFSET_HOURS


@dataclass(frozen=True, kw_only=True)
class TenantSpec:
    """A synthetic AANS tenant. The same spec always gives the same rows, ids included.

    `start_date` is the first local calendar day with events; `end_at` (aware) is the instant the
    tenant is generated up to, so the current local day exists partly ("today so far").
    Rates are per cafe and local day, averaged over the week and over cafes.
    """

    cafes: int = 20
    start_date: date
    end_at: datetime
    seed: int = 7
    invalid_share: float = 0.004
    orders_per_cafe_day: float = 150.0
    calls_per_cafe_day: float = 250.0
    reviews_per_cafe_day: float = 10.0
    reservations_per_cafe_day: float = 20.0

    def __post_init__(self) -> None:
        if self.end_at.tzinfo is None or self.end_at.utcoffset() is None:
            raise ValueError("end_at must be timezone-aware")
        if self.cafes < 1:
            raise ValueError("a tenant needs at least one cafe")
        if not 0 <= self.invalid_share < 1:
            raise ValueError("invalid_share must be in [0, 1)")
        if self.last_local_date < self.start_date:
            raise ValueError("end_at must not be before start_date")
        rates = (
            self.orders_per_cafe_day,
            self.calls_per_cafe_day,
            self.reviews_per_cafe_day,
            self.reservations_per_cafe_day,
        )
        if min(rates) < 0:
            raise ValueError("rates must not be negative")

    @property
    def end_at_utc(self) -> datetime:
        return self.end_at.astimezone(UTC)

    @property
    def last_local_date(self) -> date:
        """The latest local date any zone can be on at `end_at`."""
        return (self.end_at_utc + timedelta(hours=MAX_UTC_OFFSET_HOURS)).date()

    @property
    def days(self) -> int:
        """Local calendar days the generator walks through, from start_date to last_local_date."""
        return (self.last_local_date - self.start_date).days + 1

    @classmethod
    def last_days(cls, days: int, end_at: datetime, **options: Any) -> "TenantSpec":
        """A spec whose events cover the `days` UTC calendar days up to and including end_at's."""
        start = end_at.astimezone(UTC).date() - timedelta(days=days - 1)
        return cls(start_date=start, end_at=end_at, **options)
