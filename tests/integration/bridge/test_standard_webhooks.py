"""Standard Webhooks through the real intake: the spec's vector, with and without ``whsec_``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError
from kt_jira.service import check_startup
from tests.support.intake import HarnessFactory

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HEADERS = {
    "Content-Type": "application/json",
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}
BODY = b'{"test": 2432232314}'
SENT_AT = datetime.fromtimestamp(1614265330, UTC)


def _webhook(secret: str) -> dict[str, object]:
    return {"secrets": [SecretRef.literal(secret)], "signature": {"scheme": "standard-webhooks"}}


@pytest.mark.parametrize("secret", [SECRET, SECRET.removeprefix("whsec_")])
async def test_spec_vector_is_accepted_with_and_without_prefix(
    make_harness: HarnessFactory, secret: str
) -> None:
    """The vector passes the signature check (it carries no escalation id, so it is quarantined
    with 422, which only a verified body can be); one signature byte changed is 401."""
    harness = await make_harness(webhook=_webhook(secret), clock=lambda: SENT_AT)
    url = f"{harness.url}/webhooks/keeptrusts"
    accepted = await harness.client.post(url, content=BODY, headers=HEADERS)
    forged_headers = {**HEADERS, "webhook-signature": HEADERS["webhook-signature"][:-2] + "0="}
    forged = await harness.client.post(url, content=BODY, headers=forged_headers)
    assert accepted.status_code == 422, accepted.text
    assert forged.status_code == 401
    store = harness.bridge.store
    [row] = await store.deliveries.list()
    assert row.status == "quarantined"
    kept = await store.deliveries.get(row.id)
    assert kept is not None
    assert kept.body == BODY


async def test_vector_is_stale_on_todays_clock(make_harness: HarnessFactory) -> None:
    """Signed in 2021: with the real clock the tolerance rejects it as a replay."""
    harness = await make_harness(webhook=_webhook(SECRET))
    response = await harness.client.post(
        f"{harness.url}/webhooks/keeptrusts", content=BODY, headers=HEADERS
    )
    assert response.status_code == 401


def test_a_secret_that_is_not_base64_stops_start_up() -> None:
    """serve and check-config refuse a standard-webhooks secret that is not base64, naming it."""
    settings = settings_from_dict(
        {
            "keeptrusts": {
                "webhook": {
                    "secrets": ["env:KT_JIRA_TEST_SW_GOOD", "env:KT_JIRA_TEST_SW_BAD"],
                    "signature": {"scheme": "standard-webhooks"},
                }
            }
        }
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KT_JIRA_TEST_SW_GOOD", SECRET)
        env.setenv("KT_JIRA_TEST_SW_BAD", "my webhook password")
        with pytest.raises(ConfigError) as caught:
            check_startup(settings)
    assert "keeptrusts.webhook.secrets[1]" in str(caught.value)
    assert "base64" in str(caught.value)
    assert "my webhook password" not in str(caught.value)
