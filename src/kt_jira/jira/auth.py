"""How the bridge authenticates to Jira and opens its HTTP client: Basic (email + API token) on
Cloud, a Bearer PAT on DC, or a service account's OAuth 2.0 credentials (``jira/oauth.py``).

A secret is revealed only here, into the request header, on every request (``SecretRef``
caches, and reads a ``file:`` secret again when the file changes, so a rotated token is used
without a restart); ``repr`` never shows it, and a missing credential is a ``ConfigError``
that names the key to set, raised when the client opens.
"""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx

from kt_jira.config.models import JiraSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import ConfigError
from kt_jira.http import outbound_client
from kt_jira.jira.oauth import OAuthAuth
from kt_jira.jira.pause import WallClock, utc_now


class BasicTokenAuth(httpx.Auth):
    """Cloud: Basic ``email:api_token``, with the token read for each request."""

    def __init__(self, email: str, token: SecretRef) -> None:
        self._email = email
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        pair = f"{self._email}:{self._token.reveal()}".encode()
        request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        yield request

    def __repr__(self) -> str:
        return f"BasicTokenAuth({self._email!r}, <redacted>)"


class BearerAuth(httpx.Auth):
    """Data Center personal access token; a PAT is not accepted as a Basic password."""

    def __init__(self, token: SecretRef) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


def connect(
    settings: JiraSettings,
    *,
    transport: httpx.AsyncBaseTransport | None,
    now: WallClock = utc_now,
) -> httpx.AsyncClient:
    """The HTTP client for ``settings``: its auth, proxy and CA bundle, based at ``jira.url``
    (``oauth.use_gateway`` moves a Cloud OAuth client to the API gateway once it is open)."""
    auth = auth_for(settings, now=now)
    http = outbound_client(
        base_url=settings.url,
        timeout_seconds=settings.timeout_seconds,
        transport=transport,
        auth=auth,
        proxy=settings.proxy,
        ca_bundle=settings.ca_bundle,
    )
    if isinstance(auth, OAuthAuth):
        auth.use(http)
    return http


def auth_for(settings: JiraSettings, *, now: WallClock = utc_now) -> httpx.Auth:
    """The auth for ``settings``; each secret is revealed once here so a missing one fails now."""
    if settings.oauth is not None:
        settings.oauth.client_id_value()
        settings.oauth.client_secret.reveal()
        return OAuthAuth(settings, now=now)
    if settings.flavor == "datacenter":
        if settings.pat is None:
            raise ConfigError(
                "jira.pat is not set: Jira Data Center authenticates with a personal access "
                "token (or a service account's jira.oauth); set jira.pat (e.g. env:JIRA_PAT)"
            )
        settings.pat.reveal()
        return BearerAuth(settings.pat)
    if not settings.email:
        raise ConfigError(
            "jira.email is not set: Jira Cloud authenticates with the bot account's email and "
            "an API token (or a service account's jira.oauth); set jira.email"
        )
    if settings.api_token is None:
        raise ConfigError(
            "jira.api_token is not set: Jira Cloud needs the bot account's API token; "
            "set jira.api_token (e.g. env:JIRA_API_TOKEN)"
        )
    settings.api_token.reveal()
    return BasicTokenAuth(settings.email, settings.api_token)
