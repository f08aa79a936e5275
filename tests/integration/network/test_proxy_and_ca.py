"""Behind a corporate proxy with an internal CA: the Jira client, the Keeptrusts client and the
SLA notifier reach TLS services on loopback through a tunnelling proxy when their ``ca_bundle``
names the CA, and fail with a certificate error naming that key when it does not."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from kt_jira import jobs
from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import JiraSettings, KeeptrustsSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import PermanentError, RetryableError
from kt_jira.jira import JiraClient, MemoryPauseStore
from kt_jira.keeptrusts import KeeptrustsClient
from kt_jira.metrics import Metrics
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, KeeptrustsSandbox, serve_app
from kt_jira.sandbox.jira.oauth import SandboxOAuth
from kt_jira.sla.notifier import Notifier
from tests.support.notifications import Receiver, as_claimed, sample_event
from tests.support.proxy import ConnectProxy
from tests.support.tls import PrivateCa

NOW = datetime(2026, 11, 26, 10, 5, tzinfo=UTC)


def target(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def basic_jira(sandbox: JiraSandbox, url: str, **network: object) -> JiraSettings:
    return JiraSettings(
        url=url,
        email=sandbox.settings.email,
        api_token=SecretRef.literal(sandbox.settings.api_token),
        **network,  # type: ignore[arg-type]
    )


async def test_jira_over_tls_through_the_proxy_with_the_ca_bundle(
    ca: PrivateCa, proxy: tuple[ConnectProxy, str]
) -> None:
    """The client tunnels through jira.proxy to the TLS site and trusts its internal CA."""
    tunnels, proxy_url = proxy
    sandbox = JiraSandbox(JiraSandboxSettings())
    async with serve_app(sandbox.app, certfile=str(ca.server_pem)) as url:
        assert url.startswith("https://")
        settings = basic_jira(sandbox, url, proxy=proxy_url, ca_bundle=str(ca.ca_file))
        async with JiraClient(settings, pause=MemoryPauseStore()) as jira:
            me = await jira.myself()
    assert me.account_id == sandbox.settings.account_id
    assert tunnels.targets == [target(url)]


async def test_jira_without_the_ca_bundle_is_a_certificate_error_naming_the_key(
    ca: PrivateCa, proxy: tuple[ConnectProxy, str]
) -> None:
    """Without jira.ca_bundle the internal CA is not trusted: a permanent error that says to
    set jira.ca_bundle, not a retry that can never succeed."""
    tunnels, proxy_url = proxy
    sandbox = JiraSandbox(JiraSandboxSettings())
    async with serve_app(sandbox.app, certfile=str(ca.server_pem)) as url:
        settings = basic_jira(sandbox, url, proxy=proxy_url)
        async with JiraClient(settings, pause=MemoryPauseStore()) as jira:
            with pytest.raises(PermanentError) as caught:
                await jira.myself()
    assert "certificate is not trusted" in str(caught.value)
    assert "unable to get local issuer certificate" in str(caught.value)
    assert "jira.ca_bundle" in str(caught.value)
    assert tunnels.targets == [target(url)]
    assert sandbox.stats.total == 0  # the handshake failed: no request reached the site


async def test_oauth_on_cloud_takes_every_step_through_the_proxy(
    ca: PrivateCa, proxy: tuple[ConnectProxy, str]
) -> None:
    """tenant_info, the token grant and the gateway call all go through jira.proxy and are
    verified with jira.ca_bundle: nothing reaches the site directly."""
    tunnels, proxy_url = proxy
    sandbox = JiraSandbox(JiraSandboxSettings(oauth=SandboxOAuth()))
    async with serve_app(sandbox.app, certfile=str(ca.server_pem)) as url:
        oauth = {
            "client_id": "sandbox-oauth-client",
            "client_secret": SecretRef.literal("sandbox-oauth-secret"),
            "token_url": f"{url}/oauth/token",
            "api_url": url,
        }
        settings = JiraSettings(url=url, oauth=oauth, proxy=proxy_url, ca_bundle=str(ca.ca_file))  # type: ignore[arg-type]
        async with JiraClient(settings, pause=MemoryPauseStore()) as jira:
            await jira.myself()
    assert (sandbox.oauth.tenant_reads, sandbox.oauth.grants) == (1, 1)
    assert sandbox.oauth.gateway_requests == 1
    assert set(tunnels.targets) == {target(url)}


async def test_proxy_credentials_are_sent_and_never_shown(ca: PrivateCa) -> None:
    """A proxy URL with user:password authenticates to the proxy (407 without it), and the
    password appears in no repr and no error."""
    tunnels = ConnectProxy(credentials=("kt-jira", "proxy-pass-9"))
    sandbox = JiraSandbox(JiraSandboxSettings())
    async with (
        tunnels.serve() as proxy_url,
        serve_app(sandbox.app, certfile=str(ca.server_pem)) as url,
    ):
        with_password = proxy_url.replace("http://", "http://kt-jira:proxy-pass-9@")
        settings = basic_jira(sandbox, url, proxy=with_password, ca_bundle=str(ca.ca_file))
        assert "proxy-pass-9" not in repr(settings) + settings.model_dump_json()
        async with JiraClient(settings, pause=MemoryPauseStore()) as jira:
            await jira.myself()
        wrong = basic_jira(
            sandbox,
            url,
            proxy=proxy_url.replace("http://", "http://kt-jira:wrong-pass-1@"),
            ca_bundle=str(ca.ca_file),
        )
        async with JiraClient(wrong, pause=MemoryPauseStore()) as jira:
            with pytest.raises(RetryableError) as caught:
                await jira.myself()
    assert tunnels.refused == 1
    assert tunnels.targets == [target(url)]
    assert "jira.proxy" in str(caught.value)
    assert "wrong-pass-1" not in str(caught.value)


async def test_the_environment_proxy_applies_when_none_is_configured(
    ca: PrivateCa, proxy: tuple[ConnectProxy, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no jira.proxy, HTTPS_PROXY from the environment is used (httpx's trust_env)."""
    tunnels, proxy_url = proxy
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", proxy_url)
    sandbox = JiraSandbox(JiraSandboxSettings())
    async with serve_app(sandbox.app, certfile=str(ca.server_pem)) as url:
        settings = basic_jira(sandbox, url, ca_bundle=str(ca.ca_file))
        async with JiraClient(settings, pause=MemoryPauseStore()) as jira:
            await jira.myself()
    assert tunnels.targets == [target(url)]


