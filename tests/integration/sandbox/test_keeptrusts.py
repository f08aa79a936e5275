"""The Keeptrusts simulator: bearer auth, resolve semantics, cursor paging, webhooks, outbox."""

from __future__ import annotations

import httpx
import pytest

from kt_jira.sandbox import envelope, escalation_payload, resolved_payload

from .conftest import KeeptrustsSite

ACTOR = {"X-Actor-Id": "kt-jira-bridge"}


async def test_bearer_token_is_required(keeptrusts: KeeptrustsSite) -> None:
    """Calls without the API token get 401 with a JSON detail."""
    async with httpx.AsyncClient(base_url=keeptrusts.url) as anonymous:
        response = await anonymous.get("/v1/escalations")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.json()["detail"]


async def test_resolve_records_actor_and_is_irreversible(keeptrusts: KeeptrustsSite) -> None:
    """Resolve needs X-Actor-Id; a second resolve is 409 already_resolved; calls are logged."""
    payload = keeptrusts.sandbox.add_escalation("esc_1", severity="critical")
    assert payload["escalation_id"] == "esc_1"
    path = "/v1/escalations/esc_1/resolve"
    body = {"resolution": "approved", "notes": "Resolved via Jira AIGOV-1"}
    no_actor = await keeptrusts.http.post(path, json=body)
    first = await keeptrusts.http.post(path, json=body, headers=ACTOR)
    again = await keeptrusts.http.post(path, json=body, headers=ACTOR)
    assert no_actor.status_code == 400
    assert first.status_code == 200
    assert first.json()["status"] == "resolved"
    assert first.json()["resolution"] == "approved"
    assert first.json()["resolved_by"] == "kt-jira-bridge"
    assert again.status_code == 409
    assert again.json()["error"] == "already_resolved"
    assert again.json()["detail"]
    esc = keeptrusts.sandbox.escalations["esc_1"]
    assert [c["status"] for c in esc.resolve_calls] == [400, 200, 409]
    assert esc.notes == "Resolved via Jira AIGOV-1"


async def test_resolve_accepts_cli_field_names(keeptrusts: KeeptrustsSite) -> None:
    """`outcome` and `reason` work like `resolution` and `notes`."""
    keeptrusts.sandbox.add_escalation("esc_2")
    response = await keeptrusts.http.post(
        "/v1/escalations/esc_2/resolve",
        json={"outcome": "denied", "reason": "Genuine violation"},
        headers=ACTOR,
    )
    assert response.status_code == 200
    assert (response.json()["resolution"], response.json()["notes"]) == (
        "denied",
        "Genuine violation",
    )


async def test_resolve_errors(keeptrusts: KeeptrustsSite) -> None:
    """Unknown id is 404, missing outcome is 422, expired is 409 expired."""
    keeptrusts.sandbox.add_escalation("esc_3")
    keeptrusts.sandbox.expire("esc_3")
    unknown = await keeptrusts.http.post(
        "/v1/escalations/esc_nope/resolve", json={"resolution": "approved"}, headers=ACTOR
    )
    empty = await keeptrusts.http.post("/v1/escalations/esc_3/resolve", json={}, headers=ACTOR)
    expired = await keeptrusts.http.post(
        "/v1/escalations/esc_3/resolve", json={"resolution": "approved"}, headers=ACTOR
    )
    assert unknown.status_code == 404
    assert empty.status_code == 422
    assert (expired.status_code, expired.json()["error"]) == (409, "expired")


