"""Business calendars (an IANA zone, working weekdays, one daily window, holidays) and ``ALWAYS``.

Pure arithmetic on timezone-aware instants (``add``, ``working_time``); nothing reads the clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)


class Weekday(IntEnum):
    """Days as ``date.weekday()`` numbers them: Monday is 0."""

    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6


WEEKDAYS = frozenset({Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI})
EVERY_DAY = frozenset(Weekday)


@dataclass(frozen=True, kw_only=True)
class WorkingHours:
    """One window per working day, as offsets from local midnight: 00:00 <= start < end <= 24:00."""

    start: timedelta
    end: timedelta

    def __post_init__(self) -> None:
        if not _ZERO <= self.start < self.end <= _DAY:
            raise ValueError(f"working hours {self} must satisfy 00:00 <= start < end <= 24:00")

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"

    @property
    def full_day(self) -> bool:
        return self.start == _ZERO and self.end == _DAY


NINE_TO_FIVE = WorkingHours(start=timedelta(hours=9), end=timedelta(hours=17))
FULL_DAY = WorkingHours(start=_ZERO, end=_DAY)


@dataclass(frozen=True, kw_only=True)
class BusinessCalendar:
    """When the SLA clock runs: ``hours`` on ``days`` except ``holidays``, read in ``timezone``.

    Instants in are any aware datetimes (naive ones are a ``ValueError``); instants out are UTC.
    Daylight saving: working time is real elapsed time. A window bound is the first instant at
    which the local wall clock reads at or past it that day, so a bound inside a skipped hour
    moves to the end of the skip (02:30 on a spring-forward night opens at 03:00) and a bound
    inside a repeated hour is its first occurrence. A 01:00-05:00 window so holds 3 h on a
    spring-forward day and 5 h on a fall-back day; 09:00-17:00 is always 8 h.
    """

    timezone: str
    days: frozenset[Weekday] = WEEKDAYS
    hours: WorkingHours = NINE_TO_FIVE
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as error:
            raise ValueError(
                f"{self.timezone!r} is not an IANA time zone like Europe/Berlin or UTC"
            ) from error
        if not self.days:
            raise ValueError("a business calendar needs at least one working day")
        if bad := sorted(day for day in self.days if day not in range(7)):
            raise ValueError(f"working days must be 0 (Monday) to 6 (Sunday), got {bad}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def always(self) -> bool:
        """True when every moment is working time: the arithmetic is plain subtraction."""
        return self.days == EVERY_DAY and self.hours.full_day and not self.holidays

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time in ``[start, end)``; zero when ``end <= start``."""
        lo, hi = _utc(start, "start"), _utc(end, "end")
        if hi <= lo:
            return _ZERO
        if self.always:
            return hi - lo
        total = _ZERO
        for opens, closes in self._windows(lo):
            if opens >= hi:
                return total
            if (overlap := min(closes, hi) - max(opens, lo)) > _ZERO:
                total += overlap
        raise AssertionError("unreachable: the windows never end")  # pragma: no cover

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant by which ``duration`` of working time has elapsed after ``start``.

        A start outside working hours begins counting at the next working moment; a duration
        that ends exactly at closing time is due at closing time, not at the next opening.
        """
        at = _utc(start, "start")
        if duration < _ZERO:
            raise ValueError(f"cannot add a negative duration ({duration}) of working time")
        if not duration:
            return at
        if self.always:
            return at + duration
        remaining = duration
        for opens, closes in self._windows(at):
            begin = max(opens, at)
            if begin >= closes:
                continue
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        raise AssertionError("unreachable: the windows never end")  # pragma: no cover

    def _windows(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Every working window (UTC bounds) from the local day of ``since`` on, one per day."""
        zone = self.zone
        day = since.astimezone(zone).date()
        while True:
            if day.weekday() in self.days and day not in self.holidays:
                yield _bound(zone, day, self.hours.start), _bound(zone, day, self.hours.end)
            day += _DAY


ALWAYS = BusinessCalendar(timezone="UTC", days=EVERY_DAY, hours=FULL_DAY)
"""24x7: working time is plain elapsed time, whatever the zone of the instants."""


def parse_hours(text: str) -> WorkingHours:
    """``"09:00-17:00"`` -> that window; ``"00:00-24:00"`` is the whole day. No overnight shifts."""
    match = _HOURS.match(text)
    if not match:
        raise ValueError(f"{text!r} is not working hours like 09:00-17:00")
    start, end = _offset(match[1], match[2], text), _offset(match[3], match[4], text)
    if start >= end:
        raise ValueError(f"{text!r}: working hours must end after they start, within one day")
    return WorkingHours(start=start, end=end)


def parse_days(spec: str | Iterable[str]) -> frozenset[Weekday]:
    """``"mon-fri"``, ``"mon,wed,fri"``, ``["sat", "sun"]`` or ``"fri-mon"`` (wraps) -> weekdays."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    if not items:
        raise ValueError(f"{spec!r} names no working days; use e.g. mon-fri")
    days: set[Weekday] = set()
    for item in items:
        first, dash, last = item.partition("-")
        a, b = _weekday(first, item, spec), _weekday(last if dash else first, item, spec)
        days.update(Weekday((a + step) % 7) for step in range((b - a) % 7 + 1))
    return frozenset(days)


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")
_NAMES = {
    name: day
    for day in Weekday
    for name in (
        day.name.lower(),
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[day],
    )
}


def _offset(hours: str, minutes: str, text: str) -> timedelta:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m):
        raise ValueError(f"{text!r}: {hours}:{minutes} is not a time of day (00:00 to 24:00)")
    return timedelta(hours=h, minutes=m)


def _weekday(name: str, item: str, spec: str | Iterable[str]) -> Weekday:
    try:
        return _NAMES[name.strip().lower()]
    except KeyError:
        raise ValueError(
            f"{item.strip()!r} in {spec!r} is not a day like mon, tue, ... sun or a range like "
            "mon-fri"
        ) from None


def _clock(offset: timedelta) -> str:
    minutes = offset // timedelta(minutes=1)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _utc(instant: datetime, name: str) -> datetime:
    if instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _bound(zone: ZoneInfo, day: date, offset: timedelta) -> datetime:
    """The first instant (UTC) at which the wall clock in ``zone`` reads ``day`` + ``offset``."""
    wall = datetime.combine(day, time()) + offset
    first = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first of a repeated time
    if _wall(first, zone) == wall:
        return first
    # ``wall`` was skipped: find the change, to the second, between the two readings of it.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC).replace(microsecond=0)
    below, above = 0, math.ceil((first - low) / _SECOND)
    while above - below > 1:
        middle = (below + above) // 2
        if _wall(low + middle * _SECOND, zone) >= wall:
            above = middle
        else:
            below = middle
    return low + above * _SECOND