async def test_keeptrusts_over_tls_through_the_proxy_and_without_the_ca(
    ca: PrivateCa, proxy: tuple[ConnectProxy, str]
) -> None:
    """keeptrusts.proxy and keeptrusts.ca_bundle work the same way; without the CA the error
    names keeptrusts.ca_bundle."""
    tunnels, proxy_url = proxy
    sandbox = KeeptrustsSandbox()
    async with serve_app(sandbox.app, certfile=str(ca.server_pem)) as url:
        token = SecretRef.literal(sandbox.settings.api_token)
        trusted = KeeptrustsSettings(
            api_url=url,
            api_token=token,
            proxy=proxy_url,
            ca_bundle=str(ca.ca_file),  # type: ignore[arg-type]
        )
        async with KeeptrustsClient(trusted) as api:
            assert await api.webhooks() == []
        untrusted = KeeptrustsSettings(api_url=url, api_token=token, proxy=proxy_url)  # type: ignore[arg-type]
        async with KeeptrustsClient(untrusted) as api:
            with pytest.raises(PermanentError) as caught:
                await api.webhooks()
    assert tunnels.targets == [target(url), target(url)]
    assert "keeptrusts.ca_bundle" in str(caught.value)


async def test_sla_notifications_go_through_their_own_proxy_and_ca(
    ca: PrivateCa, proxy: tuple[ConnectProxy, str]
) -> None:
    """sla.notify.proxy and sla.notify.ca_bundle carry the SLA webhook to a TLS receiver."""
    tunnels, proxy_url = proxy
    receiver = Receiver()
    async with serve_app(receiver.app, certfile=str(ca.server_pem)) as base:
        notify = {
            "webhook": {"url": SecretRef.literal(f"{base}/hooks/sla")},
            "proxy": proxy_url,
            "ca_bundle": str(ca.ca_file),
        }
        settings = settings_from_dict({"sla": {"notify": notify}})
        new = jobs.sla_notify("webhook", sample_event(), run_at=NOW)
        notifier = Notifier(settings=settings.sla.notify, clock=lambda: NOW, metrics=Metrics())
        async with notifier:
            await notifier.send(as_claimed(new))
    [got] = receiver.received
    assert got.path == "/hooks/sla"
    assert tunnels.targets == [target(base)]
