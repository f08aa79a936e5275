"""Business calendars: working time and deadlines across hours, weekends, holidays and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kt_jira.tickets.calendar import (
    ALWAYS,
    EVERY_DAY,
    WEEKDAYS,
    BusinessCalendar,
    Weekday,
    WorkingHours,
    parse_days,
    parse_hours,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)

OFFICE = BusinessCalendar(timezone="Europe/Berlin")
CHRISTMAS = BusinessCalendar(
    timezone="Europe/Berlin", holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)})
)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def utc(instant: datetime) -> datetime:
    """Sort and subtract in UTC: same-zone datetimes compare and subtract by wall clock."""
    return instant.astimezone(UTC)


def nightly(zone: str, hours: str, **extra: frozenset[date]) -> BusinessCalendar:
    return BusinessCalendar(timezone=zone, days=EVERY_DAY, hours=parse_hours(hours), **extra)


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("09:00-17:00", 9 * H, 17 * H),
        (" 9:30 – 18:00 ", 9.5 * H, 18 * H),
        ("00:00-24:00", 0 * H, 24 * H),
    ],
)
def test_parse_hours(text: str, start: timedelta, end: timedelta) -> None:
    """Working hours parse as one HH:MM-HH:MM window, up to 24:00."""
    assert parse_hours(text) == WorkingHours(start=start, end=end)


@pytest.mark.parametrize(
    "text", ["9-17", "17:00-09:00", "09:00-09:00", "09:60-10:00", "24:30-25:00", ""]
)
def test_bad_hours_name_the_input(text: str) -> None:
    """Malformed, reversed, empty or overnight windows are ValueErrors quoting the input."""
    with pytest.raises(ValueError, match=repr(text)):
        parse_hours(text)


def test_working_hours_reject_out_of_range_offsets() -> None:
    """A window built in code must still lie within one day and end after it starts."""
    with pytest.raises(ValueError, match="start < end"):
        WorkingHours(start=20 * H, end=25 * H)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("mon-fri", WEEKDAYS),
        ("Mon, Wed,FRI", {Weekday.MON, Weekday.WED, Weekday.FRI}),
        (["saturday", "sun"], {Weekday.SAT, Weekday.SUN}),
        ("fri-mon", {Weekday.FRI, Weekday.SAT, Weekday.SUN, Weekday.MON}),
        (["mon-wed", "fri"], {Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.FRI}),
        ("mon-sun", EVERY_DAY),
    ],
)
def test_parse_days(spec: str | list[str], expected: frozenset[Weekday]) -> None:
    """Days parse from names, ranges (wrapping past Sunday) and lists of either."""
    assert parse_days(spec) == expected


@pytest.mark.parametrize(("spec", "bad"), [("mon-fry", "mon-fry"), ("mon,,tue", "''"), ("x", "x")])
def test_bad_days_name_the_input(spec: str, bad: str) -> None:
    """An unknown day is a ValueError naming the bad item."""
    with pytest.raises(ValueError, match=bad):
        parse_days(spec)


def test_no_days_at_all_is_an_error() -> None:
    """An empty list of days is rejected, as is a calendar without working days."""
    with pytest.raises(ValueError, match="no working days"):
        parse_days([])
    with pytest.raises(ValueError, match="at least one working day"):
        BusinessCalendar(timezone="UTC", days=frozenset())


@pytest.mark.parametrize("zone", ["Mars/Olympus", "utc", "", "../etc/passwd"])
def test_unknown_time_zones_are_rejected(zone: str) -> None:
    """A calendar's zone must be an IANA name; the error quotes it."""
    with pytest.raises(ValueError, match="IANA time zone"):
        BusinessCalendar(timezone=zone)


def test_naive_datetimes_are_rejected() -> None:
    """Instants without a zone are ambiguous, so both operations refuse them."""
    naive = datetime(2026, 12, 4, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.add(naive, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        ALWAYS.working_time(berlin(2026, 12, 4), naive)


# --- business hours, weekends, holidays ----------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (berlin(2026, 12, 1, 10), 2 * H, berlin(2026, 12, 1, 12)),
        (berlin(2026, 12, 1, 16), 2 * H, berlin(2026, 12, 2, 10)),
        (berlin(2026, 12, 4, 16, 30), H, berlin(2026, 12, 7, 9, 30)),
        (berlin(2026, 12, 1, 7), H, berlin(2026, 12, 1, 10)),
        (berlin(2026, 12, 1, 19), H, berlin(2026, 12, 2, 10)),
        (berlin(2026, 12, 5, 12), H, berlin(2026, 12, 7, 10)),
        (berlin(2026, 12, 1, 15), 2 * H, berlin(2026, 12, 1, 17)),
        (berlin(2026, 12, 1, 9), 8 * H, berlin(2026, 12, 1, 17)),
    ],
)
def test_add_counts_only_working_hours(start: datetime, duration: timedelta, due: datetime) -> None:
    """Deadlines skip nights and weekends, start at opening, and fall at closing when exact."""
    assert OFFICE.add(start, duration) == due


