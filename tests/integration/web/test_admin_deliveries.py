"""The admin API's deliveries over real HTTP, on data from the real intake: pages and filters,
a quarantined body and its headers, and replays that end in the sandbox Jira (or stay put)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from kt_jira.config.secrets import SecretRef
from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import escalation_payload
from kt_jira.signing import JIRA_SCHEME, KEEPTRUSTS_DEFAULT, sign, verify
from tests.support.intake import WEBHOOK_SECRET, HarnessFactory

from .conftest import ADMIN_TOKEN, AdminHarness

JIRA_SECRET = "test-jira-webhook-secret"


def _payload(escalation_id: str, **fields: object) -> bytes:
    return json.dumps(escalation_payload(escalation_id, **fields)).encode()


async def _link_created(admin: AdminHarness, escalation_id: str) -> bool:
    link = await admin.harness.bridge.store.links.get(escalation_id)
    return link is not None and link.state == "created"


async def test_deliveries_page_newest_first_and_filter(admin: AdminHarness) -> None:
    """Deliveries list newest first in pages of ``limit``, followed by ``next_before_id``, and
    filter by status and source."""
    for n in range(3):
        assert (await admin.harness.deliver(_payload(f"esc_list_{n}"))).status_code == 202
    assert (await admin.harness.deliver(b"{not json")).status_code == 400
    first = (await admin.api("GET", "/deliveries", params={"limit": 2})).json()
    assert [d["status"] for d in first["items"]] == ["quarantined", "accepted"]
    second = await admin.api(
        "GET", "/deliveries", params={"limit": 2, "before_id": first["next_before_id"]}
    )
    assert [d["escalation_id"] for d in second.json()["items"]] == ["esc_list_1", "esc_list_0"]
    assert second.json()["next_before_id"] is None
    quarantined = await admin.api("GET", "/deliveries", params={"status": "quarantined"})
    assert [d["reason"] for d in quarantined.json()["items"]] == [first["items"][0]["reason"]]
    from_jira = await admin.api("GET", "/deliveries", params={"source": "jira"})
    assert from_jira.json() == {"items": [], "next_before_id": None}


async def test_a_quarantined_delivery_shows_its_raw_body_and_safe_headers(
    admin: AdminHarness,
) -> None:
    """A quarantined delivery shows its body as text when it is UTF-8, else base64, and the
    headers kept at receipt, never the signature."""
    text = await admin.harness.deliver(b"{not json", headers={"X-Keeptrusts-Delivery": "dlv_t"})
    binary = await admin.harness.deliver(b"\xff\xfe{", headers={"X-Keeptrusts-Delivery": "dlv_b"})
    shown = (await admin.api("GET", f"/deliveries/{text.json()['quarantine_id']}")).json()
    assert shown["body"] == {"encoding": "utf-8", "content": "{not json"}
    assert shown["headers"]["x-keeptrusts-delivery"] == "dlv_t"
    assert not any("signature" in name for name in shown["headers"])
    raw = (await admin.api("GET", f"/deliveries/{binary.json()['quarantine_id']}")).json()
    assert raw["body"]["encoding"] == "base64"
    assert base64.b64decode(raw["body"]["content"]) == b"\xff\xfe{"
    assert (await admin.api("GET", "/deliveries/999999")).status_code == 404


async def test_replaying_a_still_broken_delivery_keeps_it_quarantined(
    admin: AdminHarness,
) -> None:
    """A signed but unparseable body replays through the parser again: 422, still
    quarantined, and both the replay and its failure are audited with who asked."""
    row = (await admin.harness.deliver(b"{not json")).json()["quarantine_id"]
    replay = await admin.api("POST", f"/deliveries/{row}/replay")
    assert replay.status_code == 422
    assert replay.json()["outcome"] == "quarantined"
    assert replay.json()["delivery"]["status"] == "quarantined"
    assert "still unusable" in replay.json()["detail"]
    trail = await admin.harness.bridge.store.audit.list(entity="delivery", entity_id=str(row))
    assert [(a.action, a.detail.get("by")) for a in trail[:2]] == [
        ("replay_failed", "admin"),
        ("replay", "admin"),
    ]


async def test_replaying_a_fixed_delivery_creates_its_ticket(admin: AdminHarness) -> None:
    """A quarantined delivery whose body now parses (say, after a parser fix) replays through
    the intake: it is accepted, its create job runs and the ticket appears in Jira; replaying
    an accepted delivery is 409."""
    body = _payload("esc_replayed_1")
    headers = {
        "X-Keeptrusts-Delivery": "dlv_fixed",
        **sign(WEBHOOK_SECRET, body, KEEPTRUSTS_DEFAULT),
    }
    verified = verify(
        source="keeptrusts",
        body=body,
        headers=headers,
        secrets=[WEBHOOK_SECRET],
        scheme=KEEPTRUSTS_DEFAULT,
        now=datetime.now(UTC),
    )
    store = admin.harness.bridge.store
    row = await store.deliveries.quarantine(verified, reason="an old parser bug", http_status=422)
    browser = await admin.browser()
    replay = await browser.post(f"/api/v1/deliveries/{row}/replay")
    assert replay.status_code == 200, replay.text
    assert replay.json()["outcome"] == "accepted"
    assert replay.json()["delivery"]["status"] == "accepted"
    await admin.harness.work_until(lambda: _link_created(admin, "esc_replayed_1"))
    issues = admin.harness.sandbox.issues_with_label(correlation_label("esc_replayed_1"))
    assert len(issues) == 1
    again = await admin.api("POST", f"/deliveries/{row}/replay")
    assert again.status_code == 409
    assert "only quarantined" in again.json()["detail"]
    [replayed] = [a for a in await store.audit.list(entity="delivery") if a.action == "replay"]
    assert replayed.detail["by"].startswith("session:")


async def test_jira_deliveries_replay_through_the_jira_intake(
    make_harness: HarnessFactory,
) -> None:
    """A quarantined Jira delivery replays through the Jira parser: one still without its
    envelope timestamp stays quarantined; one that now parses as an event the bridge does not
    handle becomes ignored."""
    harness = await make_harness(
        server={"admin_token": SecretRef.literal(ADMIN_TOKEN)},
        webhook_secret=SecretRef.literal(JIRA_SECRET),
    )
    bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    body = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": "1"}}).encode()
    signed = {"X-Atlassian-Webhook-Identifier": "jira-1", **sign(JIRA_SECRET, body, JIRA_SCHEME)}
    sent = await harness.client.post(f"{harness.url}/webhooks/jira", content=body, headers=signed)
    assert sent.status_code == 422
    row = sent.json()["quarantine_id"]
    listed = await harness.client.get(
        f"{harness.url}/api/v1/deliveries", params={"source": "jira"}, headers=bearer
    )
    assert [d["id"] for d in listed.json()["items"]] == [row]
    again = await harness.client.post(
        f"{harness.url}/api/v1/deliveries/{row}/replay", headers=bearer
    )
    assert again.status_code == 422
    assert "timestamp" in again.json()["detail"]
    other = json.dumps({"webhookEvent": "jira:worklog_updated", "timestamp": 1767225600000})
    headers = {
        "X-Atlassian-Webhook-Identifier": "jira-2",
        **sign(JIRA_SECRET, other.encode(), JIRA_SCHEME),
    }
    verified = verify(
        source="jira",
        body=other.encode(),
        headers=headers,
        secrets=[JIRA_SECRET],
        scheme=JIRA_SCHEME,
        now=datetime.now(UTC),
    )
    kept = await harness.bridge.store.deliveries.quarantine(verified, reason="old", http_status=422)
    ignored = await harness.client.post(
        f"{harness.url}/api/v1/deliveries/{kept}/replay", headers=bearer
    )
    assert ignored.status_code == 200
    assert ignored.json()["outcome"] == "ignored"
    assert ignored.json()["delivery"]["status"] == "ignored"
