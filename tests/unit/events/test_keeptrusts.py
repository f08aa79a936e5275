"""Parsing flat and enveloped Keeptrusts payloads into typed events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from kt_jira.errors import PayloadError
from kt_jira.events.keeptrusts import EventType, parse_event

GUIDE = {
    "escalation_id": "esc_abc123",
    "policy_name": "content_safety",
    "action": "block",
    "model": "gpt-4o",
    "gateway_id": "gw_prod_east",
    "user_id": "user_789",
    "timestamp": "2026-04-23T14:30:00Z",
}


def _parse(doc: object) -> object:
    return parse_event(json.dumps(doc).encode())


def test_flat_guide_payload_is_a_created_escalation() -> None:
    """The guide's flat body (no type) parses as escalation.created with every field."""
    event = parse_event(json.dumps(GUIDE).encode())
    assert event.type is EventType.CREATED
    assert event.escalation is not None
    assert event.escalation.policy_name == "content_safety"
    assert event.escalation.occurred_at == datetime(2026, 4, 23, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize("type_key", ["type", "event", "event_type"])
@pytest.mark.parametrize("data_key", ["data", "payload"])
def test_envelope_shapes(type_key: str, data_key: str) -> None:
    """Every envelope spelling (type/event/event_type + data/payload) is accepted."""
    event = parse_event(json.dumps({type_key: "escalation.created", data_key: GUIDE}).encode())
    assert event.type is EventType.CREATED
    assert event.escalation is not None
    assert event.escalation.escalation_id == "esc_abc123"


def test_envelope_id_from_data_id() -> None:
    """An envelope whose data carries `id` instead of `escalation_id` still correlates."""
    event = parse_event(
        json.dumps(
            {"type": "escalation.created", "data": {"id": "esc_9", "policy_name": "p"}}
        ).encode()
    )
    assert event.escalation is not None
    assert event.escalation.escalation_id == "esc_9"


@pytest.mark.parametrize(
    ("data", "outcome", "notes", "by"),
    [
        ({"resolution": "approved", "notes": "ok", "resolved_by": "ana"}, "approved", "ok", "ana"),
        (
            {"outcome": "denied", "reason": "bad", "actor": {"id": "u1", "name": "Bo"}},
            "denied",
            "bad",
            "Bo",
        ),
    ],
)
def test_resolved_aliases(data: dict[str, object], outcome: str, notes: str, by: str) -> None:
    """escalation.resolved accepts each alias of outcome, note and actor (string or object)."""
    event = parse_event(
        json.dumps(
            {"type": "escalation.resolved", "data": {"escalation_id": "esc_1", **data}}
        ).encode()
    )
    assert event.type is EventType.RESOLVED
    assert event.resolution is not None
    assert (event.resolution.outcome, event.resolution.notes, event.resolution.resolved_by) == (
        outcome,
        notes,
        by,
    )


def test_not_json_is_400() -> None:
    """A body that is not JSON is a 400 PayloadError."""
    with pytest.raises(PayloadError) as caught:
        parse_event(b"{not json")
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "doc", [[1, 2], {"policy_name": "p"}, {"escalation_id": "x" * 300}, {"escalation_id": "a\nb"}]
)
def test_invalid_events_are_422(doc: object) -> None:
    """Non-objects, missing ids, over-long ids and ids with control characters are 422."""
    with pytest.raises(PayloadError) as caught:
        parse_event(json.dumps(doc).encode())
    assert caught.value.status == 422


def test_unhandled_event_type_is_other() -> None:
    """Event types the bridge does not handle are recognised as OTHER, not errors."""
    event = parse_event(json.dumps({"type": "export.completed", "data": {"id": "x"}}).encode())
    assert event.type is EventType.OTHER


def test_dedup_key_names_the_fact() -> None:
    """Two deliveries of the same escalation event share one dedup key."""
    a = parse_event(json.dumps(GUIDE).encode())
    b = parse_event(json.dumps({**GUIDE, "timestamp": "2026-04-23T14:31:00Z"}).encode())
    assert a.dedup_key == b.dedup_key
