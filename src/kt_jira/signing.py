"""Verify (and, for tests and the sandbox, sign) webhook deliveries over their raw body bytes.

Pure: headers and bytes in, a ``VerifiedDelivery`` out. This module is the only producer of
``VerifiedDelivery``, and the store only accepts that type, so nothing unverified is persisted
(``kept`` re-issues one for bytes the store already holds as verified: a replayed quarantine).
Comparisons are constant-time; several secrets may be valid at once (rotation). A ``Verifier``
is built once per secret list: for Standard Webhooks it holds one ``standardwebhooks.Webhook``
per secret, so a bad secret fails when the bridge starts, not on the first delivery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from standardwebhooks import Webhook

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


def hmac_sha256(secret: str | bytes, message: bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).digest()


_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def standard_webhook(secret: str) -> Webhook:
    """The Standard Webhooks signer for ``secret``: base64 of the key, ``whsec_`` optional.

    ``ValueError`` says what is wrong when the secret is not base64 (the package itself would
    silently drop the characters it cannot decode and sign with a different key).
    """
    encoded = secret.removeprefix("whsec_")
    if not _BASE64.fullmatch(encoded):
        raise ValueError(
            "a standard-webhooks secret must be base64 (optionally prefixed with whsec_), "
            "as the sender shows it"
        )
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"a standard-webhooks secret must be valid base64: {exc}") from exc
    return Webhook(key)


def sign(
    secret: str,
    body: bytes,
    scheme: SignatureScheme,
    *,
    timestamp: int | None = None,
    msg_id: str = "msg_kt_jira",
) -> dict[str, str]:
    """The headers a correct sender attaches: SLA notification webhooks (``sla.notifier``),
    tests, benchmarks and the sandbox."""
    ts = timestamp if timestamp is not None else int(datetime.now(UTC).timestamp())
    if scheme.kind == "standard-webhooks":
        signature = standard_webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, UTC), body)
        return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}
    headers: dict[str, str] = {}
    message = body
    if scheme.timestamp_header:
        headers[scheme.timestamp_header] = str(ts)
        message = str(ts).encode() + b"." + body
    digest = hmac_sha256(secret, message)
    encoded = digest.hex() if scheme.encoding == "hex" else base64.b64encode(digest).decode()
    headers[scheme.header] = f"sha256={encoded}"
    return headers


class SecretFormatError(ValueError):
    """A configured secret the scheme cannot use; ``index`` says which one."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"secret[{index}]: {reason}")
        self.index = index
        self.reason = reason


@dataclass(frozen=True)
class Verifier:
    """The secrets valid now under one scheme, prepared once; ``verify`` checks a delivery.

    Raises ``SecretFormatError`` when a Standard Webhooks secret is not base64.
    """

    scheme: SignatureScheme
    secrets: tuple[str, ...]
    _webhooks: tuple[Webhook, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        webhooks: list[Webhook] = []
        if self.scheme.kind == "standard-webhooks":
            for index, secret in enumerate(self.secrets):
                try:
                    webhooks.append(standard_webhook(secret))
                except ValueError as exc:
                    raise SecretFormatError(index, str(exc)) from exc
        object.__setattr__(self, "_webhooks", tuple(webhooks))

    def verify(
        self,
        *,
        source: Source,
        body: bytes,
        headers: Mapping[str, str],
        now: datetime,
        allow_unsigned: bool = False,
    ) -> VerifiedDelivery:
        """Check the signature over ``body``; ``SignatureError`` (401) when no secret fits.

        ``headers`` must be case-insensitive or lower-cased. ``allow_unsigned`` is the explicit
        insecure mode: it lets unsigned deliveries through, marked as such.
        """
        lower = {k.lower(): v for k, v in headers.items()}
        if self.scheme.kind == "standard-webhooks":
            matched = self._verify_standard(body, lower, now)
        else:
            matched = _verify_hmac(body, lower, self.secrets, self.scheme, now)
        if matched is None:
            if not allow_unsigned:
                raise SignatureError("missing or invalid signature")
            matched = "unsigned"
        delivery_id = lower.get(self.scheme.id_header.lower(), "").strip()[:200]
        return VerifiedDelivery(
            source=source,
            body=body,
            delivery_id=delivery_id or "sha256:" + hashlib.sha256(body).hexdigest(),
            headers={k: lower[k][:500] for k in KEPT_HEADERS if k in lower},
            received_at=now,
            verified_by=matched,
            _seal=_SEAL,
        )

    def _verify_standard(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> str | None:
        """The spec's check, with kt-jira's clock and tolerance instead of the package's own."""
        msg_id = headers.get("webhook-id", "")
        ts = headers.get("webhook-timestamp", "")
        if not msg_id or not _fresh(ts, now, self.scheme.tolerance_seconds):
            return None
        sent = datetime.fromtimestamp(int(ts), UTC)
        presented = [s.encode() for s in headers.get("webhook-signature", "").split()]
        for index, webhook in enumerate(self._webhooks):
            expected = webhook.sign(msg_id, sent, body).encode()
            if any(hmac.compare_digest(expected, candidate) for candidate in presented):
                return f"secret[{index}]"
        return None


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
    """One-off ``Verifier(scheme, secrets).verify(...)``; intakes keep their ``Verifier``."""
    return Verifier(scheme, tuple(secrets)).verify(
        source=source, body=body, headers=headers, now=now, allow_unsigned=allow_unsigned
    )


def kept(
    *,
    source: Source,
    body: bytes,
    delivery_id: str,
    headers: Mapping[str, str],
    received_at: datetime,
    verified_by: str,
) -> VerifiedDelivery:
    """A delivery ``verify`` passed when it arrived, as the store kept it (the signature is not
    kept, so it cannot be checked again). Only for the admin API's replay of a quarantined
    delivery, with the fields of the stored row; never for bytes from a request."""
    return VerifiedDelivery(
        source=source,
        body=body,
        delivery_id=delivery_id,
        headers=dict(headers),
        received_at=received_at,
        verified_by=verified_by,
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
