"""OAuth 2.0 client credentials for Jira service accounts, on Cloud and Data Center: an
``httpx.Auth`` that fetches, caches and renews the access token, and the Cloud API gateway.

Cloud: the token comes from ``https://auth.atlassian.com/oauth/token`` and every call goes to
``https://api.atlassian.com/ex/jira/{cloudId}``; the cloud id is read once, when the client
opens, from ``<jira.url>/_edge/tenant_info``. Data Center: the token comes from
``<jira.url>/rest/oauth2/latest/token`` and calls go to the site itself. The token is renewed
``RENEW_MARGIN_SECONDS`` before it expires and once on a 401 (the request is then sent again
once; a second 401 is the usual auth failure of ``failures.py``). One ``asyncio.Lock`` makes
concurrent requests share one renewal. The client secret is read on every grant, so a rotated
``file:`` secret is used without a restart; the token never reaches a log or a message.

Hand-written rather than authlib: authlib would be a new dependency, and its httpx integration
is an ``AsyncClient`` subclass (``AsyncOAuth2Client``), not an ``httpx.Auth``, so it cannot sit
inside the shared ``outbound_client`` (the one place for the proxy, the CA bundle, redirects
and the test transport). What remains is one form POST and an expiry time. The grant is sent
through that same client, so the service's proxy and CA bundle apply to the token endpoint too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from kt_jira.config.models import JiraOAuth, JiraSettings
from kt_jira.errors import KtJiraError, PermanentError, RetryableError
from kt_jira.jira.failures import transport_error
from kt_jira.jira.pause import WallClock, utc_now

log = structlog.get_logger("kt_jira.jira")

CLOUD_GRANT_URL = "https://auth.atlassian.com/oauth/token"
DC_GRANT_PATH = "/rest/oauth2/latest/token"
CLOUD_API_URL = "https://api.atlassian.com"
TENANT_INFO_PATH = "/_edge/tenant_info"
GATEWAY_PATH = "/ex/jira/{cloud_id}"
RENEW_MARGIN_SECONDS = 60.0
# Atlassian: a service account's access token is valid for 60 minutes.
DEFAULT_LIFETIME_SECONDS = 3600.0
_CREDENTIALS = "jira.oauth.client_id and jira.oauth.client_secret"
_GRANT_URLS = f"Cloud: {CLOUD_GRANT_URL}; Data Center: <jira.url>{DC_GRANT_PATH}"


def token_url(settings: JiraSettings) -> str:
    """Where the token is granted: ``jira.oauth.token_url``, else the flavour's endpoint."""
    oauth = _oauth(settings)
    if oauth.token_url:
        return oauth.token_url
    if settings.flavor == "datacenter":
        return settings.url.rstrip("/") + DC_GRANT_PATH
    return CLOUD_GRANT_URL


@dataclass(frozen=True, kw_only=True)
class AccessToken:
    """A granted token and when to renew it (``RENEW_MARGIN_SECONDS`` before it expires)."""

    value: str
    renew_at: datetime

    def __repr__(self) -> str:
        return f"AccessToken(<redacted>, renew_at={self.renew_at.isoformat()})"


