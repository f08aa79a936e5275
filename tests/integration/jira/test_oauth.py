"""Service-account OAuth 2.0 against the strict sandbox over loopback HTTP: on Cloud the bridge
reads the cloud id once and calls Jira through the API gateway with a Bearer token; on Data
Center it calls the site itself. Tokens are renewed before they expire and once on a 401,
concurrent requests share one grant, and a refused credential names the key to fix."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kt_jira.config.models import JiraSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import PermanentError
from kt_jira.jira import JiraClient, JiraMetadata, MemoryPauseStore, RateLimiter
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app
from kt_jira.sandbox.jira.oauth import SandboxOAuth
from tests.support.clock import ManualClock
from tests.support.running import warm_validator

from .conftest import Site
from .routing import draft_for, escalation

CLIENT_ID = "kt-jira-service-account"
CLIENT_SECRET = "oauth-secret-first"


def oauth_settings(url: str, flavor: str, **oauth: Any) -> JiraSettings:
    """``jira.oauth`` for the sandbox at ``url``: on Cloud the token endpoint and the gateway
    are the sandbox too (``token_url``, ``api_url``); on DC the defaults are right."""
    values: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": SecretRef.literal(CLIENT_SECRET),
    }
    if flavor == "cloud":
        values |= {"token_url": f"{url}/oauth/token", "api_url": url}
    values.update(oauth)
    return JiraSettings(url=url, flavor=flavor, oauth=values, retry_after_floor_seconds=0.0)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def oauth_site(
    flavor: str = "cloud",
    *,
    token_seconds: int = 3600,
    clock: ManualClock | None = None,
    oauth: dict[str, Any] | None = None,
) -> AsyncIterator[Site]:
    """A served sandbox taking the service account's credential, and a client opened on it
    (Cloud requests are held to Jira's contract, so the gateway path must map onto it)."""
    credential = SandboxOAuth(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_seconds=token_seconds
    )
    sandbox_options: dict[str, Any] = {"flavor": flavor, "oauth": credential, "search_lag": 0.0}
    if flavor == "cloud":
        sandbox_options["request_validator"] = warm_validator()
    timing: dict[str, Any] = {}
    if clock is not None:
        timing = {"clock": lambda: clock().timestamp()}
    sandbox = JiraSandbox(JiraSandboxSettings(**sandbox_options), **timing)
    async with serve_app(sandbox.app) as url:
        settings = oauth_settings(url, flavor, **(oauth or {}))
        client_options: dict[str, Any] = {"limiter": RateLimiter(1000, burst=50)}
        if clock is not None:
            client_options["now"] = clock
        pause = MemoryPauseStore()
        async with JiraClient(settings, pause=pause, **client_options) as jira:
            yield Site(sandbox=sandbox, jira=jira, pause=pause, url=url)


def refused(sandbox: JiraSandbox) -> int:
    """How many API requests the site answered 401."""
    return sum(counts[401] for counts in sandbox.stats.by_route.values())


async def test_cloud_oauth_creates_a_ticket_through_the_gateway() -> None:
    """A routed escalation becomes one issue, every call going through /ex/jira/{cloudId}
    with one granted token; tenant_info is read once, when the client opens."""
    async with oauth_site() as site:
        draft = draft_for(escalation("esc-oauth-1", action="block"), site.jira.settings)
        body = await JiraMetadata(site.jira).build_create_body(draft)
        created = await site.jira.create_issue(body)
        me = await site.jira.myself()
    [issue] = site.sandbox.issues
    assert (issue.key, issue.creator) == (created.key, me.account_id)
    assert "kt-esc-esc-oauth-1" in issue.labels
    oauth = site.sandbox.oauth
    assert (oauth.tenant_reads, oauth.grants, refused(site.sandbox)) == (1, 1, 0)
    assert oauth.gateway_requests == site.sandbox.stats.total > 2
    assert site.sandbox.contract_violations == []


async def test_data_center_oauth_calls_the_site_with_a_bearer_token() -> None:
    """On Data Center the token comes from <jira.url>/rest/oauth2/latest/token and the v2 API
    of the site takes it; there is no gateway and no tenant_info."""
    async with oauth_site("datacenter") as site:
        draft = draft_for(escalation("esc-oauth-dc", action="block"), site.jira.settings)
        body = await JiraMetadata(site.jira).build_create_body(draft)
        created = await site.jira.create_issue(body)
    [issue] = site.sandbox.issues
    assert issue.key == created.key
    assert isinstance(issue.values["description"], str)  # wiki markup: the DC dialect
    oauth = site.sandbox.oauth
    assert (oauth.grants, oauth.tenant_reads, oauth.gateway_requests) == (1, 0, 0)
    assert refused(site.sandbox) == 0


async def test_the_token_is_renewed_before_it_expires() -> None:
    """A 10-minute token is used until a minute before it expires, then renewed before Jira
    would refuse it: two grants, no 401."""
    clock = ManualClock()
    async with oauth_site(token_seconds=600, clock=clock) as site:
        await site.jira.myself()
        clock.advance(seconds=530)
        await site.jira.myself()
        assert site.sandbox.oauth.grants == 1
        clock.advance(seconds=20)  # 550 s: inside the last minute
        await site.jira.myself()
        assert site.sandbox.oauth.grants == 2
        clock.advance(seconds=100)  # the first token is expired now; the second is not
        await site.jira.myself()
    assert site.sandbox.oauth.grants == 2
    assert refused(site.sandbox) == 0


async def test_a_revoked_token_is_renewed_on_the_401_and_the_request_sent_again() -> None:
    """Jira refuses a token before its time: the client fetches a new one and the request
    succeeds, once."""
    async with oauth_site() as site:
        await site.jira.myself()
        site.sandbox.oauth.revoke()
        me = await site.jira.myself()
    assert me.account_id == site.sandbox.settings.account_id
    assert site.sandbox.oauth.grants == 2
    assert refused(site.sandbox) == 1


async def test_twenty_concurrent_requests_share_one_grant_and_one_renewal() -> None:
    """20 requests at once cause one token fetch; after a revocation, 20 401s cause one."""
    async with oauth_site() as site:
        await asyncio.gather(*(site.jira.fields() for _ in range(20)))
        assert site.sandbox.oauth.grants == 1
        site.sandbox.oauth.revoke()
        await asyncio.gather(*(site.jira.fields() for _ in range(20)))
    assert site.sandbox.oauth.grants == 2
    assert site.sandbox.stats.count("GET /rest/api/3/field", 200) == 40


async def test_a_wrong_client_secret_names_jira_oauth_client_secret() -> None:
    """The token endpoint refuses the credential: a permanent 401 error that names the keys
    to fix, never the secret; no API request is sent."""
    wrong = {"client_secret": SecretRef.literal("not-the-secret-77")}
    async with oauth_site(oauth=wrong) as site:
        with pytest.raises(PermanentError) as caught:
            await site.jira.myself()
    message = str(caught.value)
    assert caught.value.status == 401
    assert "invalid_client" in message
    assert "jira.oauth.client_secret" in message
    assert "not-the-secret-77" not in message
    assert (site.sandbox.oauth.refusals, site.sandbox.stats.total) == (1, 0)


async def test_a_second_401_is_the_usual_auth_failure() -> None:
    """A fresh token refused too (here: tokens that die at once) is not retried again: it is
    Jira's 401 with the usual advice."""
    async with oauth_site(token_seconds=0) as site:
        with pytest.raises(PermanentError) as caught:
            await site.jira.myself()
    assert caught.value.status == 401
    assert "Jira did not accept the credentials" in str(caught.value)
    assert "jira.oauth" in str(caught.value)
    assert site.sandbox.oauth.grants == 2
    assert refused(site.sandbox) == 2


async def test_a_rotated_client_secret_file_is_picked_up_without_a_restart(
    tmp_path: Path,
) -> None:
    """The secret is read on each grant: after the credential is rotated (old tokens revoked)
    and the file rewritten, the next request renews with the new secret."""
    secret_file = tmp_path / "client-secret"
    secret_file.write_text(CLIENT_SECRET, encoding="utf-8")
    async with oauth_site(oauth={"client_secret": SecretRef(f"file:{secret_file}")}) as site:
        await site.jira.myself()
        oauth = site.sandbox.oauth
        assert oauth.settings is not None
        oauth.settings = dataclasses.replace(oauth.settings, client_secret="oauth-secret-second")
        oauth.revoke()
        rewrite(secret_file, "oauth-secret-second")
        await site.jira.myself()
    assert (site.sandbox.oauth.grants, site.sandbox.oauth.refusals) == (2, 0)


async def test_a_site_without_tenant_info_fails_to_open_naming_jira_url() -> None:
    """jira.url that is not a Cloud site (here a Data Center one) has no cloud id: opening the
    client fails with a permanent error naming jira.url."""
    sandbox = JiraSandbox(JiraSandboxSettings(flavor="datacenter"))
    async with serve_app(sandbox.app) as url:
        settings = oauth_settings(url, "cloud")
        with pytest.raises(PermanentError) as caught:
            async with JiraClient(settings, pause=MemoryPauseStore()):
                pass
    assert "/_edge/tenant_info" in str(caught.value)
    assert "set jira.url" in str(caught.value)


def rewrite(path: Path, text: str) -> None:
    """Replace a secret file's content with a later mtime, as a rotation job would."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))
