"""Parse Keeptrusts webhook bodies, flat (the guide's) or enveloped, into typed escalation events.

Pure: bytes in, frozen values out. Never touches the store, the network or the clock. Every
value from the payload stays data; rendering decides how to escape it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from kt_jira.errors import PayloadError

MAX_ID_LENGTH = 200
_ID_RE = re.compile(r"^[^\x00-\x1f\x7f]+$")
ENVELOPE_TYPE_KEYS = ("type", "event", "event_type")
ENVELOPE_DATA_KEYS = ("data", "payload")


class EventType(StrEnum):
    CREATED = "escalation.created"
    RESOLVED = "escalation.resolved"
    EXPIRED = "escalation.expired"
    OTHER = "other"


@dataclass(frozen=True, kw_only=True)
class Escalation:
    """What Keeptrusts told us about one escalation; missing text fields are empty strings."""

    escalation_id: str
    policy_name: str = ""
    action: str = ""
    model: str = ""
    gateway_id: str = ""
    user_id: str = ""
    org_id: str = ""
    severity: str = ""
    category: str = ""
    occurred_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Resolution:
    """The outcome of an ``escalation.resolved`` (or expired) delivery."""

    outcome: str = ""
    notes: str = ""
    resolved_by: str = ""
    resolved_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class EscalationEvent:
    type: EventType
    raw_type: str
    escalation: Escalation | None
    resolution: Resolution | None = None
    event_id: str = ""

    @property
    def dedup_key(self) -> str:
        """Identifies the fact, not the delivery: a re-sent event maps to the same key."""
        if self.escalation is None:
            return f"{self.raw_type}:{self.event_id}" if self.event_id else ""
        return f"{self.type.value}:{self.escalation.escalation_id}"


def parse_event(body: bytes) -> EscalationEvent:
    """Parse one delivery body; ``PayloadError`` 400 if not JSON, 422 if not a usable event."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not JSON: {exc}", status=400) from exc
    if not isinstance(doc, dict):
        raise PayloadError("body must be a JSON object", status=422)
    data, raw_type = _unwrap(doc)
    kind = _event_type(raw_type)
    if kind is EventType.OTHER:
        return EscalationEvent(
            type=kind, raw_type=raw_type, escalation=None, event_id=_text(doc, "id")
        )
    escalation = _escalation(data)
    resolution = _resolution(data) if kind in (EventType.RESOLVED, EventType.EXPIRED) else None
    if kind is EventType.EXPIRED and resolution is not None and not resolution.outcome:
        resolution = Resolution(
            outcome="expired",
            notes=resolution.notes,
            resolved_by=resolution.resolved_by,
            resolved_at=resolution.resolved_at,
        )
    return EscalationEvent(
        type=kind,
        raw_type=raw_type,
        escalation=escalation,
        resolution=resolution,
        event_id=_text(doc, "id", "event_id", "delivery_id"),
    )


def _unwrap(doc: dict[str, Any]) -> tuple[Mapping[str, Any], str]:
    raw_type = next((str(doc[k]) for k in ENVELOPE_TYPE_KEYS if isinstance(doc.get(k), str)), "")
    for key in ENVELOPE_DATA_KEYS:
        inner = doc.get(key)
        if isinstance(inner, dict):
            # Nested envelopes ({"data": {"escalation": {...}}}) are common; take the innermost.
            nested = inner.get("escalation")
            return (nested if isinstance(nested, dict) else inner), raw_type or _type_in(inner)
    return doc, raw_type


def _type_in(data: Mapping[str, Any]) -> str:
    return next((str(data[k]) for k in ENVELOPE_TYPE_KEYS if isinstance(data.get(k), str)), "")


def _event_type(raw: str) -> EventType:
    if raw == "":
        # The guide's flat payload carries no type: it is a created escalation.
        return EventType.CREATED
    normalised = raw.strip().lower()
    for kind in (EventType.CREATED, EventType.RESOLVED, EventType.EXPIRED):
        if normalised == kind.value:
            return kind
    if normalised in ("escalated", "event.escalated"):
        return EventType.CREATED
    return EventType.OTHER


def _escalation(data: Mapping[str, Any]) -> Escalation:
    escalation_id = _text(data, "escalation_id", "id", "escalationId")
    if not escalation_id:
        raise PayloadError("event has no escalation_id (nor id): cannot correlate it", status=422)
    if len(escalation_id) > MAX_ID_LENGTH or not _ID_RE.match(escalation_id):
        raise PayloadError(
            f"escalation_id must be 1-{MAX_ID_LENGTH} printable characters", status=422
        )
    return Escalation(
        escalation_id=escalation_id,
        policy_name=_text(data, "policy_name", "policy", "policyName", "trigger"),
        action=_text(data, "action", "decision").lower(),
        model=_text(data, "model"),
        gateway_id=_text(data, "gateway_id", "gatewayId"),
        user_id=_text(data, "user_id", "consumer", "userId"),
        org_id=_text(data, "org_id", "orgId", "organization_id"),
        severity=_text(data, "severity").lower(),
        category=_text(data, "policy_category", "category"),
        occurred_at=_time(data, "timestamp", "created_at", "occurred_at"),
    )


def _resolution(data: Mapping[str, Any]) -> Resolution:
    return Resolution(
        outcome=_text(data, "resolution", "outcome"),
        notes=_text(data, "notes", "reason", "resolution_note", "note"),
        resolved_by=_actor(data.get("resolved_by", data.get("actor"))),
        resolved_at=_time(data, "resolved_at"),
    )


def _actor(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("name", "display_name", "displayName", "email", "id"):
            if isinstance(value.get(key), str | int) and str(value[key]).strip():
                return str(value[key]).strip()
        return ""
    return str(value).strip() if isinstance(value, str | int) else ""


def _text(data: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            return str(value["name"]).strip()
    return ""


def _time(data: Mapping[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 10**11 else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        if isinstance(value, str) and value:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