async def test_list_filters_and_pages_with_cursors(keeptrusts: KeeptrustsSite) -> None:
    """GET /v1/escalations filters by status and pages with an opaque next_cursor."""
    for n in range(5):
        keeptrusts.sandbox.add_escalation(f"esc_{n}")
    keeptrusts.sandbox.resolve_in_console("esc_0")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"status": "open", "limit": "2", **({"cursor": cursor} if cursor else {})}
        body = (await keeptrusts.http.get("/v1/escalations", params=params)).json()
        pages += 1
        seen += [e["id"] for e in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["esc_1", "esc_2", "esc_3", "esc_4"]
    assert pages == 2
    too_big = await keeptrusts.http.get("/v1/escalations", params={"limit": "201"})
    bad_cursor = await keeptrusts.http.get("/v1/escalations", params={"cursor": "!!"})
    bad_status = await keeptrusts.http.get("/v1/escalations", params={"status": "pending"})
    assert {too_big.status_code, bad_cursor.status_code, bad_status.status_code} == {400}
    one = (await keeptrusts.http.get("/v1/escalations/esc_0")).json()
    assert (one["status"], one["policy_name"]) == ("resolved", "pii-detector")


@pytest.mark.parametrize(
    "style",
    [
        {"events": ["escalation.created", "escalation.resolved"], "enabled": True},
        {"event_types": ["escalation.created", "escalation.resolved"], "active": True},
    ],
)
async def test_webhook_registration_accepts_both_field_styles(
    keeptrusts: KeeptrustsSite, style: dict[str, object]
) -> None:
    """POST /v1/webhooks takes the docs' events/enabled and the guide's event_types/active."""
    body = {"url": "https://bridge.example.com/webhooks/keeptrusts", **style}
    created = await keeptrusts.http.post("/v1/webhooks", json=body)
    assert created.status_code == 201
    hook = created.json()
    assert hook["id"].startswith("wh_")
    assert hook["events"] == ["escalation.created", "escalation.resolved"]
    assert hook["enabled"] is True
    assert hook["secret"].startswith("whsec_")
    listed = (await keeptrusts.http.get("/v1/webhooks")).json()["data"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    assert (await keeptrusts.http.delete(f"/v1/webhooks/{hook['id']}")).status_code == 204
    assert (await keeptrusts.http.delete(f"/v1/webhooks/{hook['id']}")).status_code == 404


async def test_webhook_url_must_be_https_except_loopback(keeptrusts: KeeptrustsSite) -> None:
    """Plain http is refused for remote hosts but allowed on loopback for tests."""
    events = {"events": ["escalation.created"]}
    remote = await keeptrusts.http.post(
        "/v1/webhooks", json={"url": "http://bridge.example.com/hook", **events}
    )
    local = await keeptrusts.http.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:8080/webhooks/keeptrusts", **events}
    )
    no_events = await keeptrusts.http.post("/v1/webhooks", json={"url": "https://x.example"})
    assert (remote.status_code, local.status_code, no_events.status_code) == (422, 201, 422)


async def test_console_actions_fill_the_outbox(keeptrusts: KeeptrustsSite) -> None:
    """Adding and resolving in the console queue escalation.created / .resolved envelopes."""
    created = await keeptrusts.http.post("/_sandbox/escalations", json={"escalation_id": "esc_9"})
    assert created.status_code == 201
    resolved = await keeptrusts.http.post(
        "/_sandbox/escalations/esc_9/resolve",
        json={"resolution": "denied", "notes": "Real PII", "actor_name": "Rita"},
    )
    assert resolved.json()["resolved_by"] == {"id": "usr_reviewer_1", "name": "Rita"}
    events = (await keeptrusts.http.get("/_sandbox/outbox", params={"take": "1"})).json()["events"]
    assert [e["type"] for e in events] == ["escalation.created", "escalation.resolved"]
    assert events[0]["id"].startswith("evt_")
    assert events[1]["data"]["resolution"] == "denied"
    assert keeptrusts.sandbox.take_outbox() == []
    twice = await keeptrusts.http.post("/_sandbox/escalations/esc_9/resolve", json={})
    assert twice.status_code == 409


async def test_faults_apply_to_the_keeptrusts_api(keeptrusts: KeeptrustsSite) -> None:
    """fail_next makes the next API calls fail, for testing the bridge's resolve retries."""
    await keeptrusts.http.post("/_sandbox/faults", json={"fail_next": [503]})
    assert (await keeptrusts.http.get("/v1/escalations")).status_code == 503
    assert (await keeptrusts.http.get("/v1/escalations")).status_code == 200


def test_payload_factories_have_the_guide_shapes() -> None:
    """Flat created payload, envelope and resolved payload carry the documented fields."""
    flat = escalation_payload("esc_7", policy_name="hipaa", action="block", timestamp="t")
    assert set(flat) == {
        "escalation_id",
        "policy_name",
        "action",
        "model",
        "gateway_id",
        "user_id",
        "timestamp",
        "severity",
        "org_id",
    }
    assert (flat["policy_name"], flat["action"], flat["timestamp"]) == ("hipaa", "block", "t")
    wrapped = envelope("escalation.created", flat, id="evt_1")
    assert wrapped == {
        "id": "evt_1",
        "type": "escalation.created",
        "created_at": wrapped["created_at"],
        "data": flat,
    }
    assert wrapped["created_at"].endswith("Z")
    done = resolved_payload("esc_7", resolution="approved", notes="ok")
    assert {"resolution", "notes", "resolved_by", "resolved_at"} <= set(done)
    assert set(done["resolved_by"]) == {"id", "name"}
