"""What an SLA notification says and where it goes. Pure: settings and the event in; the
``sla_notify`` jobs, the generic webhook body and the Slack message out.

The event is the JSON ``plan.notification()`` builds. The generic webhook receives it as it is;
the Slack message is made from it, with every interpolated value escaped for Slack's mrkdwn
(``&``, ``<``, ``>``), so a hostile policy name can never add a link or a ``<!channel>``
mention. Nothing here sends anything (``notifier`` does).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from kt_jira import jobs
from kt_jira.config.sla import NotifySettings
from kt_jira.jobs import NewJob
from kt_jira.sla.plan import AT_RISK, TARGETS
from kt_jira.tickets.sla_clock import duration_words

WEBHOOK = "webhook"
SLACK = "slack"
CHANNELS = (WEBHOOK, SLACK)
#: Longest interpolated value in a Slack message, before escaping (a field holds 2,000).
SLACK_VALUE_LIMIT = 200
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))  # "&" first: the others make one


def configured(settings: NotifySettings) -> tuple[str, ...]:
    """The channels ``settings`` configures, in ``CHANNELS`` order."""
    present = {WEBHOOK: settings.webhook is not None, SLACK: settings.slack is not None}
    return tuple(channel for channel in CHANNELS if present[channel])


def wanted(settings: NotifySettings, *, at_risk: bool) -> tuple[str, ...]:
    """The channels an event goes to: every configured one for a breach; for an at-risk
    warning only when ``sla.notify.at_risk`` is on."""
    if at_risk and not settings.at_risk:
        return ()
    return configured(settings)


def notify_jobs(
    settings: NotifySettings, event: Mapping[str, Any], *, at_risk: bool, run_at: datetime
) -> list[NewJob]:
    """One ``sla_notify`` job per channel ``event`` goes to (``at_risk``: it is a warning,
    ``event["action"] == "at_risk"``); none when no channel wants it."""
    return [jobs.sla_notify(c, event, run_at=run_at) for c in wanted(settings, at_risk=at_risk)]


def is_at_risk(event: Mapping[str, Any]) -> bool:
    return event.get("action") == AT_RISK


def webhook_id(job_key: str) -> str:
    """The Standard Webhooks ``webhook-id`` of one job: the same on every retry of it, so a
    receiver can drop a delivery it has already processed."""
    return "msg_" + hashlib.sha256(job_key.encode("utf-8")).hexdigest()[:32]


def webhook_body(event: Mapping[str, Any]) -> bytes:
    """The generic webhook's body: the event itself, compact JSON in UTF-8."""
    text = json.dumps(dict(event), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def escape(text: str) -> str:
    """``text`` safe inside Slack mrkdwn: ``&``, ``<`` and ``>`` as entities (Slack's rule)."""
    for raw, entity in _ESCAPES:
        text = text.replace(raw, entity)
    return text


def slack_message(event: Mapping[str, Any], *, channel: str | None = None) -> dict[str, Any]:
    """The incoming-webhook message for ``event``: a ``text`` fallback (notifications, old
    clients) and Block Kit ``blocks``; ``channel`` only when one is configured."""
    headline, sentence = _summary(event)
    message: dict[str, Any] = {
        "text": f"{headline}: {sentence}",
        "blocks": [
            _section(f"{_emoji(event)} *{headline}*: {sentence}"),
            {"type": "section", "fields": [_mrkdwn(f) for f in _fields(event)]},
            {"type": "context", "elements": [_mrkdwn(_context(event))]},
        ],
        "unfurl_links": False,
    }
    if channel:
        message["channel"] = channel
    return message


def slack_body(event: Mapping[str, Any], *, channel: str | None = None) -> bytes:
    """``slack_message`` as the JSON body Slack receives."""
    return webhook_body(slack_message(event, channel=channel))


def _summary(event: Mapping[str, Any]) -> tuple[str, str]:
    """The headline and the one sentence saying what happened, in escaped mrkdwn."""
    url = str(event.get("issue_url") or "").strip()
    ticket = _link(url, _value(event, "issue_key") or "the ticket")
    target = escape(_target_words(event))
    if is_at_risk(event):
        left = duration_words(_seconds(event, "remaining_seconds"))
        return "SLA at risk", f"{ticket} has {left} left to meet its {target} target."
    late = duration_words(_seconds(event, "overdue_seconds"))
    return "SLA breached", f"{ticket} missed its {target} target by {late}."


def _fields(event: Mapping[str, Any]) -> list[str]:
    if is_at_risk(event):
        how = ("Time left", duration_words(_seconds(event, "remaining_seconds")))
    else:
        how = ("Overdue by", duration_words(_seconds(event, "overdue_seconds")))
    rows = [
        ("Target", escape(_target_words(event).capitalize())),
        (how[0], how[1]),
        ("Deadline", _deadline(_value(event, "due"))),
        ("Goal", duration_words(_seconds(event, "goal_seconds"))),
    ]
    for name, key in (("Policy", "policy_name"), ("Severity", "severity")):
        if value := _value(event, key):
            rows.append((name, escape(value)))
    return [f"*{name}*\n{text}" for name, text in rows]


def _context(event: Mapping[str, Any]) -> str:
    escalation = escape(_value(event, "escalation_id"))
    return f"Keeptrusts escalation {escalation} · kt-jira" if escalation else "kt-jira"


def _link(url: str, label: str) -> str:
    """``<url|label>``; a ``|`` in the URL is percent-encoded (it would end the URL)."""
    if not url:
        return escape(label)
    return f"<{escape(url.replace('|', '%7C'))}|{escape(label)}>"


def _deadline(due: str) -> str:
    """Slack's date token (shown in the reader's time zone), with the UTC time as fallback."""
    try:
        instant = datetime.fromisoformat(due)
    except ValueError:
        return escape(due) or "unknown"
    if instant.tzinfo is None:
        return escape(due)
    fallback = escape(instant.strftime("%Y-%m-%d %H:%M %Z") or due)
    return f"<!date^{int(instant.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _target_words(event: Mapping[str, Any]) -> str:
    name = _value(event, "target")
    target = TARGETS.get(name)
    return target.words if target is not None else name.replace("_", " ")


def _emoji(event: Mapping[str, Any]) -> str:
    return ":warning:" if is_at_risk(event) else ":rotating_light:"


def _value(event: Mapping[str, Any], key: str) -> str:
    """``event[key]`` as text, cut to ``SLACK_VALUE_LIMIT`` (before escaping, so no entity is
    ever cut in half)."""
    value = event.get(key)
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= SLACK_VALUE_LIMIT else text[: SLACK_VALUE_LIMIT - 1] + "…"


def _seconds(event: Mapping[str, Any], key: str) -> timedelta:
    value = event.get(key)
    return timedelta(seconds=max(0, value)) if isinstance(value, int | float) else timedelta(0)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}
