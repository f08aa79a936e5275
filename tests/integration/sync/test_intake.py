"""POST /webhooks/jira over real HTTP: signatures, rotation, replays, duplicates, quarantine."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from kt_jira.config.secrets import SecretRef
from kt_jira.sandbox.jira.state import HUMAN
from tests.support.sync import JIRA_SECRET, HarnessFactory, SyncHarness


def _event(issue_id: str, *, age_seconds: float = 0.0, changelog: str = "30001") -> bytes:
    body: dict[str, Any] = {
        "timestamp": int((time.time() - age_seconds) * 1000),
        "webhookEvent": "jira:issue_updated",
        "user": {"accountId": HUMAN.account_id, "displayName": HUMAN.display_name},
        "issue": {
            "id": issue_id,
            "key": "AIGOV-1",
            "fields": {
                "labels": [],
                "status": {"id": "3", "name": "In Progress",
                           "statusCategory": {"key": "indeterminate"}},
            },
        },
        "changelog": {"id": changelog, "items": [
            {"field": "status", "fieldtype": "jira", "from": "10000", "fromString": "Open",
             "to": "3", "toString": "In Progress"}]},
    }  # fmt: skip
    return json.dumps(body).encode()


def _signed(body: bytes, secret: str = JIRA_SECRET, identifier: str = "wh-1") -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature": f"sha256={digest}", "X-Atlassian-Webhook-Identifier": identifier}


async def _jira_deliveries(harness: SyncHarness) -> list[Any]:
    return [d for d in await harness.bridge.store.deliveries.list() if d.source == "jira"]


async def test_forged_unsigned_and_old_deliveries_store_nothing(harness: SyncHarness) -> None:
    """A wrong secret, no signature, or a signed body older than the replay window: 401, with a
    JSON detail, and nothing stored or enqueued."""
    issue = await harness.ticket("esc_intake_1")
    body = _event(issue.id)
    forged = await harness.post_jira(body, _signed(body, secret="not the secret"))
    unsigned = await harness.post_jira(body, {"X-Atlassian-Webhook-Identifier": "wh-2"})
    old = _event(issue.id, age_seconds=2 * 24 * 3600)
    replay = await harness.post_jira(old, _signed(old, identifier="wh-3"))
    assert [r.status_code for r in (forged, unsigned, replay)] == [401, 401, 401]
    assert all(r.json()["detail"] for r in (forged, unsigned, replay))
    assert await _jira_deliveries(harness) == []
    assert await harness.bridge.store.queue.list(kind="jira_event") == []


async def test_duplicates_answer_200_and_are_processed_once(harness: SyncHarness) -> None:
    """The same identifier again, or the same change under a new identifier, is a duplicate."""
    issue = await harness.ticket("esc_intake_dup")
    body = _event(issue.id)
    first = await harness.post_jira(body, _signed(body))
    again = await harness.post_jira(body, _signed(body))
    other = await harness.post_jira(body, _signed(body, identifier="wh-other"))
    assert [r.status_code for r in (first, again, other)] == [202, 200, 200]
    assert len(await harness.bridge.store.queue.list(kind="jira_event")) == 1
    [delivery] = await _jira_deliveries(harness)
    assert (delivery.escalation_id, delivery.duplicates) == ("esc_intake_dup", 2)


async def test_rotated_secrets_are_all_accepted(make_harness: HarnessFactory) -> None:
    """During rotation a delivery signed with the new secret in jira.webhook_secrets is good."""
    harness = await make_harness(jira={"webhook_secrets": [SecretRef.literal("next-secret")]})
    issue = await harness.ticket("esc_intake_rot")
    body = _event(issue.id)
    response = await harness.post_jira(body, _signed(body, secret="next-secret"))
    assert response.status_code == 202


async def test_unlinked_issue_is_recorded_and_ignored(harness: SyncHarness) -> None:
    """An event about an issue no escalation owns is kept as ignored and enqueues nothing."""
    body = _event("99999")
    response = await harness.post_jira(body, _signed(body))
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    [delivery] = await _jira_deliveries(harness)
    assert delivery.status == "ignored"
    assert await harness.bridge.store.queue.list(kind="jira_event") == []


async def test_signed_garbage_is_quarantined(harness: SyncHarness) -> None:
    """Signed non-JSON is 400 and a signed body without timestamp 422; both bodies are kept."""
    not_json = b"not json at all"
    no_time = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": "1"}}).encode()
    r1 = await harness.post_jira(not_json, _signed(not_json, identifier="q1"))
    r2 = await harness.post_jira(no_time, _signed(no_time, identifier="q2"))
    assert (r1.status_code, r2.status_code) == (400, 422)
    kept = await harness.bridge.store.deliveries.get(r1.json()["quarantine_id"])
    assert kept is not None
    assert kept.body == not_json


async def test_without_a_secret_the_endpoint_is_off(make_harness: HarnessFactory) -> None:
    """No Jira webhook secret configured: 404 with a detail that says what to set."""
    harness = await make_harness(jira={"webhook_secret": None})
    body = _event("1")
    response = await harness.post_jira(body, _signed(body))
    assert response.status_code == 404
    assert "jira.webhook_secret" in response.json()["detail"]
    assert await _jira_deliveries(harness) == []
