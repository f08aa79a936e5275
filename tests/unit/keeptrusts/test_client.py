"""KeeptrustsClient over httpx.MockTransport: the request it sends and how answers map."""

from __future__ import annotations

import json

import httpx
import pytest

from kt_jira.config.models import KeeptrustsSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError, PermanentError, RateLimited, RetryableError
from kt_jira.keeptrusts import KeeptrustsClient, ResolveOutcome

TOKEN = "kt-token-SECRET-123"


def _settings(**overrides: object) -> KeeptrustsSettings:
    values: dict[str, object] = {
        "api_url": "https://kt.test",
        "api_token": SecretRef.literal(TOKEN),
    }
    return KeeptrustsSettings.model_validate({**values, **overrides})


async def _resolve(response: httpx.Response | Exception, **settings: object) -> ResolveOutcome:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(response, Exception):
            raise response
        return response

    async with KeeptrustsClient(
        _settings(**settings), transport=httpx.MockTransport(handler)
    ) as kt:
        return await kt.resolve("esc/1", resolution="approved", notes="n", actor_id="usr_1")


async def test_resolve_sends_body_actor_and_bearer() -> None:
    """POST to the configured path (id quoted) with resolution, notes, X-Actor-Id and a Bearer."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "resolved"})

    transport = httpx.MockTransport(handler)
    async with KeeptrustsClient(_settings(), transport=transport) as kt:
        outcome = await kt.resolve("esc/1", resolution="approved", notes="why", actor_id="usr_1")
    assert outcome is ResolveOutcome.RESOLVED
    [request] = seen
    assert request.url == "https://kt.test/v1/escalations/esc%2F1/resolve"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-actor-id"] == "usr_1"
    assert json.loads(request.content) == {"resolution": "approved", "notes": "why"}


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(409, json={"error": "already_resolved", "detail": "resolved by x"}),
        httpx.Response(409, json={"error": "expired", "detail": "Escalation expired."}),
        httpx.Response(422, json={"detail": "Escalation is already resolved"}),
        httpx.Response(400, text="already closed"),
    ],
)
async def test_already_closed_is_success(response: httpx.Response) -> None:
    """409, or a 400/422 that says it is already resolved, is success: resolves are final."""
    assert await _resolve(response) is ResolveOutcome.ALREADY_CLOSED


async def test_permanent_and_retryable_failures() -> None:
    """4xx refusals are permanent and say what to fix; 5xx, 429 and network are retryable."""
    with pytest.raises(PermanentError, match=r"keeptrusts\.api_token") as caught:
        await _resolve(httpx.Response(401, json={"error": "unauthorized"}))
    assert TOKEN not in str(caught.value)
    with pytest.raises(PermanentError, match="422"):
        await _resolve(httpx.Response(422, json={"detail": "'resolution' is required"}))
    with pytest.raises(RetryableError):
        await _resolve(httpx.Response(503, text="down"))
    with pytest.raises(RateLimited) as limited:
        await _resolve(httpx.Response(429, headers={"Retry-After": "7"}))
    assert limited.value.retry_after == 7.0
    with pytest.raises(RetryableError, match="ConnectError"):
        await _resolve(httpx.ConnectError("refused"))


async def test_missing_token_is_a_config_error() -> None:
    """Without keeptrusts.api_token the job dead-letters with a message naming the key."""
    with pytest.raises(ConfigError, match=r"keeptrusts\.api_token"):
        await _resolve(httpx.Response(200), api_token=None)


async def test_resolve_path_is_configurable() -> None:
    """keeptrusts.resolve_path places the id where the tenant's API wants it."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(204)

    settings = _settings(resolve_path="/api/v2/escalations/{id}:resolve")
    async with KeeptrustsClient(settings, transport=httpx.MockTransport(handler)) as kt:
        await kt.resolve("esc_1", resolution="approved", notes="", actor_id="a")
    assert seen == ["/api/v2/escalations/esc_1:resolve"]
