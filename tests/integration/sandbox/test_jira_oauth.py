"""The sandbox as Atlassian's OAuth side, over real HTTP: the token endpoints grant only the
configured credential (and count grants), the Cloud gateway maps /ex/jira/{cloudId} onto the
site's API and is the only place a Cloud token works, and expired or revoked tokens are 401s."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app
from kt_jira.sandbox.jira.oauth import SandboxOAuth

CREDENTIAL = SandboxOAuth(client_id="client-a", client_secret="secret-a", token_seconds=60)
GRANT = {"grant_type": "client_credentials", "client_id": "client-a", "client_secret": "secret-a"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def served(
    flavor: str = "cloud", oauth: SandboxOAuth | None = CREDENTIAL, clock: Clock | None = None
) -> AsyncIterator[tuple[JiraSandbox, httpx.AsyncClient]]:
    settings = JiraSandboxSettings(flavor=flavor, oauth=oauth, search_lag=0.0)  # type: ignore[arg-type]
    sandbox = JiraSandbox(settings, clock=clock or Clock())
    async with serve_app(sandbox.app) as url, httpx.AsyncClient(base_url=url) as http:
        yield sandbox, http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_cloud_grants_a_token_that_works_only_through_the_gateway() -> None:
    """A form or JSON grant gives a Bearer token with its lifetime; /rest on the site refuses
    it, the gateway path for the site's cloud id takes it, another cloud id is a 404."""
    async with served() as (sandbox, http):
        form = await http.post("/oauth/token", data=GRANT)
        as_json = await http.post("/oauth/token", json=GRANT)
        token = form.json()["access_token"]
        cloud_id = (await http.get("/_edge/tenant_info")).json()["cloudId"]
        direct = await http.get("/rest/api/3/myself", headers=bearer(token))
        gateway = await http.get(f"/ex/jira/{cloud_id}/rest/api/3/myself", headers=bearer(token))
        elsewhere = await http.get("/ex/jira/another-site/rest/api/3/myself", headers=bearer(token))
    assert (form.status_code, as_json.status_code) == (200, 200)
    assert form.json()["token_type"] == "Bearer"
    assert form.json()["expires_in"] == 60
    assert cloud_id == sandbox.settings.cloud_id
    assert direct.status_code == 401
    assert gateway.status_code == 200
    assert gateway.json()["accountId"] == sandbox.settings.account_id
    assert elsewhere.status_code == 404
    assert (sandbox.oauth.grants, sandbox.oauth.tenant_reads, sandbox.oauth.gateway_requests) == (
        2,
        1,
        1,
    )


async def test_a_wrong_secret_another_grant_or_a_json_body_on_dc_is_refused() -> None:
    """invalid_client (401) for a wrong secret, unsupported_grant_type (400) for another
    grant, invalid_request (400) for JSON on Data Center, which takes a form only."""
    async with served("datacenter") as (sandbox, http):
        wrong = await http.post(
            "/rest/oauth2/latest/token", data={**GRANT, "client_secret": "secret-b"}
        )
        other = await http.post(
            "/rest/oauth2/latest/token", data={**GRANT, "grant_type": "password"}
        )
        as_json = await http.post("/rest/oauth2/latest/token", json=GRANT)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert (other.status_code, other.json()["error"]) == (400, "unsupported_grant_type")
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    assert (sandbox.oauth.grants, sandbox.oauth.refusals) == (0, 3)


async def test_data_center_takes_its_token_and_its_pat_on_the_site() -> None:
    """On DC the granted token works on /rest/api/2 of the site, beside the PAT; DC has no
    gateway."""
    async with served("datacenter") as (sandbox, http):
        token = (await http.post("/rest/oauth2/latest/token", data=GRANT)).json()["access_token"]
        with_token = await http.get("/rest/api/2/myself", headers=bearer(token))
        with_pat = await http.get("/rest/api/2/myself", headers=bearer(sandbox.settings.pat))
        gateway = await http.get(
            f"/ex/jira/{sandbox.settings.cloud_id}/rest/api/2/myself", headers=bearer(token)
        )
    assert (with_token.status_code, with_pat.status_code) == (200, 200)
    assert with_token.json()["name"] == sandbox.settings.user_name
    assert gateway.status_code == 404


async def test_expired_revoked_and_unknown_tokens_are_401() -> None:
    """A token past its lifetime, every token after a revocation, and a made-up one."""
    clock = Clock()
    async with served(clock=clock) as (sandbox, http):
        path = f"/ex/jira/{sandbox.settings.cloud_id}/rest/api/3/myself"
        first = (await http.post("/oauth/token", data=GRANT)).json()["access_token"]
        assert (await http.get(path, headers=bearer(first))).status_code == 200
        clock.now += 60
        expired = await http.get(path, headers=bearer(first))
        second = (await http.post("/oauth/token", data=GRANT)).json()["access_token"]
        revoked = await http.post("/_sandbox/oauth")
        after = await http.get(path, headers=bearer(second))
        unknown = await http.get(path, headers=bearer("made-up-token"))
    assert (expired.status_code, after.status_code, unknown.status_code) == (401, 401, 401)
    assert revoked.json()["live_tokens"] == 0
    assert revoked.json()["grants"] == 2


async def test_without_oauth_the_token_endpoint_is_not_there() -> None:
    """A site not set up for OAuth answers 404 to a grant and accepts no Bearer token."""
    async with served(oauth=None) as (sandbox, http):
        grant = await http.post("/oauth/token", data=GRANT)
        path = f"/ex/jira/{sandbox.settings.cloud_id}/rest/api/3/myself"
        call = await http.get(path, headers=bearer("anything"))
    assert grant.status_code == 404
    assert call.status_code == 401
