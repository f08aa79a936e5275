"""Service-account OAuth 2.0 on the simulated Jira: the token endpoint, the tokens it issued,
``/_edge/tenant_info`` and, on Cloud, Atlassian's API gateway in front of the site.

Cloud: ``POST /oauth/token`` (auth.atlassian.com's, served here so tests can point
``jira.oauth.token_url`` at it; JSON or form) grants a token that is accepted only through the
gateway, ``/ex/jira/{cloudId}/rest/...``: sent to the site's own ``/rest`` it is a 401, as on a
real site. Data Center: ``POST /rest/oauth2/latest/token`` (form only) grants a token the site
accepts as ``Bearer``. Expired, revoked and unknown tokens are a 401. ``grants`` counts tokens
issued, so tests can assert renewals. No I/O beyond the responses.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

CLOUD_TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
DC_TOKEN_PATH = "/rest/oauth2/latest/token"  # noqa: S105 - a path, not a secret
TENANT_INFO_PATH = "/_edge/tenant_info"
GATEWAY_PREFIX = "/ex/jira/"
VIA_GATEWAY = "kt_jira.sandbox.gateway"  # scope key: the request came through the gateway
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, kw_only=True)
class SandboxOAuth:
    """The one credential the site accepts, and how long its tokens live (short for tests)."""

    client_id: str = "sandbox-oauth-client"
    client_secret: str = "sandbox-oauth-secret"  # noqa: S105 - a throwaway credential
    token_seconds: int = 3600


class OAuthServer:
    """The token endpoint and the tokens it issued; off (404) when ``settings`` is None."""

    def __init__(
        self,
        settings: SandboxOAuth | None,
        *,
        flavor: str,
        cloud_id: str,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.flavor = flavor
        self.cloud_id = cloud_id
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self.grants = 0  #: tokens issued
        self.refusals = 0  #: grant requests refused
        self.tenant_reads = 0  #: GET /_edge/tenant_info
        self.gateway_requests = 0  #: requests through /ex/jira/{cloudId}

    def revoke(self) -> None:
        """Invalidate every token issued so far (an admin rotating the credential)."""
        self._expiry.clear()

    def accepts(self, request: Request) -> bool:
        """A live token of ours in ``Authorization: Bearer``, where the flavour takes one."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if self.settings is None or scheme.lower() != "bearer":
            return False
        if self.flavor == "cloud" and not request.scope.get(VIA_GATEWAY):
            return False  # a site's own /rest takes no OAuth token: only the gateway does
        expiry = self._expiry.get(token.strip())
        return expiry is not None and self._clock() < expiry

    def routes(self) -> list[Route]:
        if self.flavor == "datacenter":
            grant = [Route(DC_TOKEN_PATH, self._grant, methods=["POST"])]
        else:
            grant = [
                Route(CLOUD_TOKEN_PATH, self._grant, methods=["POST"]),
                Route(TENANT_INFO_PATH, self._tenant_info, methods=["GET"]),
            ]
        return [*grant, Route("/_sandbox/oauth", self._admin, methods=["GET", "POST"])]

    async def _grant(self, request: Request) -> Response:
        if self.settings is None:
            return JSONResponse({"error": "not_found"}, 404)
        params, problem = await self._params(request)
        if problem is not None:
            return self._refuse(400, "invalid_request", problem)
        if params.get("grant_type") != "client_credentials":
            return self._refuse(400, "unsupported_grant_type", "Use client_credentials.")
        client_id, secret = str(params.get("client_id", "")), str(params.get("client_secret", ""))
        if not (
            hmac.compare_digest(client_id, self.settings.client_id)
            and hmac.compare_digest(secret, self.settings.client_secret)
        ):
            return self._refuse(401, "invalid_client", "Unauthorized")
        token = secrets.token_urlsafe(24)
        self._expiry[token] = self._clock() + self.settings.token_seconds
        self.grants += 1
        scope = str(params.get("scope", ""))
        return JSONResponse(
            {
                "access_token": token,
                "expires_in": self.settings.token_seconds,
                "token_type": "Bearer",
                "scope": scope,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def _params(self, request: Request) -> tuple[dict[str, Any], str | None]:
        """The grant's parameters: a form (both flavours) or, on Cloud, a JSON object."""
        raw = await request.body()
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == FORM:
            pairs = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            return {key: values[-1] for key, values in pairs.items()}, None
        if kind == "application/json" and self.flavor == "cloud":
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return {}, "The body is not JSON."
            return (body, None) if isinstance(body, dict) else ({}, "Send a JSON object.")
        return {}, f"Send the parameters as {FORM}."

    def _refuse(self, status: int, error: str, description: str) -> Response:
        self.refusals += 1
        return JSONResponse({"error": error, "error_description": description}, status)

    async def _tenant_info(self, request: Request) -> Response:
        self.tenant_reads += 1
        return JSONResponse({"cloudId": self.cloud_id})

    async def _admin(self, request: Request) -> Response:
        """``GET /_sandbox/oauth``: the counters; ``POST``: revoke every token."""
        if request.method == "POST":
            self.revoke()
        return JSONResponse(
            {
                "grants": self.grants,
                "refusals": self.refusals,
                "tenant_reads": self.tenant_reads,
                "gateway_requests": self.gateway_requests,
                "live_tokens": sum(1 for e in self._expiry.values() if self._clock() < e),
            }
        )


class Gateway:
    """ASGI middleware: ``/ex/jira/{cloudId}/<path>`` is the site's ``/<path>``, marked as
    having come through the gateway; another cloud id is a 404."""

    def __init__(self, app: ASGIApp, *, server: OAuthServer) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(GATEWAY_PREFIX):
            await self.app(scope, receive, send)
            return
        cloud_id, _, rest = path[len(GATEWAY_PREFIX) :].partition("/")
        if cloud_id != self.server.cloud_id:
            message = f"No site has the cloud id '{cloud_id}'."
            response = JSONResponse({"errorMessages": [message], "errors": {}}, 404)
            await response(scope, receive, send)
            return
        self.server.gateway_requests += 1
        prefix = f"{GATEWAY_PREFIX}{cloud_id}".encode()
        raw = bytes(scope.get("raw_path") or path.encode())
        inner = {
            **scope,
            "path": "/" + rest,
            "raw_path": raw[len(prefix) :] or b"/",
            VIA_GATEWAY: True,
        }
        await self.app(inner, receive, send)
