"""SLA arithmetic: durations like ``15m``/``4h``/``7d``, deadlines and breach decisions.

Pure: the clock is always passed in. Jira Software has no SLA engine (that is Jira Service
Management), so the bridge keeps its own deadlines and sets ``duedate`` for Jira's views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kt_jira.tickets.calendar import ALWAYS, BusinessCalendar

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``"15m"`` -> 15 minutes. Units: s, m, h, d, w. Raises ``ValueError`` naming the input."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 15m, 4h, 7d or 1w")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])


@dataclass(frozen=True, kw_only=True)
class Deadlines:
    """A ticket's SLA: when its clocks started, its targets (working time) and their deadlines.

    ``calendar`` names the business calendar the targets run on (``""``: around the clock); the
    dues are where the targets end if nothing pauses the clocks. The live state of the clocks is
    ``sla_clock.evaluate``'s, from the signals the ticket has had since.
    """

    started_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response: timedelta | None = None
    resolution: timedelta | None = None
    calendar: str = ""

    @property
    def due_date(self) -> date | None:
        """Jira's ``duedate`` is a day: the UTC day the resolution is due."""
        return self.resolution_due.date() if self.resolution_due else None


def deadlines(
    *,
    started_at: datetime,
    first_response: timedelta | None,
    resolution: timedelta | None,
    calendar: BusinessCalendar = ALWAYS,
    calendar_name: str = "",
) -> Deadlines:
    return Deadlines(
        started_at=started_at,
        first_response_due=calendar.add(started_at, first_response) if first_response else None,
        resolution_due=calendar.add(started_at, resolution) if resolution else None,
        first_response=first_response,
        resolution=resolution,
        calendar=calendar_name,
    )


def sla_start(occurred_at: datetime | None, received_at: datetime) -> datetime:
    """The clock starts when the escalation happened, unless that claim is in the future."""
    if occurred_at is None or occurred_at > received_at:
        return received_at
    return occurred_at
