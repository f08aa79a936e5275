"""Registration bodies and the HTTP boundary of ``kt-jira setup`` (transport as the test seam)."""

from __future__ import annotations

import json

import httpx
import pytest

from kt_jira.commands.setup import (
    FieldStyle,
    bridge_url,
    jira_body,
    keeptrusts_body,
    register_keeptrusts,
)
from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError, KtJiraError
from kt_jira.render.sanitise import project_jql

SECRET = "whsec_unit-secret-that-must-not-leak"


def settings() -> Settings:
    return settings_from_dict(
        {
            "keeptrusts": {
                "api_url": "https://api.keeptrusts.test",
                "api_token": SecretRef.literal("token"),
                "webhook": {"secrets": [SecretRef.literal(SECRET)]},
            },
            "jira": {"flavor": "datacenter", "pat": SecretRef.literal("pat")},
        }
    )


def test_both_field_styles_are_sent_by_default() -> None:
    """``both`` carries the docs' events/enabled and the guide's event_types/active."""
    body = keeptrusts_body("https://b/webhooks/keeptrusts", SECRET, FieldStyle.BOTH)
    assert body["events"] == body["event_types"] == ["escalation.created", "escalation.resolved"]
    assert body["enabled"] is body["active"] is True
    assert "event_types" not in keeptrusts_body("u", SECRET, FieldStyle.DOCS)
    assert "events" not in keeptrusts_body("u", SECRET, FieldStyle.GUIDE)


async def test_a_strict_api_that_refuses_both_styles_gets_the_docs_style() -> None:
    """A 422 for the unknown pair is retried once with events/enabled alone, and said so."""
    sent: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"data": [], "next_cursor": None})
        body = json.loads(request.content)
        sent.append(body)
        if "event_types" in body:
            return httpx.Response(422, json={"detail": "unknown field event_types"})
        return httpx.Response(201, json={"id": "wh_1", **body, "secret": body["secret"]})

    done = await register_keeptrusts(
        settings(), public_url="https://bridge.test", transport=httpx.MockTransport(handler)
    )
    assert [sorted(b) for b in sent] == [
        ["active", "description", "enabled", "event_types", "events", "secret", "url"],
        ["description", "enabled", "events", "secret", "url"],
    ]
    assert (done.outcome, done.webhook_id) == ("created", "wh_1")
    assert "events/enabled only" in done.detail
    assert SECRET not in repr(done)


async def test_errors_never_carry_the_secret_even_when_the_server_echoes_it() -> None:
    """A server error that echoes the request body is reported with the secret redacted."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"data": []})
        return httpx.Response(500, text=f"boom: {request.content.decode()}")

    with pytest.raises(KtJiraError) as caught:
        await register_keeptrusts(
            settings(), public_url="https://bridge.test", transport=httpx.MockTransport(handler)
        )
    assert "answered 500" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert "<redacted>" in str(caught.value)


def test_data_center_10_puts_the_filter_and_secret_in_configuration() -> None:
    """DC 10 ignores ``filters``: the JQL goes in configuration.FILTERS (JRASERVER-78733)."""
    s = settings()
    dc = jira_body(s.jira, url="u", secret=SECRET, jql="project = AIGOV", name="kt-jira")
    assert dc["configuration"] == {
        "FILTERS": "project = AIGOV",
        "EXCLUDE_BODY": "false",
        "secret": SECRET,
    }
    assert "filters" not in dc
    cloud = jira_body(
        s.jira.model_copy(update={"flavor": "cloud"}), url="u", secret=SECRET, jql="j", name="n"
    )
    assert cloud["filters"] == {"issue-related-events-section": "j"}
    assert (cloud["secret"], cloud["excludeBody"]) == (SECRET, False)


def test_project_filters_and_urls() -> None:
    """Plain keys stay bare, odd ones are quoted; the public URL must be absolute."""
    assert project_jql(["AIGOV"]) == "project = AIGOV"
    assert project_jql(["AIGOV", "SEC", "AIGOV"]) == "project in (AIGOV, SEC)"
    assert project_jql(["odd key"]) == 'project = "odd key"'
    assert (
        bridge_url("https://b.test/base/", "/webhooks/jira") == "https://b.test/base/webhooks/jira"
    )
    with pytest.raises(ConfigError, match="--url"):
        bridge_url("b.test", "/webhooks/jira")
