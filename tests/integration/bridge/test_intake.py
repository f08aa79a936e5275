"""The Keeptrusts webhook over real HTTP: statuses, what is stored, and what never is."""

from __future__ import annotations

import json

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from kt_jira.sandbox import envelope, escalation_payload
from tests.support.intake import Harness


def _body(**fields: object) -> bytes:
    return json.dumps(escalation_payload("esc_intake_1", **fields)).encode()


async def test_signed_escalation_is_accepted_and_queued(harness: Harness) -> None:
    """A signed delivery answers 202 and stores the escalation and its create job."""
    response = await harness.deliver(_body(policy_name="pii-detector"))
    assert response.status_code == 202
    store = harness.bridge.store
    escalation = await store.escalations.get("esc_intake_1")
    assert escalation is not None
    assert escalation.policy_name == "pii-detector"
    jobs = await store.queue.list(kind="create_issue")
    assert [job.job_key for job in jobs] == ["create_issue:esc_intake_1"]


async def test_forged_and_unsigned_deliveries_store_nothing(harness: Harness) -> None:
    """A wrong or missing signature answers 401 with a JSON detail and stores nothing at all."""
    forged = await harness.deliver(
        _body(), headers={"X-Keeptrusts-Signature": "sha256=" + "ab" * 32}, signed=False
    )
    unsigned = await harness.deliver(_body(), signed=False)
    assert (forged.status_code, unsigned.status_code) == (401, 401)
    assert "signature" in forged.json()["detail"]
    counts = await harness.bridge.store.counts.totals()
    assert counts["escalations"] == 0
    assert await harness.bridge.store.deliveries.list() == []


async def test_oversized_body_is_413_and_not_stored(harness: Harness) -> None:
    """A body over the 1 MiB default limit answers 413 before anything is parsed or stored."""
    big = json.dumps({**escalation_payload("esc_big"), "padding": "x" * (1024 * 1024)}).encode()
    response = await harness.deliver(big)
    assert response.status_code == 413
    assert "detail" in response.json()
    assert await harness.bridge.store.deliveries.list() == []


async def test_signed_garbage_is_quarantined_with_its_bytes(harness: Harness) -> None:
    """Signed non-JSON answers 400 and signed JSON that is no event 422; both bodies are kept."""
    not_json = await harness.deliver(b"{definitely not json")
    no_id = await harness.deliver(json.dumps({"policy_name": "p"}).encode())
    assert (not_json.status_code, no_id.status_code) == (400, 422)
    quarantined = await harness.bridge.store.deliveries.list(status="quarantined")
    assert len(quarantined) == 2
    kept = await harness.bridge.store.deliveries.get(not_json.json()["quarantine_id"])
    assert kept is not None
    assert kept.body == b"{definitely not json"
    assert (
        "escalation_id"
        in (await harness.bridge.store.deliveries.get(no_id.json()["quarantine_id"])).reason
    )  # type: ignore[union-attr,operator]


async def test_duplicates_answer_200_and_enqueue_once(harness: Harness) -> None:
    """The same delivery id, and the same event under a new id or shape, are duplicates: one job."""
    body = _body()
    first = await harness.deliver(body, headers={"X-Keeptrusts-Delivery": "dlv_1"})
    again = await harness.deliver(body, headers={"X-Keeptrusts-Delivery": "dlv_1"})
    reshaped = json.dumps(
        envelope("escalation.created", escalation_payload("esc_intake_1"))
    ).encode()
    other_id = await harness.deliver(reshaped, headers={"X-Keeptrusts-Delivery": "dlv_2"})
    assert [r.status_code for r in (first, again, other_id)] == [202, 200, 200]
    assert len(await harness.bridge.store.queue.list(kind="create_issue")) == 1


async def test_unhandled_event_types_are_acknowledged(harness: Harness) -> None:
    """Valid events the bridge does not act on answer 202 'ignored' and enqueue nothing."""
    body = json.dumps({"type": "export.completed", "data": {"id": "exp_1"}}).encode()
    response = await harness.deliver(body)
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert await harness.bridge.store.queue.list() == []


