"""What an SLA notification says and where it goes: the jobs per channel, the generic webhook
body, the webhook id, and the Slack message with every value escaped for mrkdwn."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kt_jira.config.secrets import SecretRef
from kt_jira.config.sla import NotifySettings, SlackNotify, WebhookNotify
from kt_jira.jobs import Kind
from kt_jira.sla.notify import (
    SLACK_VALUE_LIMIT,
    configured,
    escape,
    notify_jobs,
    slack_body,
    slack_message,
    webhook_body,
    webhook_id,
)
from tests.support.notifications import ISSUE_URL, sample_event

RUN_AT = datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
HOOK = WebhookNotify(url=SecretRef.literal("https://hooks.example.com/sla"))
SLACK = SlackNotify(url=SecretRef.literal("https://hooks.slack.com/services/T/B/x"))
HOSTILE = "<!channel> & <https://evil.example|click me> >"


def texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn string of a Slack message, the fallback ``text`` first."""
    found = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [part["text"] for part in block.get("fields", []) + block.get("elements", [])]
    return found


def test_a_breach_notifies_every_configured_channel() -> None:
    """One sla_notify job per configured channel, keyed by channel, ticket, target, action."""
    settings = NotifySettings(webhook=HOOK, slack=SLACK)
    made = notify_jobs(settings, sample_event(), at_risk=False, run_at=RUN_AT)
    assert [job.kind for job in made] == [Kind.SLA_NOTIFY, Kind.SLA_NOTIFY]
    assert [job.job_key for job in made] == [
        "sla_notify:webhook:esc_123:resolution:breached",
        "sla_notify:slack:esc_123:resolution:breached",
    ]
    assert [job.payload["channel"] for job in made] == ["webhook", "slack"]
    assert all(job.payload["event"] == sample_event() and job.run_at == RUN_AT for job in made)


def test_only_configured_channels_get_jobs() -> None:
    """Slack alone gives one job; no channel gives none."""
    event = sample_event()
    only_slack = notify_jobs(NotifySettings(slack=SLACK), event, at_risk=False, run_at=RUN_AT)
    assert [job.payload["channel"] for job in only_slack] == ["slack"]
    assert notify_jobs(NotifySettings(), event, at_risk=False, run_at=RUN_AT) == []
    assert configured(NotifySettings(webhook=HOOK)) == ("webhook",)


@pytest.mark.parametrize(("opted_in", "channels"), [(False, []), (True, ["webhook", "slack"])])
def test_at_risk_warnings_notify_only_when_opted_in(opted_in: bool, channels: list[str]) -> None:
    """An at-risk event goes to the channels only with ``sla.notify.at_risk: true``."""
    settings = NotifySettings(webhook=HOOK, slack=SLACK, at_risk=opted_in)
    event = sample_event(action="at_risk")
    made = notify_jobs(settings, event, at_risk=True, run_at=RUN_AT)
    assert [job.payload["channel"] for job in made] == channels
    assert all(job.job_key.endswith(":resolution:at_risk") for job in made)


def test_the_webhook_body_is_the_event_as_compact_utf8_json() -> None:
    """No spaces between tokens, non-ASCII as UTF-8 bytes (not \\u escapes), same content."""
    event = sample_event(policy_name="Richtlinie für Datenschutz")
    body = webhook_body(event)
    assert json.loads(body) == event
    assert "für".encode() in body
    compact = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    assert body == compact.encode("utf-8")


def test_the_webhook_id_is_stable_per_job_and_distinct_between_jobs() -> None:
    """Derived from the job key: the same on every retry, different for another job, and
    safe as a header value."""
    key = "sla_notify:webhook:esc_1:resolution:breached"
    assert webhook_id(key) == webhook_id(key)
    assert webhook_id(key) != webhook_id(key.replace("esc_1", "esc_2"))
    assert re.fullmatch(r"msg_[0-9a-f]{32}", webhook_id(key))


