"""Rotating secrets under a running bridge, over real HTTP: a ``file:`` or ``ssm:`` webhook
secret and a ``file:`` admin token take effect without a restart."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kt_jira.config.secrets import SecretRef
from kt_jira.sandbox import escalation_payload
from kt_jira.signing import KEEPTRUSTS_DEFAULT, sign
from tests.support.aws import mocked_ssm, offline_aws, put_secret
from tests.support.clock import ManualClock
from tests.support.intake import Harness, HarnessFactory

OLD, NEW = "old-webhook-secret-0123456789", "new-webhook-secret-9876543210"


def _rewrite(path: Path, value: str) -> None:
    """Replace a mounted secret file's content, its mtime visibly later (as a rename would)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(value + "\n", encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


async def _deliver(harness: Harness, escalation_id: str, secret: str) -> int:
    body = json.dumps(escalation_payload(escalation_id)).encode()
    headers = {"Content-Type": "application/json", **sign(secret, body, KEEPTRUSTS_DEFAULT)}
    response = await harness.client.post(
        f"{harness.url}/webhooks/keeptrusts", content=body, headers=headers
    )
    return response.status_code


async def test_a_rotated_file_webhook_secret_counts_without_a_restart(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    """The documented rotation with two file slots (next, current): writing the new secret to
    the next slot makes it verify at once, beside the old; writing it to the current slot
    retires the old one. The process is never restarted."""
    next_slot, current_slot = tmp_path / "webhook-next", tmp_path / "webhook"
    _rewrite(next_slot, OLD)
    _rewrite(current_slot, OLD)
    harness = await make_harness(webhook={"secrets": [f"file:{next_slot}", f"file:{current_slot}"]})
    assert await _deliver(harness, "esc_rot_1", OLD) == 202
    assert await _deliver(harness, "esc_rot_2", NEW) == 401
    _rewrite(next_slot, NEW)
    assert await _deliver(harness, "esc_rot_3", NEW) == 202
    assert await _deliver(harness, "esc_rot_4", OLD) == 202  # still accepted while senders move
    _rewrite(current_slot, NEW)
    assert await _deliver(harness, "esc_rot_5", OLD) == 401
    assert await _deliver(harness, "esc_rot_6", NEW) == 202
    stored = {e.escalation_id for e in await harness.bridge.store.escalations.list()}
    assert stored == {"esc_rot_1", "esc_rot_3", "esc_rot_4", "esc_rot_6"}


async def test_an_unreadable_webhook_secret_is_503_and_stores_nothing(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    """A secret file gone mid-rotation: deliveries answer 503 (the sender retries) and nothing
    is stored; once the file is back they are accepted again."""
    slot = tmp_path / "webhook"
    _rewrite(slot, OLD)
    harness = await make_harness(webhook={"secrets": [f"file:{slot}"]})
    slot.unlink()
    assert await _deliver(harness, "esc_gone", OLD) == 503
    assert await harness.bridge.store.deliveries.list() == []
    _rewrite(slot, OLD)
    assert await _deliver(harness, "esc_back", OLD) == 202


async def test_a_rotated_ssm_webhook_secret_counts_after_the_ttl(
    make_harness: HarnessFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ssm: webhook secret overwritten in Parameter Store (moto) is used once the TTL has
    passed on the secret's clock; until then the value fetched before still verifies."""
    offline_aws(monkeypatch, tmp_path)
    clock = ManualClock()
    secret = SecretRef("ssm:/kt-jira/webhook-secret", clock=lambda: clock.now.timestamp())
    with mocked_ssm({"/kt-jira/webhook-secret": OLD}) as ssm:
        harness = await make_harness(webhook={"secrets": [secret]})
        assert await _deliver(harness, "esc_ssm_1", OLD) == 202
        put_secret(ssm, "/kt-jira/webhook-secret", NEW)
        assert await _deliver(harness, "esc_ssm_2", NEW) == 401  # within the 5 minutes
        clock.advance(minutes=5, seconds=1)
        assert await _deliver(harness, "esc_ssm_3", NEW) == 202
        assert await _deliver(harness, "esc_ssm_4", OLD) == 401


async def test_a_rotated_file_admin_token_counts_without_a_restart(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    """server.admin_token from a file: after the file changes the new Bearer token gets in and
    the old one is refused."""
    old, new = "old-admin-token-0123456789abcdef", "new-admin-token-0123456789abcdef"
    token_file = tmp_path / "admin-token"
    _rewrite(token_file, old)
    harness = await make_harness(server={"admin_token": f"file:{token_file}"})

    async def status(token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        response = await harness.client.get(f"{harness.url}/api/v1/jobs", headers=headers)
        return response.status_code

    assert (await status(old), await status(new)) == (200, 401)
    _rewrite(token_file, new)
    assert (await status(new), await status(old)) == (200, 401)
