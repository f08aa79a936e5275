"""Signature verification over raw bytes: schemes, rotation, tampering, timestamps."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from kt_jira.errors import SignatureError
from kt_jira.signing import (
    JIRA_SCHEME,
    KEEPTRUSTS_DEFAULT,
    SecretFormatError,
    SignatureScheme,
    VerifiedDelivery,
    Verifier,
    sign,
    verify,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BODY = b'{"escalation_id":"esc_1"}'


def _verify(
    headers: dict[str, str],
    *,
    secrets: list[str],
    scheme: SignatureScheme = KEEPTRUSTS_DEFAULT,
    body: bytes = BODY,
) -> VerifiedDelivery:
    return verify(
        source="keeptrusts", body=body, headers=headers, secrets=secrets, scheme=scheme, now=NOW
    )


def test_atlassian_published_test_vector() -> None:
    """Jira's X-Hub-Signature check accepts Atlassian's published test vector."""
    header = "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"
    delivery = verify(
        source="jira",
        body=b"Hello World!",
        headers={"X-Hub-Signature": header},
        secrets=["It's a Secret to Everybody"],
        scheme=JIRA_SCHEME,
        now=NOW,
    )
    assert delivery.verified_by == "secret[0]"


@pytest.mark.parametrize("prefix", ["sha256=", ""])
def test_default_scheme_hex_with_or_without_prefix(prefix: str) -> None:
    """The default Keeptrusts scheme accepts lowercase hex HMAC-SHA256, with or without sha256=."""
    digest = hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    assert (
        _verify({"X-Keeptrusts-Signature": prefix + digest}, secrets=["s3cret"]).source
        == "keeptrusts"
    )


def test_rotation_accepts_any_configured_secret() -> None:
    """During rotation a delivery signed with the second secret is accepted, naming it."""
    headers = sign("new", BODY, KEEPTRUSTS_DEFAULT)
    assert _verify(headers, secrets=["old", "new"]).verified_by == "secret[1]"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Keeptrusts-Signature": ""},
        {"X-Keeptrusts-Signature": "sha256=zz"},
        {"X-Keeptrusts-Signature": "sha256=" + "0" * 64},
    ],
)
def test_missing_or_wrong_signature_is_rejected(headers: dict[str, str]) -> None:
    """Missing, malformed and wrong signatures raise SignatureError."""
    with pytest.raises(SignatureError):
        _verify(headers, secrets=["s3cret"])


def test_tampered_body_is_rejected() -> None:
    """A signature over other bytes (one byte changed) does not verify."""
    headers = sign("s3cret", BODY, KEEPTRUSTS_DEFAULT)
    with pytest.raises(SignatureError):
        _verify(headers, secrets=["s3cret"], body=BODY.replace(b"1", b"2"))


def test_base64_and_timestamp_scheme() -> None:
    """A base64 + signed-timestamp scheme verifies fresh deliveries and rejects stale ones."""
    scheme = SignatureScheme(
        encoding="base64", timestamp_header="X-Keeptrusts-Timestamp", tolerance_seconds=60
    )
    fresh = sign("k", BODY, scheme, timestamp=int(NOW.timestamp()) - 30)
    assert _verify(fresh, secrets=["k"], scheme=scheme).verified_by == "secret[0]"
    stale = sign("k", BODY, scheme, timestamp=int(NOW.timestamp()) - 600)
    with pytest.raises(SignatureError):
        _verify(stale, secrets=["k"], scheme=scheme)


def test_standard_webhooks_scheme() -> None:
    """The standard-webhooks scheme (whsec_ base64 key, id.timestamp.body) verifies."""
    scheme = SignatureScheme(kind="standard-webhooks")
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = sign(secret, BODY, scheme, timestamp=int(NOW.timestamp()))
    assert (
        _verify(headers, secrets=[secret], scheme=scheme).delivery_id
        == "sha256:" + hashlib.sha256(BODY).hexdigest()
    )


# The Standard Webhooks specification's published test vector.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
STANDARD = SignatureScheme(kind="standard-webhooks")
SPEC_NOW = datetime.fromtimestamp(SPEC_TS, UTC)


def _spec_headers(signature: str = SPEC_SIGNATURE) -> dict[str, str]:
    return {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TS),
        "webhook-signature": signature,
    }


@pytest.mark.parametrize("secret", [SPEC_SECRET, SPEC_SECRET.removeprefix("whsec_")])
def test_standard_webhooks_spec_vector_with_and_without_prefix(secret: str) -> None:
    """The spec's vector verifies whether or not the secret keeps its whsec_ prefix."""
    delivery = verify(
        source="keeptrusts",
        body=SPEC_BODY,
        headers=_spec_headers(),
        secrets=[secret],
        scheme=STANDARD,
        now=SPEC_NOW,
    )
    assert delivery.verified_by == "secret[0]"