def test_the_slack_message_names_the_ticket_target_lateness_deadline_policy_severity() -> None:
    """Fallback text and blocks link the ticket as <url|KEY> and give the facts."""
    message = slack_message(sample_event())
    assert message["text"] == (
        f"SLA breached: <{ISSUE_URL}|AIGOV-12> missed its resolution target by 5 minutes."
    )
    fields = [field["text"] for field in message["blocks"][1]["fields"]]
    assert fields == [
        "*Target*\nResolution",
        "*Overdue by*\n5 minutes",
        "*Deadline*\n<!date^1795687200^{date_short_pretty} {time}|2026-11-26 10:00 UTC>",
        "*Goal*\n1 hour",
        "*Policy*\npii-detector",
        "*Severity*\ncritical",
    ]
    assert message["blocks"][0]["text"]["text"].startswith(":rotating_light: *SLA breached*: ")
    assert "esc_123" in message["blocks"][2]["elements"][0]["text"]
    assert "channel" not in message


def test_an_at_risk_message_says_how_much_time_is_left() -> None:
    """An at-risk warning gives the time left instead of the lateness."""
    message = slack_message(sample_event(action="at_risk"))
    assert "has 10 minutes left to meet its resolution target" in message["text"]
    assert message["blocks"][1]["fields"][1]["text"] == "*Time left*\n10 minutes"
    assert message["blocks"][0]["text"]["text"].startswith(":warning: *SLA at risk*")


def test_the_configured_channel_is_added() -> None:
    """``sla.notify.slack.channel`` becomes the message's ``channel``."""
    assert slack_message(sample_event(), channel="#ai-critical")["channel"] == "#ai-critical"
    assert json.loads(slack_body(sample_event(), channel="#ai-critical"))["channel"] == (
        "#ai-critical"
    )


def test_a_hostile_policy_name_cannot_mention_or_link() -> None:
    """``<!channel>`` and a link in a policy name arrive as literal text (&lt; &gt; &amp;)."""
    message = slack_message(sample_event(policy_name=HOSTILE))
    assert "*Policy*\n&lt;!channel&gt; &amp; &lt;https://evil.example|click me&gt; &gt;" in (
        texts(message)
    )
    assert not any("<!channel>" in text or "<https://evil" in text for text in texts(message))


def test_hostile_keys_and_ids_are_escaped_and_a_pipe_cannot_end_the_url() -> None:
    """Issue key, escalation id and severity are escaped; a ``|`` in the URL is encoded."""
    event = sample_event(
        issue_key="A&B<1>",
        escalation_id="<@U123>",
        severity="<!here>",
        issue_url="https://jira.example/browse/X|<!channel>",
    )
    message = slack_message(event)
    assert message["text"].startswith(
        "SLA breached: <https://jira.example/browse/X%7C&lt;!channel&gt;|A&amp;B&lt;1&gt;>"
    )
    joined = "\n".join(texts(message))
    assert "<@U123>" not in joined
    assert "<!here>" not in joined
    assert "&lt;@U123&gt;" in joined


def test_long_values_are_cut_before_escaping() -> None:
    """A policy name over the limit is cut with an ellipsis; no entity is cut in half."""
    message = slack_message(sample_event(policy_name="&" * 500))
    [policy] = [t for t in texts(message) if t.startswith("*Policy*")]
    assert policy == "*Policy*\n" + "&amp;" * (SLACK_VALUE_LIMIT - 1) + "…"


def test_escape_replaces_the_ampersand_first() -> None:
    """``&lt;`` in the input stays visible as ``&lt;``: its ``&`` is escaped, once."""
    assert escape("a & b < c > d &lt;") == "a &amp; b &lt; c &gt; d &amp;lt;"


@given(
    policy=st.text(max_size=300),
    key=st.text(max_size=40),
    escalation=st.text(max_size=40),
    severity=st.text(max_size=20),
)
def test_no_interpolated_value_adds_slack_markup(
    policy: str, key: str, escalation: str, severity: str
) -> None:
    """Whatever the values, every ``<`` in the message opens the ticket link or the date."""
    event = sample_event(
        policy_name=policy, issue_key=key, escalation_id=escalation, severity=severity
    )
    for text in texts(slack_message(event)):
        for match in re.finditer("<", text):
            rest = text[match.start() :]
            assert rest.startswith((f"<{ISSUE_URL}|", "<!date^")), text
