"""`KeeptrustsSender`: delivers webhook payloads to the bridge the way a real sender would.

It serialises once, signs those exact bytes with HMAC-SHA256 (an implementation independent of
`kt_jira.signing`, on purpose), keeps one delivery id across retries, and retries connection
errors, timeouts, 5xx and 429 with exponential backoff. It can also forge or omit signatures
and send raw bytes, so tests can prove the bridge rejects them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

SIGNATURE_HEADER = "X-Keeptrusts-Signature"
EVENT_HEADER = "X-Keeptrusts-Event"
DELIVERY_HEADER = "X-Keeptrusts-Delivery"


def sign(body: bytes, secret: str, *, prefixed: bool = True) -> str:
    """``sha256=<lowercase hex HMAC-SHA256 of body keyed by the UTF-8 secret>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}" if prefixed else digest


@dataclass(frozen=True)
class Attempt:
    """One try: the HTTP status, or the transport error's name when there was no answer."""

    number: int
    status: int | None
    error: str | None
    elapsed: float
    body: str = ""


@dataclass(frozen=True)
class DeliveryResult:
    """Every attempt of one delivery (same delivery id and bytes each time)."""

    delivery_id: str
    event_type: str
    body: bytes
    attempts: tuple[Attempt, ...]

    @property
    def status(self) -> int | None:
        """The last attempt's status (None if it never got an answer)."""
        return self.attempts[-1].status

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def statuses(self) -> list[int | None]:
        return [a.status for a in self.attempts]


def _retryable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


class KeeptrustsSender:
    """An async webhook sender; use as ``async with KeeptrustsSender(url, secret=...)``."""

    def __init__(
        self,
        url: str,
        *,
        secret: str,
        attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        timeout: float = 5.0,
        prefixed: bool = True,
        honour_retry_after: bool = True,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.attempts = max(1, attempts)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.prefixed = prefixed
        self.honour_retry_after = honour_retry_after
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def send(
        self,
        payload: Mapping[str, Any],
        *,
        event_type: str | None = None,
        delivery_id: str | None = None,
    ) -> DeliveryResult:
        """Deliver ``payload`` signed with the right secret; the event type defaults to the
        payload's ``type`` (envelope) or ``escalation.created`` (flat)."""
        kind = event_type or str(payload.get("type") or "escalation.created")
        return await self.send_raw(_encode(payload), event_type=kind, delivery_id=delivery_id)

    async def send_forged(
        self, payload: Mapping[str, Any], *, wrong_secret: str | None = None
    ) -> DeliveryResult:
        """Deliver with a well-formed signature made with the wrong secret."""
        kind = str(payload.get("type") or "escalation.created")
        forged = wrong_secret or f"forged-{secrets.token_hex(8)}"
        return await self.send_raw(_encode(payload), event_type=kind, secret=forged)

    async def send_unsigned(self, payload: Mapping[str, Any]) -> DeliveryResult:
        """Deliver with no signature header at all."""
        kind = str(payload.get("type") or "escalation.created")
        return await self.send_raw(_encode(payload), event_type=kind, signed=False)

    async def send_raw(
        self,
        body: bytes,
        *,
        event_type: str = "escalation.created",
        delivery_id: str | None = None,
        signed: bool = True,
        secret: str | None = None,
        content_type: str = "application/json",
    ) -> DeliveryResult:
        """Deliver exact bytes (for non-JSON and oversized bodies), retrying like a sender."""
        delivery = delivery_id or f"dlv_{secrets.token_hex(8)}"
        headers = {
            "Content-Type": content_type,
            EVENT_HEADER: event_type,
            DELIVERY_HEADER: delivery,
            "User-Agent": "Keeptrusts-Webhooks/1.0 (kt-jira sandbox)",
        }
        if signed:
            headers[SIGNATURE_HEADER] = sign(body, secret or self.secret, prefixed=self.prefixed)
        tries: list[Attempt] = []
        for number in range(1, self.attempts + 1):
            attempt, retry_after = await self._attempt(number, body, headers)
            tries.append(attempt)
            if not _retryable(attempt.status) or number == self.attempts:
                break
            await asyncio.sleep(self._delay(number, retry_after))
        return DeliveryResult(delivery, event_type, body, tuple(tries))

    async def _attempt(
        self, number: int, body: bytes, headers: dict[str, str]
    ) -> tuple[Attempt, float | None]:
        started = time.monotonic()
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.TransportError as exc:
            elapsed = time.monotonic() - started
            return Attempt(number, None, type(exc).__name__, elapsed), None
        elapsed = time.monotonic() - started
        retry_after: float | None = None
        raw = response.headers.get("retry-after")
        if raw is not None and raw.isdigit():
            retry_after = float(raw)
        return Attempt(
            number, response.status_code, None, elapsed, response.text[:500]
        ), retry_after

    def _delay(self, number: int, retry_after: float | None) -> float:
        delay: float = min(self.max_delay, self.base_delay * 2.0 ** (number - 1))
        if self.honour_retry_after and retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay))
        return delay


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