@pytest.mark.parametrize("secret", [SPEC_SECRET, SPEC_SECRET.removeprefix("whsec_")])
def test_standard_webhooks_sign_reproduces_the_spec_vector(secret: str) -> None:
    """sign() produces the spec's own signature, so tests that sign cannot hide a key bug."""
    headers = sign(secret, SPEC_BODY, STANDARD, timestamp=SPEC_TS, msg_id=SPEC_ID)
    assert headers == _spec_headers()


@pytest.mark.parametrize(
    "presented",
    [
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,other",  # several: any may match
        "v2,zzz v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ],
)
def test_standard_webhooks_accepts_any_of_several_signatures(presented: str) -> None:
    """A space-separated signature list (key rotation on the sender's side) verifies on any."""
    delivery = verify(
        source="keeptrusts",
        body=SPEC_BODY,
        headers=_spec_headers(presented),
        secrets=[SPEC_SECRET],
        scheme=STANDARD,
        now=SPEC_NOW,
    )
    assert delivery.verified_by == "secret[0]"


@pytest.mark.parametrize(
    ("change", "now"),
    [
        ({"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"}, SPEC_NOW),
        ({"webhook-id": "msg_other"}, SPEC_NOW),
        ({"webhook-timestamp": str(SPEC_TS + 1)}, SPEC_NOW),
        ({"webhook-id": ""}, SPEC_NOW),
        ({}, datetime.fromtimestamp(SPEC_TS + 301, UTC)),  # outside the 300 s tolerance
    ],
)
def test_standard_webhooks_rejects_tampering_and_stale(
    change: dict[str, str], now: datetime
) -> None:
    """A changed id, timestamp or signature, or a stale delivery, is a SignatureError."""
    with pytest.raises(SignatureError):
        verify(
            source="keeptrusts",
            body=SPEC_BODY,
            headers={**_spec_headers(), **change},
            secrets=[SPEC_SECRET],
            scheme=STANDARD,
            now=now,
        )


def test_standard_webhooks_rotation_names_the_secret() -> None:
    """With two secrets configured, the one that verified is named."""
    other = "whsec_" + base64.b64encode(b"another key of 24 bytes!").decode()
    delivery = Verifier(STANDARD, (other, SPEC_SECRET)).verify(
        source="keeptrusts", body=SPEC_BODY, headers=_spec_headers(), now=SPEC_NOW
    )
    assert delivery.verified_by == "secret[1]"


@pytest.mark.parametrize("secret", ["whsec_not base64!", "plain-text-secret", "whsec_", "a"])
def test_standard_webhooks_secret_that_is_not_base64_is_refused(secret: str) -> None:
    """A secret the spec cannot decode fails when the verifier is built, naming its index."""
    with pytest.raises(SecretFormatError) as caught:
        Verifier(STANDARD, (SPEC_SECRET, secret))
    assert caught.value.index == 1
    assert "base64" in caught.value.reason


def test_hmac_scheme_accepts_any_secret_text() -> None:
    """The HMAC scheme uses the secret's bytes as they are: no base64 rule applies."""
    assert Verifier(KEEPTRUSTS_DEFAULT, ("not base64!",)).secrets == ("not base64!",)


def test_unsigned_allowed_only_when_explicit() -> None:
    """allow_unsigned lets an unsigned delivery through, marked as unsigned."""
    delivery = verify(
        source="keeptrusts",
        body=BODY,
        headers={},
        secrets=[],
        scheme=KEEPTRUSTS_DEFAULT,
        now=NOW,
        allow_unsigned=True,
    )
    assert delivery.verified_by == "unsigned"


def test_verified_delivery_cannot_be_forged_directly() -> None:
    """Only verify() can build a VerifiedDelivery."""
    with pytest.raises(TypeError):
        VerifiedDelivery(
            source="keeptrusts",
            body=b"",
            delivery_id="x",
            headers={},
            received_at=NOW,
            verified_by="me",
            _seal=object(),
        )


def test_delivery_id_header_is_used_and_signatures_not_kept() -> None:
    """The delivery id comes from X-Keeptrusts-Delivery; signature headers are not kept."""
    headers = {**sign("s", BODY, KEEPTRUSTS_DEFAULT), "X-Keeptrusts-Delivery": "dlv_9"}
    delivery = _verify(headers, secrets=["s"])
    assert delivery.delivery_id == "dlv_9"
    assert "x-keeptrusts-signature" not in delivery.headers
