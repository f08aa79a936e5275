"""`JiraSandbox`: a stateful, strict Jira Cloud or Data Center simulator as a Starlette app.

Every `/rest` request passes the same gate a real site applies (faults, Basic auth on Cloud or a
Bearer PAT on Data Center, or a service account's OAuth token (`oauth`), burst rate limit, JSON
parsing, the optional contract validator) before its handler runs; a Data Center site answers
in the v2 representation. A Cloud site also sits behind the API gateway's `/ex/jira/{cloudId}`.
The `/_sandbox` routes are for tests and the demo only; they need no auth and are not part of
Jira's API.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from kt_jira.sandbox.faults import Faults, FaultSpecError
from kt_jira.sandbox.jira.admin import SiteAdmin
from kt_jira.sandbox.jira.admin_webhooks import (
    AdminWebhook,
    AdminWebhooks,
    is_admin_webhook_path,
)
from kt_jira.sandbox.jira.call import Handler, RestCall, errors
from kt_jira.sandbox.jira.dc import as_v2_response, authenticated
from kt_jira.sandbox.jira.limits import GLOBAL, RateLimiter, RetryWindows, Stats
from kt_jira.sandbox.jira.oauth import Gateway, OAuthServer
from kt_jira.sandbox.jira.routes import not_found, rest_routes
from kt_jira.sandbox.jira.state import HUMAN, JiraSandboxSettings, JiraState, SandboxIssue
from kt_jira.sandbox.jira.views import inspection_json
from kt_jira.sandbox.jira.webhooks import JiraWebhookSender

JsonDict = dict[str, Any]
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


class JiraSandbox(SiteAdmin):
    """A simulated Jira site (Cloud or Data Center): state, faults, rate limits, the ASGI
    ``app``, and the admin changes of ``SiteAdmin``."""

    def __init__(
        self,
        settings: JiraSandboxSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or JiraSandboxSettings()
        self.state = JiraState(self.settings, clock)
        self.faults = Faults(seed=self.settings.seed)
        s = self.settings
        self.limiter = RateLimiter(s.rate_limit, s.rate_burst, s.retry_after)
        self.windows = RetryWindows()
        self.stats = Stats()
        self.contract_violations: list[JsonDict] = []
        self.admin_webhooks = AdminWebhooks()
        # Every change, a person's or the bridge's, goes to the admin webhooks (signed, async).
        self.webhooks = JiraWebhookSender(
            self.state, self.admin_webhooks, base_url=self._public_url, seed=self.settings.seed
        )
        self.state.listeners.append(self.webhooks.on_change)
        self.oauth = OAuthServer(s.oauth, flavor=s.flavor, cloud_id=s.cloud_id, clock=clock)
        cloud = s.flavor == "cloud"
        gateway = [Middleware(Gateway, server=self.oauth)] if cloud else []
        self.app = Starlette(routes=self._routes(), middleware=gateway)

    # -- Python-side accessors -----------------------------------------------------------------
    @property
    def issues(self) -> list[SandboxIssue]:
        return list(self.state.issues.values())

    def issue(self, id_or_key: str) -> SandboxIssue | None:
        return self.state.issue(id_or_key)

    def issues_with_label(self, label: str) -> list[SandboxIssue]:
        return self.state.issues_with_label(label)

    def view(self, issue: SandboxIssue) -> JsonDict:
        """The inspection view of ``issue`` (fields by name and id, status, priority name)."""
        return inspection_json(self.state, issue)

    @property
    def retry_after_violations(self) -> int:
        return self.windows.violations

    @property
    def search_lag(self) -> float:
        return self.state.search_lag

    @search_lag.setter
    def search_lag(self, seconds: float) -> None:
        self.state.search_lag = seconds

    def register_webhook(self, url: str, secret: str = "", **options: Any) -> AdminWebhook:
        """Register an admin webhook from Python (``AdminWebhooks.register`` options)."""
        return self.admin_webhooks.register(url, secret, **options)

    def delete_issue(self, id_or_key: str, *, actor: str = HUMAN.account_id) -> None:
        """Delete an issue as an admin would (Jira sends ``jira:issue_deleted``)."""
        self.state.delete(self._issue(id_or_key), actor)

    def _public_url(self) -> str:
        return self.settings.public_url or "https://sandbox.atlassian.net"

    def stats_json(self) -> JsonDict:
        return {
            **self.stats.as_dict(),
            "retry_after_violations": self.windows.violations,
            "retry_after_violation_log": self.windows.violation_log,
            "contract_violations": list(self.contract_violations),
        }

    # -- HTTP ---------------------------------------------------------------------------------
    def _routes(self) -> list[Route]:
        routes = [
            Route(template, self._gate(method, template, handler), methods=[method])
            for method, template, handler in (
                *rest_routes(self.settings.flavor),
                *self.admin_webhooks.routes(),
            )
        ]
        admin = [
            Route("/_sandbox/issues", self._admin_issues, methods=["GET"]),
            Route("/_sandbox/stats", self._admin_stats, methods=["GET"]),
            Route("/_sandbox/faults", self._admin_faults, methods=["GET", "POST"]),
            Route("/_sandbox/issues/{key}/transition", self._admin_transition, methods=["POST"]),
            Route("/_sandbox/issues/{key}/assignee", self._admin_assignee, methods=["POST"]),
            Route("/_sandbox/issues/{key}/comment", self._admin_comment, methods=["POST"]),
        ]
        admin += self.oauth.routes()  # the token endpoint (and tenant_info), outside the gate
        catch_all = [
            Route("/rest/{rest:path}", self._gate(method, "/rest/*", not_found), methods=[method])
            for method in ("GET", "POST", "PUT", "DELETE")
        ]
        return [*routes, *admin, *catch_all]

    def _gate(
        self, method: str, template: str, handler: Handler
    ) -> Callable[[Request], Awaitable[Response]]:
        scope = f"{method} {template}"

        async def endpoint(request: Request) -> Response:
            violated = self.windows.arrive(scope, time.monotonic())
            response = await self._serve(request, scope, handler, violated)
            self.stats.record(scope, response.status_code)
            return response

        return endpoint

    async def _serve(
        self, request: Request, scope: str, handler: Handler, violated: bool
    ) -> Response:
        if self.faults.latency > 0:
            await asyncio.sleep(self.faults.latency)
        forced = self.faults.take_forced_status()
        if forced is not None:
            return self._fault_response(forced, scope)
        if not (self.oauth.accepts(request) or authenticated(request, self.settings)):
            return errors(401, NOT_AUTHENTICATED)
        now = time.monotonic()
        if violated and self.windows.is_open(scope, now):
            left = max(1, math.ceil(self.windows.until[scope] - now))
            return self._too_many(left, {"X-RateLimit-Remaining": "0"})
        decision = self.limiter.check(scope, now)
        if not decision.allowed:
            self.windows.announce(scope, now, float(decision.headers["Retry-After"]))
            return self._too_many(None, decision.headers)
        body, problem = await self._body(request)
        if problem is not None:
            return problem
        base = self.settings.public_url or str(request.base_url).rstrip("/")
        call = RestCall(request, body, base, self.state.bot.account_id, self.state, self.faults)
        response = await handler(call)
        if self.settings.flavor == "datacenter":
            response = as_v2_response(response, self.state, base)
        response.headers.update(decision.headers)
        return response

    async def _body(self, request: Request) -> tuple[object, Response | None]:
        raw = await request.body()
        if not raw:
            return None, None
        if "json" not in request.headers.get("content-type", ""):
            return None, errors(415, "Unsupported Media Type: send Content-Type: application/json")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return None, errors(400, f"Unexpected character in the JSON body: {exc}")
        validator = self.settings.request_validator
        # Admin webhooks are not part of the platform API the OpenAPI contract describes.
        if validator is not None and not is_admin_webhook_path(request.url.path):
            try:
                # Off the event loop: a contract check can take a second on a new document
                # shape, and a real site does not hold every other client's request behind one.
                await asyncio.to_thread(validator, request.method, request.url.path, body)
            except Exception as exc:  # the validator's verdict, whatever its type
                message = str(exc)
                self.contract_violations.append(
                    {"method": request.method, "path": request.url.path, "message": message}
                )
                return None, errors(400, message)
        return body, None

    def _too_many(self, seconds: int | None, headers: dict[str, str]) -> Response:
        merged = {"RateLimit-Reason": "jira-burst-based", **headers}
        if seconds is not None:
            merged["Retry-After"] = str(seconds)
        return JSONResponse(
            {"errorMessages": ["Rate limit exceeded."], "errors": {}}, 429, headers=merged
        )

    def _fault_response(self, status: int, scope: str) -> Response:
        now = time.monotonic()
        if status == 429:
            self.windows.announce(scope, now, self.limiter.retry_after)
            return self._too_many(self.limiter.retry_after, {})
        if status in (502, 504):
            title = {502: "502 Bad Gateway", 504: "504 Gateway Timeout"}[status]
            return HTMLResponse(f"<html><body><h1>{title}</h1></body></html>", status)
        headers: dict[str, str] = {}
        if status == 503 and self.faults.outage and self.faults.outage_retry_after:
            self.windows.announce(GLOBAL, now, self.faults.outage_retry_after)
            headers["Retry-After"] = str(self.faults.outage_retry_after)
        message = "Service Unavailable" if status == 503 else f"Simulated failure ({status})."
        return JSONResponse({"errorMessages": [message], "errors": {}}, status, headers=headers)

    async def _admin_issues(self, request: Request) -> Response:
        label = request.query_params.get("label")
        chosen = self.issues_with_label(label) if label else self.issues
        return JSONResponse({"issues": [self.view(i) for i in chosen]})

    async def _admin_stats(self, request: Request) -> Response:
        return JSONResponse(self.stats_json())

    async def _admin_faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                spec = json.loads(await request.body() or b"{}")
                if not isinstance(spec, dict):
                    raise FaultSpecError("the fault specification must be a JSON object")
                self.faults.update(spec)
            except (ValueError, FaultSpecError) as exc:
                return JSONResponse({"detail": str(exc)}, 400)
        return JSONResponse(self.faults.as_dict())

    async def _admin_transition(self, request: Request) -> Response:
        spec = json.loads(await request.body() or b"{}")
        try:
            issue = self.transition_issue(
                request.path_params["key"],
                str(spec.get("to", "")),
                resolution=spec.get("resolution"),
                actor=str(spec.get("actor", HUMAN.account_id)),
            )
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, 409)
        return JSONResponse(self.view(issue))

    async def _admin_assignee(self, request: Request) -> Response:
        spec = json.loads(await request.body() or b"{}")
        account = spec.get("account")
        try:
            issue = self.assign_issue(
                request.path_params["key"],
                None if account is None else str(account),
                actor=str(spec.get("actor", HUMAN.account_id)),
            )
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, 409)
        return JSONResponse(self.view(issue))

    async def _admin_comment(self, request: Request) -> Response:
        spec = json.loads(await request.body() or b"{}")
        try:
            issue = self.comment_issue(
                request.path_params["key"],
                spec.get("body"),
                author=str(spec.get("author", HUMAN.account_id)),
            )
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, 409)
        return JSONResponse(self.view(issue))
