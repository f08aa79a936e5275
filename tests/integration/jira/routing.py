"""Sample escalations and the drafts the rules make of them, for the flavour and routing tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kt_jira.config.models import JiraSettings, Settings
from kt_jira.events.keeptrusts import Escalation
from kt_jira.tickets.draft import IssueDraft
from kt_jira.tickets.rules import decide

RECEIVED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def escalation(escalation_id: str, **overrides: Any) -> Escalation:
    """A realistic escalation; keyword arguments override its attributes."""
    values: dict[str, Any] = {
        "escalation_id": escalation_id,
        "policy_name": "pii-detector",
        "action": "escalate",
        "model": "gpt-4o",
        "gateway_id": "gw-eu-1",
        "user_id": "user-7",
        "severity": "high",
        "occurred_at": RECEIVED,
    }
    values.update(overrides)
    return Escalation(**values)


# One escalation per default rule: the guide's routing table.
ROUTED = (
    escalation("esc-safety-1", policy_name="toxicity-filter", action="block"),
    escalation("esc-hipaa-1", policy_name="hipaa-guard", action="block"),
    escalation("esc-block-1", policy_name="prompt-injection", action="block"),
    escalation("esc-review-1", policy_name="human-oversight", action="escalate"),
    escalation("esc-pii-1", policy_name="pii-detector", action="redact"),
    escalation("esc-audit-1", policy_name="audit-log", action="log"),
)


def draft_for(item: Escalation, jira: JiraSettings, **settings: Any) -> IssueDraft:
    """The draft the configured (default) rules make of ``item``."""
    return decide(item, Settings(jira=jira, **settings).content, received_at=RECEIVED).draft