def test_add_returns_utc_and_nothing_added_is_the_start() -> None:
    """Results are UTC instants; adding no time is the start itself, even out of hours."""
    assert OFFICE.add(berlin(2026, 12, 1, 10), H).tzinfo is UTC
    assert OFFICE.add(berlin(2026, 12, 5, 3), timedelta(0)) == berlin(2026, 12, 5, 3)
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add(berlin(2026, 12, 1, 10), -H)


def test_holidays_are_skipped() -> None:
    """Christmas Eve and Day, then the weekend: two hours from Wednesday 16:00 land on Monday."""
    assert CHRISTMAS.add(berlin(2026, 12, 23, 16), 2 * H) == berlin(2026, 12, 28, 10)
    assert CHRISTMAS.working_time(berlin(2026, 12, 23), berlin(2026, 12, 29)) == 16 * H


def test_holidays_are_days_in_the_calendars_zone() -> None:
    """A Tokyo holiday covers Tokyo's day, which starts at 15:00 UTC the evening before."""
    tokyo = BusinessCalendar(timezone="Asia/Tokyo", holidays=frozenset({date(2026, 12, 25)}))
    utc = datetime(2026, 12, 25, tzinfo=UTC)  # 09:00 in Tokyo on the holiday
    assert tokyo.working_time(utc, utc + 8 * H) == timedelta(0)
    assert tokyo.working_time(utc - 24 * H, utc - 16 * H) == 8 * H


def test_the_input_zone_does_not_matter() -> None:
    """The same instants written in any zone give the same working time."""
    start, end = berlin(2026, 12, 1, 8), berlin(2026, 12, 3, 12)
    expected = OFFICE.working_time(start, end)
    assert expected == 19 * H
    for zone in (UTC, NEW_YORK, ZoneInfo("Asia/Kolkata")):
        assert OFFICE.working_time(start.astimezone(zone), end.astimezone(zone)) == expected


def test_working_time_is_zero_for_empty_or_reversed_spans() -> None:
    """Nothing elapses between an instant and itself or an earlier one."""
    at = berlin(2026, 12, 1, 10)
    assert OFFICE.working_time(at, at) == timedelta(0)
    assert OFFICE.working_time(at, at - H) == timedelta(0)
    assert ALWAYS.working_time(at, at - H) == timedelta(0)


def test_a_one_week_target_on_office_hours() -> None:
    """168 working hours on 9-17 weekdays are 21 working days: four weeks and a Monday."""
    assert OFFICE.add(berlin(2026, 11, 2, 9), timedelta(weeks=1)) == berlin(2026, 11, 30, 17)


def test_a_year_of_office_hours() -> None:
    """2026 has 261 weekdays of eight hours, and adding them back lands on its last one."""
    year = OFFICE.working_time(berlin(2026, 1, 1), berlin(2027, 1, 1))
    assert year == 261 * 8 * H
    assert OFFICE.add(berlin(2026, 1, 1), year) == berlin(2026, 12, 31, 17)
    assert ALWAYS.working_time(berlin(2026, 1, 1), berlin(2027, 1, 1)) == timedelta(days=365)


# --- daylight saving -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "day", "hours"),
    [
        (nightly("Europe/Berlin", "01:00-05:00"), berlin(2026, 3, 29), 3),
        (nightly("Europe/Berlin", "01:00-05:00"), berlin(2026, 10, 25), 5),
        (nightly("America/New_York", "01:00-05:00"), new_york(2026, 3, 8), 3),
        (nightly("America/New_York", "01:00-05:00"), new_york(2026, 11, 1), 5),
        (
            nightly("Europe/Berlin", "00:00-24:00", holidays=frozenset({date(2026, 1, 1)})),
            berlin(2026, 3, 29),
            23,
        ),
        (
            nightly("Europe/Berlin", "00:00-24:00", holidays=frozenset({date(2026, 1, 1)})),
            berlin(2026, 10, 25),
            25,
        ),
        (nightly("Europe/Berlin", "09:00-17:00"), berlin(2026, 3, 29), 8),
        (nightly("America/New_York", "09:00-17:00"), new_york(2026, 11, 1), 8),
    ],
)
def test_working_time_on_dst_days_is_real_elapsed_time(
    calendar: BusinessCalendar, day: datetime, hours: int
) -> None:
    """A window spanning the change holds an hour less in spring and an hour more in autumn."""
    next_midnight = day + timedelta(days=1)  # same zone: wall-clock arithmetic, local midnight
    assert calendar.working_time(day, next_midnight) == hours * H


