"""The ``sla`` and ``feedback`` sections: DESIGN.md's fixed keys, defaults, and errors by key."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kt_jira.config.loader import iter_secrets, load_settings
from kt_jira.errors import ConfigError
from kt_jira.tickets.calendar import Weekday


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "kt-jira.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ={})


def test_design_keys_and_their_defaults(tmp_path: Path) -> None:
    """DESIGN.md's key paths load with the documented values; the defaults match them."""
    settings = _load(
        tmp_path,
        "sla:\n  scan_interval: 60s\n  breach_label: sla-breached\n"
        "feedback:\n  false_positive:\n    threshold: 5\n    window: 7d\n"
        "    resolution: False Positive\n    issue_type: Story\n",
    )
    default = _load(tmp_path, "{}\n")
    for loaded in (settings, default):
        assert loaded.sla.scan_every == timedelta(seconds=60)  # type: ignore[attr-defined]
        assert loaded.sla.breach_label == "sla-breached"  # type: ignore[attr-defined]
        fp = loaded.feedback.false_positive  # type: ignore[attr-defined]
        assert (fp.threshold, fp.period, fp.resolution, fp.issue_type) == (
            5,
            timedelta(days=7),
            "False Positive",
            "Story",
        )


def test_a_zero_scan_interval_turns_the_scan_off(tmp_path: Path) -> None:
    assert _load(tmp_path, "sla: {scan_interval: 0}\n").sla.scan_every is None  # type: ignore[attr-defined]


def test_calendar_builds_a_business_calendar(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        "sla:\n  calendars:\n    emea:\n      timezone: Europe/Berlin\n      days: mon-thu\n"
        "      hours: '08:00-16:00'\n      holidays: [2026-12-25]\n",
    )
    calendar = settings.sla.calendars["emea"].calendar()  # type: ignore[attr-defined]
    assert calendar.days == frozenset({Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU})
    assert calendar.holidays == frozenset({date(2026, 12, 25)})
    # Thursday 15:30 Berlin + 1 working hour -> Monday 08:30 (Friday is not a working day).
    start = datetime(2026, 12, 3, 15, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert calendar.add(start, timedelta(hours=1)) == datetime(
        2026, 12, 7, 8, 30, tzinfo=ZoneInfo("Europe/Berlin")
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sla:\n  calendars:\n    x: {timezone: Mars/Olympus}\n", r"sla\.calendars\.x\.timezone"),
        ("sla:\n  calendars:\n    x: {hours: '17:00-09:00'}\n", r"sla\.calendars\.x\.hours"),
        ("sla:\n  calendars:\n    x: {days: someday}\n", r"sla\.calendars\.x\.days"),
        ("sla: {breach_label: sla breached}\n", r"sla\.breach_label: .*not a Jira label"),
        ("sla: {scan_interval: soon}\n", r"sla\.scan_interval"),
        ("sla: {at_risk: 1.5}\n", r"sla\.at_risk"),
        ("feedback: {false_positive: {threshold: 0}}\n", r"feedback\.false_positive\.threshold"),
        ("feedback: {false_positive: {window: a while}}\n", r"feedback\.false_positive\.window"),
        ("sla: {modus: jsm}\n", r"sla\.modus: unknown key"),
    ],
)
def test_bad_values_name_their_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        _load(tmp_path, text)


def test_a_rule_naming_an_undefined_calendar_fails(tmp_path: Path) -> None:
    text = (
        "sla:\n  calendars:\n    emea: {timezone: Europe/Berlin}\n"
        "rules:\n  - name: critical\n    set: {sla_calendar: apac}\n"
    )
    with pytest.raises(ConfigError, match=r"rule 'critical': set\.sla_calendar 'apac'.*emea"):
        _load(tmp_path, text)


def test_notification_urls_are_secrets_named_by_key(tmp_path: Path) -> None:
    """A Slack webhook URL is a credential: held as a reference, labelled with its key path."""
    settings = _load(
        tmp_path,
        "sla:\n  notify:\n    slack: {url: 'inline:https://hooks.slack.com/services/T0/B0/abc'}\n"
        "    webhook: {url: env:NOTIFY_URL, secret: env:NOTIFY_SECRET}\n",
    )
    found = dict(iter_secrets(settings))  # type: ignore[arg-type]
    assert found["sla.notify.slack.url"].reveal() == "https://hooks.slack.com/services/T0/B0/abc"
    assert found["sla.notify.webhook.secret"].reference == "env:NOTIFY_SECRET"
    assert "hooks.slack.com" not in repr(settings)
    assert "hooks.slack.com" not in str(settings.model_dump())  # type: ignore[attr-defined]