class OAuthAuth(httpx.Auth):
    """``Authorization: Bearer <access token>`` from the client credentials grant.

    ``use(http)`` names the client the grants are sent with (the one this auth belongs to);
    ``now`` is the clock expiry is measured on.
    """

    def __init__(self, settings: JiraSettings, *, now: WallClock = utc_now) -> None:
        self._oauth = _oauth(settings)
        self._url = token_url(settings)
        self._now = now
        self._http: httpx.AsyncClient | None = None
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()

    def use(self, http: httpx.AsyncClient) -> None:
        self._http = http

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("OAuthAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._token_for(stale=None)
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            # Revoked or expired early: one fresh token, one more try; a second 401 is real.
            token = await self._token_for(stale=token)
            request.headers["Authorization"] = f"Bearer {token.value}"
            yield request

    async def _token_for(self, *, stale: AccessToken | None) -> AccessToken:
        """The current token, renewed first when it is due or is the one Jira refused
        (unless another request already renewed it while this one waited)."""
        async with self._lock:
            token = self._token
            if token is None or token is stale or self._now() >= token.renew_at:
                token = self._token = await self._grant()
            return token

    async def _grant(self) -> AccessToken:
        if self._http is None:
            raise RuntimeError("OAuthAuth.use(http) was not called")
        form = {
            "grant_type": "client_credentials",
            "client_id": self._oauth.client_id_value(),
            "client_secret": self._oauth.client_secret.reveal(),
        }
        if self._oauth.scopes:
            form["scope"] = " ".join(self._oauth.scopes)
        what = f"POST {self._url}"
        request = self._http.build_request("POST", self._url, data=form)
        try:
            response = await self._http.send(request, auth=None)
        except httpx.HTTPError as exc:
            log.warning("jira.token_failed", token_url=self._url, error=type(exc).__name__)
            raise transport_error(exc, what=what, idempotent=True) from exc
        token = granted(response, what=what, now=self._now())
        log.info("jira.token_granted", token_url=self._url, renew_at=token.renew_at.isoformat())
        return token

    def __repr__(self) -> str:
        return f"OAuthAuth({self._url}, <redacted>)"


def granted(response: httpx.Response, *, what: str, now: datetime) -> AccessToken:
    """The token in a grant's answer; anything else is an error that says what to fix."""
    data = _json(response)
    value = data.get("access_token") if isinstance(data, dict) else None
    if response.is_success and isinstance(value, str) and value:
        lifetime = _lifetime(data.get("expires_in") if isinstance(data, dict) else None)
        margin = min(RENEW_MARGIN_SECONDS, lifetime / 4)
        return AccessToken(value=value, renew_at=now + timedelta(seconds=lifetime - margin))
    error = refused(response, data, what=what)
    log.warning("jira.token_refused", request=what, status=response.status_code)
    raise error


def refused(response: httpx.Response, data: Any, *, what: str) -> KtJiraError:
    status = response.status_code
    error = str(data.get("error") or "") if isinstance(data, dict) else ""
    reason = str(data.get("error_description") or "") if isinstance(data, dict) else ""
    said = f": {error}" + (f" ({reason})" if reason else "") if error else ""
    head = f"the token endpoint answered {status} to {what}{said}"
    if status == 429 or status >= 500:
        return RetryableError(f"{head}; it will be retried")
    if response.is_success:
        return PermanentError(
            f"{head} without an access_token; check jira.oauth.token_url ({_GRANT_URLS})",
            status=status,
        )
    if error == "invalid_scope":
        return PermanentError(
            f"{head}; check jira.oauth.scopes: the credential must have every scope asked for",
            status=status,
        )
    if status == 401 or error in ("invalid_client", "unauthorized_client", "access_denied"):
        return PermanentError(
            f"{head}; the service account's client credentials were refused: check "
            f"{_CREDENTIALS} (create a new OAuth 2.0 credential if it was revoked or expired)",
            status=401,
        )
    return PermanentError(f"{head}; check jira.oauth.token_url ({_GRANT_URLS})", status=status)


async def use_gateway(http: httpx.AsyncClient, settings: JiraSettings) -> None:
    """On Cloud with ``jira.oauth``, point ``http`` at the API gateway for the site."""
    if settings.oauth is not None and settings.flavor == "cloud":
        http.base_url = httpx.URL(await gateway_url(http, settings))


async def gateway_url(http: httpx.AsyncClient, settings: JiraSettings) -> str:
    """``{api_url}/ex/jira/{cloudId}``, with the cloud id from ``<jira.url>/_edge/tenant_info``
    (public: no credentials are sent)."""
    where = settings.url.rstrip("/") + TENANT_INFO_PATH
    try:
        response = await http.get(where, auth=None)
    except httpx.HTTPError as exc:
        raise transport_error(exc, what=f"GET {where}", idempotent=True) from exc
    data = _json(response)
    cloud_id = data.get("cloudId") if isinstance(data, dict) else None
    if response.is_success and isinstance(cloud_id, str) and cloud_id:
        log.info("jira.cloud_id", site=settings.url, cloud_id=cloud_id)
        base = _oauth(settings).api_url or CLOUD_API_URL
        return base + GATEWAY_PATH.format(cloud_id=quote(cloud_id, safe=""))
    status = response.status_code
    if status == 429 or status >= 500:
        raise RetryableError(f"Jira answered {status} to GET {where}; it will be retried")
    raise PermanentError(
        f"cannot read the site's cloud id from {where} (answered {status}, no cloudId); set "
        "jira.url to the Cloud site's own URL, https://<site>.atlassian.net: with jira.oauth "
        "the bridge calls Jira through the API gateway, by cloud id",
        status=status,
    )


def _oauth(settings: JiraSettings) -> JiraOAuth:
    if settings.oauth is None:
        raise ValueError("jira.oauth is not set")
    return settings.oauth


def _lifetime(raw: Any) -> float:
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME_SECONDS
    return max(0.0, seconds)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
