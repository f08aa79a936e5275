"""SLA durations and deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kt_jira.tickets.sla import deadlines, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(weeks=1)),
        ("90s", timedelta(seconds=90)),
        (" 1.5H ", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    """Durations like 15m, 4h, 7d and 1w parse; units are case-insensitive."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4", "h", "4 hours", "-1h", "1y"])
def test_bad_durations_say_what_is_expected(text: str) -> None:
    """Anything else is a ValueError that shows the accepted form."""
    with pytest.raises(ValueError, match="15m, 4h, 7d"):
        parse_duration(text)


def test_due_date_is_the_utc_day_of_the_resolution_deadline() -> None:
    """Jira's duedate is the UTC day on which the resolution falls due."""
    start = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    clock = deadlines(started_at=start, first_response=None, resolution=timedelta(hours=1))
    assert clock.due_date == datetime(2026, 11, 27, tzinfo=UTC).date()
    assert clock.first_response_due is None
