"""Keeptrusts webhook payloads as the simulator (and tests) send them.

The flat shape is the guide's (`escalation_id, policy_name, action, model, gateway_id, user_id,
timestamp`, plus `severity` and `org_id`); `envelope` wraps data the way the docs' "event type
and timestamp plus typed payload" suggests. Pure; ids come from `secrets` only when not given.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

JsonDict = dict[str, Any]


def iso_now(now: datetime | None = None) -> str:
    """An ISO-8601 UTC timestamp with a ``Z`` suffix."""
    moment = now or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


def escalation_payload(
    escalation_id: str | None = None,
    *,
    policy_name: str = "pii-detector",
    action: str = "escalate",
    model: str = "gpt-4o",
    gateway_id: str = "gw_prod_east",
    user_id: str = "user_789",
    severity: str = "high",
    timestamp: str | None = None,
    org_id: str = "org_sandbox",
    **extra: Any,
) -> JsonDict:
    """A flat ``escalation.created`` payload, the guide's shape."""
    return {
        "escalation_id": escalation_id or new_id("esc"),
        "policy_name": policy_name,
        "action": action,
        "model": model,
        "gateway_id": gateway_id,
        "user_id": user_id,
        "severity": severity,
        "timestamp": timestamp or iso_now(),
        "org_id": org_id,
        **extra,
    }


def envelope(
    type: str,
    data: JsonDict,
    *,
    id: str | None = None,
    created_at: str | None = None,
) -> JsonDict:
    """``{"id": "evt_...", "type": ..., "created_at": ..., "data": {...}}``."""
    return {
        "id": id or new_id("evt"),
        "type": type,
        "created_at": created_at or iso_now(),
        "data": data,
    }


def resolved_payload(
    escalation_id: str,
    *,
    resolution: str = "approved",
    notes: str = "",
    resolved_by_id: str = "usr_reviewer_1",
    resolved_by_name: str = "Rita Reviewer",
    resolved_at: str | None = None,
    **extra: Any,
) -> JsonDict:
    """The data of an ``escalation.resolved`` event."""
    return {
        "escalation_id": escalation_id,
        "status": "resolved",
        "resolution": resolution,
        "notes": notes,
        "resolved_by": {"id": resolved_by_id, "name": resolved_by_name},
        "resolved_at": resolved_at or iso_now(),
        **extra,
    }