async def test_health_readiness_and_metrics(harness: Harness) -> None:
    """healthz and readyz answer 200 on a migrated database; metrics count deliveries by outcome."""
    await harness.deliver(_body())
    await harness.deliver(_body(), signed=False)
    assert (await harness.client.get(f"{harness.url}/healthz")).status_code == 200
    ready = await harness.client.get(f"{harness.url}/readyz")
    assert ready.status_code == 200
    metrics = (await harness.client.get(f"{harness.url}/metrics")).text
    assert 'kt_jira_webhook_deliveries_total{outcome="accepted",source="keeptrusts"} 1.0' in metrics
    assert (
        'kt_jira_webhook_deliveries_total{outcome="unauthorized",source="keeptrusts"} 1.0'
        in metrics
    )


async def test_unknown_routes_and_methods_answer_json(harness: Harness) -> None:
    """Unknown paths and wrong methods answer 404/405 with a JSON detail, like every error."""
    missing = await harness.client.get(f"{harness.url}/nope")
    wrong = await harness.client.get(f"{harness.url}/webhooks/keeptrusts")
    assert (missing.status_code, wrong.status_code) == (404, 405)
    assert missing.json()["detail"]
    assert wrong.json()["detail"]


async def test_metrics_parse_and_describe_the_queue_and_jira(harness: Harness) -> None:
    """/metrics is valid Prometheus text (its own parser reads it): the queue gauges count what
    the database holds, every Jira request is timed by templated endpoint, and build info."""
    await harness.deliver(_body())
    text = (await harness.client.get(f"{harness.url}/metrics")).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    queued = {s.labels["status"]: s.value for s in families["kt_jira_queue_jobs"].samples}
    counts = await harness.bridge.store.queue.counts()
    assert queued == {status: float(n) for status, n in counts.items()}
    assert queued["queued"] == 1.0
    assert families["kt_jira_oldest_queued_job_age_seconds"].samples[0].value >= 0
    assert families["kt_jira_jira_pause_seconds"].samples[0].value == 0
    [build] = families["kt_jira_build_info"].samples
    assert build.labels["version"]

    while await harness.bridge.worker.run_once():
        pass
    text = (await harness.client.get(f"{harness.url}/metrics")).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests = families["kt_jira_jira_request_seconds"].samples
    endpoints = {(s.labels["method"], s.labels["endpoint"], s.labels["status"])
                 for s in requests if s.name.endswith("_count")}  # fmt: skip
    assert ("POST", "/rest/api/3/issue", "201") in endpoints
    assert all("AIGOV-" not in endpoint for _, endpoint, _ in endpoints)


async def test_a_refused_signature_is_logged_without_secrets(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 401 says why in the log (a wrong secret after a rotation shows there), never the
    secret or the body."""
    capsys.readouterr()
    response = await harness.deliver(_body(), signed=False)
    assert response.status_code == 401
    logged = "".join(capsys.readouterr())
    [line] = [line for line in logged.splitlines() if "webhook.unauthorized" in line]
    assert "keeptrusts" in line
    assert "esc_" not in line  # nothing of the body


async def test_readiness_follows_the_schema_through_a_rolling_upgrade(harness: Harness) -> None:
    """After a newer version migrates the database, this older process stays ready (it says to
    upgrade it: every migration only adds); a database behind the code is not ready."""
    store = harness.bridge.store
    head = (await store.db.schema_status()).head

    async def at(revision: str) -> httpx.Response:
        async with store.db.write() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        return await harness.client.get(f"{harness.url}/readyz")

    ahead = await at("0999")
    assert ahead.status_code == 200
    assert ahead.json() == {
        "status": "ready",
        "schema": "0999",
        "upgrade": f"this kt-jira expects schema {head}: upgrade it",
    }
    behind = await at("0001")
    assert behind.status_code == 503
    assert "run `kt-jira migrate`" in behind.json()["detail"]
    assert (await at(head)).json() == {"status": "ready", "schema": head}
