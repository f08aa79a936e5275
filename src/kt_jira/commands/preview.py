"""``kt-jira preview``: which rule an escalation matches and why, where its category came from,
and the exact create request the bridge would send to Jira, without sending anything.

Offline, custom fields are keyed by their Jira field NAME (ids live on the site); online the body
comes from the real ``JiraMetadata.build_create_body``, which only reads metadata. The caller
passes that builder in; this module opens no connection itself.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from kt_jira.commands.group_preview import GroupLookup, GroupPreview
from kt_jira.config.models import Settings
from kt_jira.errors import PayloadError
from kt_jira.events.keeptrusts import Escalation, parse_event
from kt_jira.jira.client import API_PREFIX
from kt_jira.jira.values import user_value
from kt_jira.render.adf import to_adf
from kt_jira.render.wiki import to_wiki
from kt_jira.tickets.draft import FieldValue, IssueDraft
from kt_jira.tickets.groups import rule_choice, storm_group
from kt_jira.tickets.rules import Decision, decide

__all__ = [
    "SAMPLES",
    "Preview",
    "build_preview",
    "load_escalation",
    "offline_body",
    "preview_json",
    "preview_text",
    "sample_escalation",
]

Flavor = Literal["cloud", "datacenter"]
BodyBuilder = Callable[[IssueDraft], Awaitable[dict[str, Any]]]

# Flat payloads in the guide's shape; without a timestamp the SLA counts from now.
SAMPLES: dict[str, dict[str, str]] = {
    "block": {"policy_name": "content-safety-v2", "action": "block", "severity": "critical"},
    "compliance": {"policy_name": "hipaa-compliance", "action": "block", "severity": "high"},
    "escalate": {"policy_name": "human-oversight", "action": "escalate", "severity": "medium"},
    "redact": {"policy_name": "pii-detector", "action": "redact", "severity": "medium"},
    "log": {"policy_name": "audit-log", "action": "log", "severity": "low"},
}
_SAMPLE_COMMON = {"model": "gpt-4o", "gateway_id": "gw_prod_east", "user_id": "user_789"}


def sample_escalation(name: str) -> Escalation:
    """A built-in sample escalation; ``ValueError`` lists the names."""
    if name not in SAMPLES:
        raise ValueError(f"no sample named {name!r}; choose one of {', '.join(SAMPLES)}")
    payload = {"escalation_id": f"esc_sample_{name}", **_SAMPLE_COMMON, **SAMPLES[name]}
    return load_escalation(json.dumps(payload).encode())


def load_escalation(body: bytes) -> Escalation:
    """The escalation in a webhook body, flat or enveloped (``PayloadError`` if there is none)."""
    event = parse_event(body)
    if event.escalation is None:
        raise PayloadError(
            f"the event is of type {event.raw_type!r}, not an escalation; give an "
            "escalation.created payload"
        )
    return event.escalation


@dataclass(frozen=True, kw_only=True)
class Preview:
    """The decision for one escalation and the request it would become."""

    escalation: Escalation
    decision: Decision
    flavor: Flavor
    online: bool
    method: str
    path: str
    body: dict[str, Any]
    group: GroupPreview | None = None  #: the group it would open or join (None: own ticket)


def _json_value(value: FieldValue) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def offline_body(
    draft: IssueDraft, *, flavor: Flavor, correlation_label: bool = True
) -> dict[str, Any]:
    """The create body with names where the site's ids would go (project key, type, priority,
    custom fields), built like ``JiraMetadata.build_create_body`` but without checking."""
    render = to_adf if flavor == "cloud" else to_wiki
    fields: dict[str, Any] = {
        "project": {"key": draft.project},
        "issuetype": {"name": draft.issue_type},
        "summary": draft.summary,
        "description": render(draft.description),
    }
    marker = draft.correlation_label if correlation_label else ""
    labels = list(dict.fromkeys(x for x in (*draft.labels, marker) if x))
    if labels:
        fields["labels"] = labels
    if draft.priority:
        fields["priority"] = {"name": draft.priority}
    if draft.due_date is not None:
        fields["duedate"] = draft.due_date.isoformat()
    if draft.components:
        fields["components"] = [{"name": name} for name in dict.fromkeys(draft.components)]
    if draft.assignee:
        fields["assignee"] = user_value(draft.assignee, flavor=flavor)
    for name, value in draft.fields.items():
        fields[name] = _json_value(value)
    return {"fields": fields}


async def build_preview(
    escalation: Escalation,
    settings: Settings,
    *,
    flavor: Flavor,
    received_at: datetime,
    build_body: BodyBuilder | None = None,
    groups: GroupLookup | str = "database not read",
) -> Preview:
    """Decide for ``escalation``; the body comes from ``build_body`` (online) or names (offline);
    ``groups`` reads the open group it would join (or says why the database is not read)."""
    decision = decide(escalation, settings.content, received_at=received_at)
    group = await _group(escalation, decision, groups)
    if build_body is not None:
        body = await build_body(decision.draft)
    else:
        add_label = settings.jira.correlation.add_label
        body = offline_body(decision.draft, flavor=flavor, correlation_label=add_label)
    return Preview(
        escalation=escalation,
        decision=decision,
        flavor=flavor,
        online=build_body is not None,
        method="POST",
        path=f"{API_PREFIX[flavor]}/issue",
        body=body,
        group=group,
    )


async def _group(
    escalation: Escalation, decision: Decision, groups: GroupLookup | str
) -> GroupPreview | None:
    """The rule's group, or the policy's storm group while it storms (a rule group that is
    open is joined first, as the bridge does)."""
    choice = rule_choice(escalation, decision)
    window = decision.rule.set.grouping_window
    if isinstance(groups, str):
        return (
            None if choice is None else GroupPreview(choice=choice, window=window, database=groups)
        )
    try:
        found = await groups.open_group(choice.key) if choice is not None else None
        storm = await groups.storm(escalation.policy_name) if found is None else None
    except Exception as exc:  # a preview must work without the bridge's database
        note = f"database not read: {type(exc).__name__}"
        return None if choice is None else GroupPreview(choice=choice, window=window, database=note)
    if storm is not None:
        running, group = storm
        span = running.ends_at - running.started_at
        stormy = storm_group(escalation.policy_name, rule=decision.rule.name, window=span)
        until = f"storm until {running.ends_at.strftime('%H:%M')} UTC"
        return GroupPreview(choice=stormy, window=until, open_group=group)
    return None if choice is None else GroupPreview(choice=choice, window=window, open_group=found)


_SOURCES = {
    "payload": "from the payload",
    "categories": "from the categories map",
    "action": "the action's default",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="minutes") if moment is not None else None


def preview_json(preview: Preview) -> dict[str, Any]:
    """The stable JSON form, for scripts."""
    decision = preview.decision
    return {
        "escalation_id": preview.escalation.escalation_id,
        "rule": decision.rule.name,
        "reasons": list(decision.reasons),
        "skipped": [{"rule": name, "reason": reason} for name, reason in decision.skipped],
        "category": decision.category,
        "category_source": decision.category_source,
        "category_reason": decision.category_reason,
        "sla": {
            "first_response_due": _iso(decision.deadlines.first_response_due),
            "resolution_due": _iso(decision.deadlines.resolution_due),
        },
        "watchers": list(decision.draft.watchers),
        "group": preview.group.as_json() if preview.group is not None else None,
        "flavor": preview.flavor,
        "online": preview.online,
        "field_keys": "ids" if preview.online else "names",
        "request": {"method": preview.method, "path": preview.path, "body": preview.body},
    }


def preview_text(preview: Preview) -> str:
    """The human form: the decision and its reasons, then the request."""
    decision = preview.decision
    source = _SOURCES[decision.category_source]
    lines = [f"Rule: {decision.rule.name}"]
    lines += [f"  because {reason}" for reason in decision.reasons]
    lines += [f"  skipped {name}: {reason}" for name, reason in decision.skipped]
    lines.append(f"Category: {decision.category} ({source}: {decision.category_reason})")
    first, due = decision.deadlines.first_response_due, decision.deadlines.resolution_due
    lines.append(f"SLA: first response by {_iso(first) or '-'}, resolution by {_iso(due) or '-'}")
    if decision.draft.watchers:
        lines.append(f"Watchers (added after the create): {', '.join(decision.draft.watchers)}")
    lines += preview.group.lines() if preview.group is not None else ["Group: none, its own ticket"]
    flavor = "Jira Cloud" if preview.flavor == "cloud" else "Jira Data Center"
    if preview.online:
        lines.append(f"Request to {flavor} (field ids from the live site; nothing was sent):")
    else:
        lines.append(
            f"Request to {flavor} (offline: custom fields are keyed by NAME and nothing is "
            "checked; --online resolves ids against the create screen):"
        )
    lines.append(f"{preview.method} {preview.path}")
    lines.append(json.dumps(preview.body, indent=2, ensure_ascii=False))
    return "\n".join(lines)
