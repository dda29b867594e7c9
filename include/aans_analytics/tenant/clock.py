"""Local wall-clock time to UTC for every local day of the tenant, vectorised.

Each zone's calendar holds, per local day, the UTC offset at its midnight, the offset at the next
midnight and, when they differ, the UTC instant of the change. That is enough to place any wall time
of the day exactly, because no zone changes its offset twice in one day.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

US_PER_SECOND = 1_000_000
US_PER_HOUR = 3600 * US_PER_SECOND
US_PER_DAY = 24 * US_PER_HOUR
NO_TRANSITION = np.iinfo(np.int64).max
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class ZoneCalendar:
    """Offsets of `zones` for the local days first_day, first_day + 1, ... (arrays zone x day)."""

    zones: tuple[str, ...]
    first_day: date
    offset_start_us: np.ndarray
    offset_end_us: np.ndarray
    transition_us: np.ndarray

    @property
    def days(self) -> int:
        return int(self.offset_start_us.shape[1])

    def day_start_naive_us(self, day: int | np.ndarray) -> np.ndarray:
        """Local midnight of day index `day`, read as if it were UTC (a naive wall time)."""
        return np.asarray((np.int64((self.first_day - EPOCH).days) + day) * US_PER_DAY)

    def to_utc(self, zone: np.ndarray, day: np.ndarray | int, wall_us: np.ndarray) -> np.ndarray:
        """UTC microseconds of wall time `wall_us` after local midnight of `day` in `zone`.

        A wall time in the repeated hour of an autumn change is read as its first occurrence, and
        one in the skipped hour of a spring change lands just before the change; both are real
        instants, which is all the tenant needs.
        """
        naive = self.day_start_naive_us(day) + wall_us
        before = naive - self.offset_start_us[zone, day]
        after = naive - self.offset_end_us[zone, day]
        return np.where(before < self.transition_us[zone, day], before, after)

    def midnight_utc_us(self, zone: np.ndarray | int, day: np.ndarray | int) -> np.ndarray:
        """UTC microseconds of local midnight starting day index `day` in `zone`."""
        return self.day_start_naive_us(day) - self.offset_start_us[zone, day]


def build_calendar(zones: tuple[str, ...], first_day: date, days: int) -> ZoneCalendar:
    """The calendar of `zones` for `days` local days from `first_day`."""
    offsets = np.array(
        [
            [_midnight_offset_us(zone, first_day + timedelta(d)) for d in range(days + 1)]
            for zone in zones
        ],
        dtype=np.int64,
    )
    start, end = offsets[:, :-1], offsets[:, 1:]
    transitions = np.full(start.shape, NO_TRANSITION, dtype=np.int64)
    for z, d in zip(*np.nonzero(start != end), strict=True):
        transitions[z, d] = _transition_us(zones[z], first_day + timedelta(int(d)))
    return ZoneCalendar(zones, first_day, start.copy(), end.copy(), transitions)


def _midnight_offset_us(zone: str, day: date) -> int:
    offset = datetime.combine(day, time(), ZoneInfo(zone)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) * US_PER_SECOND


def _transition_us(zone: str, day: date) -> int:
    """The first UTC second of local `day` that has the offset of the next local midnight."""
    tz = ZoneInfo(zone)
    low = int(datetime.combine(day, time(), tz).timestamp())
    high = int(datetime.combine(day + timedelta(1), time(), tz).timestamp())
    target = datetime.fromtimestamp(high, tz).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == target:
            high = middle
        else:
            low = middle
    return high * US_PER_SECOND


def utc_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * US_PER_SECOND + delta.microseconds