def test_a_window_opening_in_the_skipped_hour_opens_when_it_ends() -> None:
    """02:30 does not exist on Berlin's spring-forward night: the window opens at 03:00 CEST."""
    calendar = nightly("Europe/Berlin", "02:30-04:00")
    assert calendar.add(berlin(2026, 3, 29, 0), timedelta(minutes=1)) == berlin(2026, 3, 29, 3, 1)
    assert calendar.working_time(berlin(2026, 3, 29), berlin(2026, 3, 30)) == H


def test_a_window_opening_in_the_repeated_hour_opens_at_its_first_occurrence() -> None:
    """02:30 happens twice on Berlin's fall-back night: the window opens at the first (CEST)."""
    calendar = nightly("Europe/Berlin", "02:30-04:00")
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert calendar.add(berlin(2026, 10, 25, 0), timedelta(minutes=1)) == first + timedelta(
        minutes=1
    )
    assert calendar.working_time(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 2.5 * H


def test_a_half_hour_shift_is_found_to_the_minute() -> None:
    """Lord Howe skips 02:00-02:30: a 02:15 opening waits for 02:30 local (15:30 UTC)."""
    calendar = nightly("Australia/Lord_Howe", "02:15-03:00")
    day = datetime(2026, 10, 4, tzinfo=ZoneInfo("Australia/Lord_Howe"))
    assert calendar.add(day, timedelta(minutes=1)) == datetime(2026, 10, 3, 15, 31, tzinfo=UTC)
    assert calendar.working_time(day, day + timedelta(days=1)) == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "due"),
    [
        (OFFICE, berlin(2026, 3, 27, 16), 2 * H, berlin(2026, 3, 30, 10)),
        (OFFICE, berlin(2026, 10, 23, 16), 2 * H, berlin(2026, 10, 26, 10)),
        (
            nightly("America/New_York", "01:00-05:00"),
            new_york(2026, 3, 8, 1),
            4 * H,
            new_york(2026, 3, 9, 2),
        ),
        (
            nightly("America/New_York", "01:00-05:00"),
            new_york(2026, 11, 1, 1),
            4 * H,
            datetime(2026, 11, 1, 9, tzinfo=UTC),
        ),
        (ALWAYS, berlin(2026, 3, 29, 0), 4 * H, berlin(2026, 3, 29, 5)),
        (ALWAYS, berlin(2026, 10, 25, 0), 4 * H, berlin(2026, 10, 25, 3)),
    ],
)
def test_deadlines_across_dst(
    calendar: BusinessCalendar, start: datetime, duration: timedelta, due: datetime
) -> None:
    """Deadlines over a change are real elapsed working time, in Europe and the US."""
    assert calendar.add(start, duration) == due


# --- properties ----------------------------------------------------------------------------

CALENDARS = [
    ALWAYS,
    CHRISTMAS,
    nightly("America/New_York", "01:00-05:00"),
    BusinessCalendar(
        timezone="Europe/Berlin", days=parse_days("sat-sun"), hours=parse_hours("02:30-24:00")
    ),
    BusinessCalendar(
        timezone="Asia/Kolkata", days=parse_days("mon-sat"), hours=parse_hours("00:00-24:00")
    ),
    nightly("Australia/Lord_Howe", "01:45-02:45", holidays=frozenset({date(2026, 10, 5)})),
]
ZONES = [UTC, BERLIN, NEW_YORK, ZoneInfo("Australia/Lord_Howe")]

calendars = st.sampled_from(CALENDARS)
instants = st.builds(
    datetime.astimezone,
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(ZONES),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@settings(max_examples=150)
@given(calendars, instants, instants)
def test_add_of_the_working_time_lands_no_later_than_the_end(
    calendar: BusinessCalendar, a: datetime, b: datetime
) -> None:
    """Adding the working time of [start, x) to start reaches an instant at or before x."""
    start, end = sorted((a, b), key=utc)
    assert start <= calendar.add(start, calendar.working_time(start, end)) <= end


@settings(max_examples=150)
@given(calendars, instants, durations)
def test_working_time_to_the_deadline_is_the_duration(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    """The working time from start to add(start, d) is exactly d."""
    assert calendar.working_time(start, calendar.add(start, duration)) == duration


@settings(max_examples=150)
@given(calendars, instants, instants, instants)
def test_working_time_is_additive(
    calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    """Working time over adjacent intervals adds up to that of their union."""
    a, b, c = sorted((a, b, c), key=utc)
    assert calendar.working_time(a, c) == calendar.working_time(a, b) + calendar.working_time(b, c)


@settings(max_examples=100)
@given(instants, instants, durations)
def test_always_is_plain_elapsed_time(a: datetime, b: datetime, duration: timedelta) -> None:
    """24x7 working time is subtraction and its deadlines are addition, in real time."""
    assert ALWAYS.working_time(a, b) == max(utc(b) - utc(a), timedelta(0))
    assert ALWAYS.add(a, duration) == utc(a) + duration
