"""KeeptrustsSender signs exact bytes, keeps one delivery id across retries, and backs off."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kt_jira.sandbox import KeeptrustsSender, envelope, escalation_payload, serve_app

SECRET = "whsec_test-secret"


@dataclass
class Receiver:
    """A webhook endpoint that records deliveries and answers from a script."""

    script: list[int] = field(default_factory=list)
    delay_first: float = 0.0
    retry_after: str | None = None
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.seen.append((dict(request.headers), body))
        if self.delay_first and len(self.seen) == 1:
            await asyncio.sleep(self.delay_first)
        status = self.script.pop(0) if self.script else 202
        headers = {"Retry-After": self.retry_after} if self.retry_after and status == 429 else {}
        return JSONResponse({"status": status}, status_code=status, headers=headers)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = Starlette(routes=[Route("/webhooks/keeptrusts", rec.handle, methods=["POST"])])
    async with serve_app(app) as url:
        rec.url = f"{url}/webhooks/keeptrusts"
        yield rec


def expected_signature(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_signature_is_hmac_sha256_of_the_exact_body(receiver: Receiver) -> None:
    """The signature header is sha256=<hex HMAC of the raw bytes>, plus event and delivery ids."""
    payload = escalation_payload("esc_1", policy_name="pii – détecteur")
    async with KeeptrustsSender(receiver.url, secret=SECRET) as sender:
        result = await sender.send(payload)
    [(headers, body)] = receiver.seen
    assert result.ok
    assert result.statuses == [202]
    assert body == result.body
    assert json.loads(body) == payload
    assert headers["x-keeptrusts-signature"] == f"sha256={expected_signature(body)}"
    assert headers["x-keeptrusts-event"] == "escalation.created"
    assert headers["x-keeptrusts-delivery"] == result.delivery_id
    assert headers["content-type"] == "application/json"


async def test_bare_hex_and_envelope_event_type(receiver: Receiver) -> None:
    """prefixed=False sends bare lowercase hex; an envelope's type becomes the event header."""
    event = envelope("escalation.resolved", {"escalation_id": "esc_1"})
    async with KeeptrustsSender(receiver.url, secret=SECRET, prefixed=False) as sender:
        await sender.send(event)
    [(headers, body)] = receiver.seen
    assert headers["x-keeptrusts-signature"] == expected_signature(body)
    assert headers["x-keeptrusts-event"] == "escalation.resolved"


async def test_retries_5xx_and_429_with_the_same_delivery(receiver: Receiver) -> None:
    """503 and 429 are retried with backoff; every attempt carries the same id and bytes."""
    receiver.script = [503, 429, 500, 202]
    async with KeeptrustsSender(receiver.url, secret=SECRET, base_delay=0.01) as sender:
        result = await sender.send(escalation_payload("esc_2"))
    assert result.statuses == [503, 429, 500, 202]
    assert result.ok
    ids = {headers["x-keeptrusts-delivery"] for headers, _ in receiver.seen}
    bodies = {body for _, body in receiver.seen}
    assert ids == {result.delivery_id}
    assert len(bodies) == 1


async def test_4xx_is_not_retried_and_attempts_are_bounded(receiver: Receiver) -> None:
    """A 401 ends the delivery at once; persistent 503s stop after `attempts`."""
    receiver.script = [401]
    async with KeeptrustsSender(receiver.url, secret=SECRET, base_delay=0.01) as sender:
        rejected = await sender.send(escalation_payload())
        receiver.script = [503] * 10
        exhausted = await sender.send(escalation_payload())
    assert rejected.statuses == [401]
    assert not rejected.ok
    assert exhausted.statuses == [503] * 5


async def test_timeouts_are_retried(receiver: Receiver) -> None:
    """A response slower than the timeout counts as a failed attempt and is retried."""
    receiver.delay_first = 0.5
    async with KeeptrustsSender(
        receiver.url, secret=SECRET, timeout=0.2, base_delay=0.01
    ) as sender:
        result = await sender.send(escalation_payload())
    assert result.attempts[0].status is None
    assert result.attempts[0].error == "ReadTimeout"
    assert result.statuses[-1] == 202


async def test_connection_errors_are_retried() -> None:
    """Nothing listening: every attempt is a connection error, recorded without a status."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/webhooks/keeptrusts"
    async with KeeptrustsSender(url, secret=SECRET, attempts=3, base_delay=0.01) as sender:
        result = await sender.send(escalation_payload())
    assert result.statuses == [None, None, None]
    assert {a.error for a in result.attempts} == {"ConnectError"}


async def test_retry_after_is_honoured(receiver: Receiver) -> None:
    """A 429 with Retry-After: 1 delays the next attempt by at least a second."""
    receiver.script = [429]
    receiver.retry_after = "1"
    loop = asyncio.get_running_loop()
    async with KeeptrustsSender(receiver.url, secret=SECRET, base_delay=0.01) as sender:
        started = loop.time()
        result = await sender.send(escalation_payload())
    assert result.statuses == [429, 202]
    assert loop.time() - started >= 1.0


async def test_forged_unsigned_and_raw_deliveries(receiver: Receiver) -> None:
    """Forged signatures use another key, unsigned sends omit the header, raw sends exact bytes."""
    payload = escalation_payload("esc_3")
    async with KeeptrustsSender(receiver.url, secret=SECRET) as sender:
        await sender.send_forged(payload)
        await sender.send_unsigned(payload)
        raw = await sender.send_raw(b"not json{", event_type="escalation.created")
        own_id = await sender.send(payload, delivery_id="dlv_fixed")
    forged, unsigned, raw_seen, fixed = receiver.seen
    forged_sig = forged[0]["x-keeptrusts-signature"]
    assert forged_sig.startswith("sha256=")
    assert forged_sig != f"sha256={expected_signature(forged[1])}"
    assert "x-keeptrusts-signature" not in unsigned[0]
    assert raw_seen[1] == b"not json{" == raw.body
    assert raw_seen[0]["x-keeptrusts-signature"] == f"sha256={expected_signature(b'not json{')}"
    assert fixed[0]["x-keeptrusts-delivery"] == own_id.delivery_id == "dlv_fixed"
