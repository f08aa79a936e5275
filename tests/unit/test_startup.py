"""What `serve` refuses at start, and what it only warns about."""

from __future__ import annotations

import pytest

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError
from kt_jira.service import check_startup
from kt_jira.web.jira import jira_secrets


def test_no_keeptrusts_secret_refuses_to_start() -> None:
    """Without a Keeptrusts webhook secret the bridge will not start, and says which key to set."""
    with pytest.raises(ConfigError, match=r"keeptrusts\.webhook\.secrets is empty"):
        check_startup(settings_from_dict({}))


def test_insecure_mode_starts_with_a_loud_warning() -> None:
    """insecure_allow_unsigned starts, with a warning that says INSECURE."""
    settings = settings_from_dict({"keeptrusts": {"webhook": {"insecure_allow_unsigned": True}}})
    assert any(w.startswith("INSECURE") for w in check_startup(settings))


def test_unreadable_keeptrusts_secret_refuses_to_start() -> None:
    """A Keeptrusts secret reference that cannot be read stops the start, naming the variable."""
    settings = settings_from_dict({"keeptrusts": {"webhook": {"secrets": ["env:KT_UNSET_A1"]}}})
    with pytest.raises(ConfigError, match="KT_UNSET_A1"):
        check_startup(settings)


def test_unreadable_jira_webhook_secret_only_closes_jira_intake() -> None:
    """An unreadable Jira webhook secret is a warning; the Jira intake then verifies nothing."""
    settings = settings_from_dict(
        {
            "keeptrusts": {"webhook": {"secrets": [SecretRef.literal("s")]}},
            "jira": {"webhook_secret": "env:KT_UNSET_B2"},
        }
    )
    warnings = check_startup(settings)
    assert any("KT_UNSET_B2" in w and "404" in w for w in warnings)
    assert jira_secrets(settings) == []


def test_a_notification_secret_that_cannot_sign_refuses_to_start() -> None:
    """sla.notify.webhook.secret must be Standard Webhooks base64; the error names the key, never
    the value."""
    settings = settings_from_dict(
        {
            "keeptrusts": {
                "webhook": {"secrets": [SecretRef.literal("whsec_MfKQ9r8GKYqrTwjUPD8I")]}
            },
            "sla": {
                "notify": {
                    "webhook": {
                        "url": SecretRef.literal("https://hooks.example.com/sla"),
                        "secret": SecretRef.literal("not base64!"),
                    }
                }
            },
        }
    )
    with pytest.raises(ConfigError, match=r"must be base64") as caught:
        check_startup(settings)
    assert "not base64!" not in str(caught.value)


def test_admin_token_warnings_say_how_to_enable_the_dashboard() -> None:
    """Without server.admin_token, serve warns that /dashboard and /api/v1 answer 404 and
    names the key to set; an unreadable or short token is warned about too, never shown."""
    base = {"keeptrusts": {"webhook": {"secrets": [SecretRef.literal("s")]}}}
    unset = check_startup(settings_from_dict(base))
    assert any("set server.admin_token: env:KT_JIRA_ADMIN_TOKEN" in w for w in unset)
    unreadable = check_startup(
        settings_from_dict({**base, "server": {"admin_token": "env:KT_UNSET_C3"}})
    )
    assert any("KT_UNSET_C3" in w and "404" in w for w in unreadable)
    short = check_startup(
        settings_from_dict({**base, "server": {"admin_token": SecretRef.literal("hunter2")}})
    )
    assert any("shorter than 16" in w for w in short)
    assert not any("hunter2" in w for w in short)
    long = SecretRef.literal("x" * 32)
    fine = check_startup(settings_from_dict({**base, "server": {"admin_token": long}}))
    assert not any("admin_token" in w for w in fine)
