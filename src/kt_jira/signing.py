"""Verify (and, for tests and the sandbox, sign) webhook deliveries over their raw body bytes.

Pure: headers and bytes in, a ``VerifiedDelivery`` out. This module is the only producer of
``VerifiedDelivery``, and the store only accepts that type, so nothing unverified is persisted.
Comparisons are constant-time; several secrets may be valid at once (rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from kt_jira.errors import SignatureError

Source = Literal["keeptrusts", "jira"]
_SEAL = object()
# Headers worth keeping with a delivery; signatures are not kept (they are useless after checking).
KEPT_HEADERS = (
    "content-type",
    "user-agent",
    "x-keeptrusts-event",
    "x-keeptrusts-delivery",
    "x-atlassian-webhook-identifier",
    "x-atlassian-webhook-retry",
    "x-atlassian-webhook-flow",
    "webhook-id",
    "webhook-timestamp",
)


@dataclass(frozen=True, kw_only=True)
class SignatureScheme:
    """How a sender signs: which header, which encoding, and an optional signed timestamp."""

    kind: Literal["hmac-sha256", "standard-webhooks"] = "hmac-sha256"
    header: str = "X-Keeptrusts-Signature"
    encoding: Literal["hex", "base64"] = "hex"
    timestamp_header: str | None = None
    tolerance_seconds: int = 300
    id_header: str = "X-Keeptrusts-Delivery"


KEEPTRUSTS_DEFAULT = SignatureScheme()
JIRA_SCHEME = SignatureScheme(header="X-Hub-Signature", id_header="X-Atlassian-Webhook-Identifier")


@dataclass(frozen=True, kw_only=True)
class VerifiedDelivery:
    """A delivery whose signature checked out (or that an explicit insecure setting let through)."""

    source: Source
    body: bytes
    delivery_id: str
    headers: Mapping[str, str]
    received_at: datetime
    verified_by: str
    _seal: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._seal is not _SEAL:
            raise TypeError("VerifiedDelivery is only made by kt_jira.signing.verify()")

    @property
    def body_sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def hmac_sha256(secret: str | bytes, message: bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).digest()


def sign(
    secret: str, body: bytes, scheme: SignatureScheme, *, timestamp: int | None = None
) -> dict[str, str]:
    """The headers a correct sender attaches; used by tests, benchmarks and the sandbox."""
    if scheme.kind == "standard-webhooks":
        msg_id = "msg_kt_jira"
        ts = str(timestamp if timestamp is not None else int(datetime.now(UTC).timestamp()))
        digest = hmac_sha256(_sw_key(secret), f"{msg_id}.{ts}.".encode() + body)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": ts,
            "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        }
    headers: dict[str, str] = {}
    message = body
    if scheme.timestamp_header:
        ts = str(timestamp if timestamp is not None else int(datetime.now(UTC).timestamp()))
        headers[scheme.timestamp_header] = ts
        message = ts.encode() + b"." + body
    digest = hmac_sha256(secret, message)
    encoded = digest.hex() if scheme.encoding == "hex" else base64.b64encode(digest).decode()
    headers[scheme.header] = f"sha256={encoded}"
    return headers


def verify(
    *,
    source: Source,
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    scheme: SignatureScheme,
    now: datetime,
    allow_unsigned: bool = False,
) -> VerifiedDelivery:
    """Check the signature over ``body``; ``SignatureError`` (401) when no secret fits.

    ``headers`` must be case-insensitive or lower-cased. ``allow_unsigned`` is the explicit
    insecure mode: it lets unsigned deliveries through, marked as such.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    if scheme.kind == "standard-webhooks":
        matched = _verify_standard(body, lower, secrets, scheme, now)
    else:
        matched = _verify_hmac(body, lower, secrets, scheme, now)
    if matched is None:
        if not allow_unsigned:
            raise SignatureError("missing or invalid signature")
        matched = "unsigned"
    delivery_id = lower.get(scheme.id_header.lower(), "").strip()[:200]
    return VerifiedDelivery(
        source=source,
        body=body,
        delivery_id=delivery_id or "sha256:" + hashlib.sha256(body).hexdigest(),
        headers={k: lower[k][:500] for k in KEPT_HEADERS if k in lower},
        received_at=now,
        verified_by=matched,
        _seal=_SEAL,
    )


def _verify_hmac(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    scheme: SignatureScheme,
    now: datetime,
) -> str | None:
    presented = headers.get(scheme.header.lower(), "").strip()
    if not presented:
        return None
    message = body
    if scheme.timestamp_header:
        ts = headers.get(scheme.timestamp_header.lower(), "").strip()
        if not _fresh(ts, now, scheme.tolerance_seconds):
            return None
        message = ts.encode() + b"." + body
    candidates = [part.strip() for part in presented.split(",") if part.strip()]
    for index, secret in enumerate(secrets):
        expected = hmac_sha256(secret, message)
        for candidate in candidates:
            value = candidate[7:] if candidate.lower().startswith("sha256=") else candidate
            if hmac.compare_digest(_decode(value, scheme.encoding), expected):
                return f"secret[{index}]"
    return None


def _verify_standard(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    scheme: SignatureScheme,
    now: datetime,
) -> str | None:
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    if not msg_id or not _fresh(ts, now, scheme.tolerance_seconds):
        return None
    message = f"{msg_id}.{ts}.".encode() + body
    signatures = [
        s.split(",", 1)[1]
        for s in headers.get("webhook-signature", "").split()
        if s.startswith("v1,")
    ]
    for index, secret in enumerate(secrets):
        expected = hmac_sha256(_sw_key(secret), message)
        for sig in signatures:
            if hmac.compare_digest(_decode(sig, "base64"), expected):
                return f"secret[{index}]"
    return None


def _sw_key(secret: str) -> bytes:
    """Standard Webhooks secrets are ``whsec_`` + base64 of the key; other strings are used raw."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[6:], validate=True)
        except ValueError:
            return secret.encode()
    return secret.encode()


def _decode(value: str, encoding: str) -> bytes:
    try:
        return bytes.fromhex(value) if encoding == "hex" else base64.b64decode(value, validate=True)
    except ValueError:
        return b""


def _fresh(timestamp: str, now: datetime, tolerance: int) -> bool:
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    return abs(now.timestamp() - sent) <= tolerance
