"""Acceptance: the Keeptrusts webhook's answers, from the real ``kt-jira serve`` process, and that
only a good signed event ever becomes an issue (once, however often it is delivered)."""

from __future__ import annotations

import json

import httpx
import pytest

from kt_jira.sandbox import DeliveryResult, KeeptrustsSender, escalation_payload
from tests.acceptance.conftest import World
from tests.acceptance.harness import eventually

pytestmark = pytest.mark.slow


def detail(result: DeliveryResult) -> str:
    """The JSON ``detail`` of an error answer (fails if the body is not JSON with one)."""
    body = json.loads(result.attempts[-1].body)
    assert isinstance(body, dict), body
    assert isinstance(body.get("detail"), str), body
    assert body["detail"], body
    return str(body["detail"])


async def test_webhook_answers_and_only_good_events_become_one_issue(world: World) -> None:
    """Forged and unsigned deliveries get 401 and leave nothing; over 1 MiB gets 413; signed
    non-JSON 400 and signed JSON without an escalation id 422, each with a JSON detail; a repeat
    delivery id and a re-sent event get 200; in the end exactly one issue exists."""
    site = world.jira()
    bridge = await world.bridge(site)
    good = escalation_payload("esc_hook_good", policy_name="pii-detector", action="redact")
    forged = escalation_payload("esc_hook_forged", policy_name="pii-detector", action="block")
    unsigned = escalation_payload("esc_hook_unsigned", action="block")
    async with KeeptrustsSender(
        bridge.webhook_url, secret=world.secrets.webhook, base_delay=0.05, attempts=2
    ) as sender:
        result = await sender.send_forged(forged)
        assert result.status == 401, result.attempts
        assert detail(result)
        result = await sender.send_unsigned(unsigned)
        assert result.status == 401, result.attempts
        assert detail(result)

        padding = "x" * (1024 * 1024 + 1)
        big = json.dumps(escalation_payload("esc_hook_big", padding=padding)).encode()
        result = await sender.send_raw(big)
        assert result.status == 413, result.attempts
        assert detail(result)

        result = await sender.send_raw(b"this is not json {", content_type="text/plain")
        assert result.status == 400, result.attempts
        assert detail(result)

        missing = {k: v for k, v in good.items() if k != "escalation_id"}
        result = await sender.send(missing)
        assert result.status == 422, result.attempts
        assert detail(result)

        first = await sender.send(good)
        assert first.status == 202, first.attempts
        again = await sender.send(good, delivery_id=first.delivery_id)
        assert again.status == 200, again.attempts
        resent = await sender.send(good)
        assert resent.delivery_id != first.delivery_id
        assert resent.status == 200, resent.attempts

    def settled() -> None:
        assert len(site.issues_for("esc_hook_good")) == 1
        assert len(site.issues()) == 1, [i.labels for i in site.issues()]

    await eventually(settled, timeout=30)
    jobs = world.cli("jobs", "list", "--config", str(bridge.config), bridge=bridge)
    assert jobs.code == 0, jobs.text
    for stranger in ("esc_hook_forged", "esc_hook_unsigned", "esc_hook_big"):
        assert stranger not in jobs.text, f"{stranger} was stored:\n{jobs.text}"
        assert site.issues_for(stranger) == []
    async with httpx.AsyncClient(base_url=bridge.url) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert site.sandbox.contract_violations == []
