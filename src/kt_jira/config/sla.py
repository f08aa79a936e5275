"""The ``sla`` and ``feedback`` sections: breach scanning and actions, business calendars, and the
false-positive feedback loop. Re-exported by ``kt_jira.config.models``.

The key paths ``sla.scan_interval``, ``sla.breach_label`` and ``feedback.false_positive.*`` are a
public contract (DESIGN.md). Values are checked when the file loads (durations parse, time zones
exist, calendars named by rules exist), so a bad value stops ``serve`` naming its key.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from kt_jira.config.network import Network
from kt_jira.config.secrets import Secret
from kt_jira.tickets.calendar import BusinessCalendar, parse_days, parse_hours
from kt_jira.tickets.sla import parse_duration

LABEL = re.compile(r"^[^\s]{1,255}$")


def _duration(value: Any) -> str:
    text = str(value).strip()
    parse_duration(text)
    return text


def _label(value: str) -> str:
    if not LABEL.fullmatch(value):
        raise ValueError(f"{value!r} is not a Jira label (1-255 characters, no spaces)")
    return value


Duration = Annotated[str, BeforeValidator(_duration)]
Label = Annotated[str, AfterValidator(_label)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class CalendarSettings(_Strict):
    """Business hours: SLA clocks run only inside them (``sla.calendars.<name>``)."""

    timezone: str = "UTC"
    days: str | list[str] = "mon-fri"
    hours: str = "09:00-17:00"
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: str | list[str]) -> str | list[str]:
        parse_days(value)
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        parse_hours(value)
        return value

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(
            timezone=self.timezone,
            days=parse_days(self.days),
            hours=parse_hours(self.hours),
            holidays=frozenset(self.holidays),
        )


class WebhookNotify(_Strict):
    """A generic JSON POST, signed the Standard Webhooks way with ``secret`` when one is set."""

    url: Secret
    secret: Secret | None = None


class SlackNotify(_Strict):
    """A Slack incoming webhook (its URL is a secret: anyone holding it can post)."""

    url: Secret
    channel: str | None = None  # the guide's "#ai-critical"; most webhooks fix their channel


class NotifySettings(_Strict, Network):
    webhook: WebhookNotify | None = None
    slack: SlackNotify | None = None
    # Which events notify: breaches always do when a channel is set; at-risk warnings opt in.
    at_risk: bool = False
    timeout_seconds: float = Field(10.0, gt=0)  # per request; a timeout is retried


class JsmFields(_Strict):
    """``mode: jsm`` reads these Jira Service Management SLA fields (by name) instead."""

    first_response: str = "Time to first response"
    resolution: str = "Time to resolution"


class SlaSettings(_Strict):
    """The SLA clock (``tickets/sla_clock``) and what the bridge does on a breach."""

    scan_interval: Duration = "60s"  # "0" turns the scan off
    breach_label: Label = "sla-breached"
    # computed: the bridge keeps the clocks (any Jira). jsm: read Service Management's SLA fields.
    mode: Literal["computed", "jsm"] = "computed"
    jsm_fields: JsmFields = JsmFields()
    # Warn once a target has used this fraction of its time (null: no warnings).
    at_risk: float | None = Field(0.75, gt=0, lt=1)
    at_risk_label: Label = "sla-at-risk"
    # Jira status names where both clocks stop ("Waiting for customer"), case-insensitive.
    pause_statuses: list[str] = Field(default_factory=list)
    calendars: dict[str, CalendarSettings] = Field(default_factory=dict)
    comment: bool = True  # comment on the ticket on a breach (and on at-risk)
    notify: NotifySettings = NotifySettings()

    @field_validator("scan_interval", mode="before")
    @classmethod
    def _off(cls, value: Any) -> Any:
        return "0s" if str(value).strip() in ("0", "") else value

    @property
    def scan_every(self) -> timedelta | None:
        every = parse_duration(self.scan_interval)
        return every if every > timedelta(0) else None


class FalsePositiveSettings(_Strict):
    """N tickets of one policy resolved as false positive within ``window`` -> one Story."""

    enabled: bool = True
    threshold: int = Field(5, ge=1)
    window: Duration = "7d"
    resolution: str = Field("False Positive", min_length=1)  # the Jira resolution name
    outcomes: list[str] = Field(default_factory=lambda: ["false_positive"])  # Keeptrusts outcomes
    issue_type: str = Field("Story", min_length=1)
    project: str | None = None  # default: jira.project
    priority: str | None = None  # default: the project's default priority
    link_type: str = Field("Relates", min_length=1)  # the Jira issue link type name
    labels: list[Label] = Field(default_factory=lambda: ["ai-policy-tuning"])

    @property
    def period(self) -> timedelta:
        return parse_duration(self.window)


class FeedbackSettings(_Strict):
    false_positive: FalsePositiveSettings = FalsePositiveSettings()
