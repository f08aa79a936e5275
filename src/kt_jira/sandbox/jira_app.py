"""`JiraSandbox`: a stateful, strict Jira Cloud simulator as a Starlette app.

Every `/rest` request passes the same gate a real site applies (faults, Basic auth, burst rate
limit, JSON parsing, the optional contract validator) before its handler runs. The `/_sandbox`
routes are for tests and the demo only; they need no auth and are not part of Jira's API.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from kt_jira.sandbox.faults import Faults, FaultSpecError
from kt_jira.sandbox.jira_call import Handler, RestCall, errors
from kt_jira.sandbox.jira_limits import GLOBAL, RateLimiter, RetryWindows, Stats
from kt_jira.sandbox.jira_routes import ROUTES, not_found
from kt_jira.sandbox.jira_site import ISSUE_TYPES, PRIORITIES, Project, Screen
from kt_jira.sandbox.jira_state import HUMAN, JiraSandboxSettings, JiraState, SandboxIssue
from kt_jira.sandbox.jira_views import inspection_json
from kt_jira.sandbox.jira_workflow import Workflow

JsonDict = dict[str, Any]
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


class JiraSandbox:
    """A simulated Jira Cloud site: state, faults, rate limits, and the ASGI ``app``."""

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
        self.app = Starlette(routes=self._routes())

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

    # -- site configuration for tests ------------------------------------------------------------
    def add_project(self, key: str, name: str | None = None) -> Project:
        return self.state.site.add_project(key, name)

    def _screens(self, project: str, issue_type: str | None) -> list[Screen]:
        proj = self.state.site.projects[project]
        names = {t: t for t in proj.issue_type_ids} | {t.name: t.id for t in ISSUE_TYPES}
        wanted = proj.issue_type_ids if issue_type is None else [names[issue_type]]
        return [proj.screens[t] for t in wanted]

    def remove_field_from_screen(
        self, project: str, field: str, *, issue_type: str | None = None
    ) -> None:
        """Take a field off the create screen(s); a name means every field of that name."""
        for fid in self._field_ids(field):
            for screen in self._screens(project, issue_type):
                if fid in screen.fields:
                    screen.fields.remove(fid)

    def add_field_to_screen(
        self, project: str, field: str, *, issue_type: str | None = None
    ) -> None:
        """Put a field (by id, or by a name only one field has) on the create screen(s)."""
        ids = self._field_ids(field)
        if len(ids) != 1:
            raise ValueError(f"{len(ids)} fields are named {field!r}; pass the field id")
        for screen in self._screens(project, issue_type):
            if ids[0] not in screen.fields:
                screen.fields.append(ids[0])

    def _field_ids(self, ref: str) -> list[str]:
        site = self.state.site
        ids = [ref] if site.field(ref) else [f.id for f in site.fields if f.name == ref]
        if not ids:
            raise ValueError(f"no field {ref!r} on this site")
        return ids

    def set_allowed_priorities(
        self, project: str, names: list[str], *, issue_type: str | None = None
    ) -> None:
        ids = [p.id for p in PRIORITIES if p.name in names]
        for screen in self._screens(project, issue_type):
            screen.priority_ids = ids

    def set_workflow(self, project: str, workflow: Workflow) -> None:
        self.state.workflows.by_project[project] = workflow

    def transition_issue(
        self,
        id_or_key: str,
        to_status: str,
        *,
        resolution: str | None = None,
        actor: str = HUMAN.account_id,
    ) -> SandboxIssue:
        """Move an issue as a person would in the Jira UI (raises ValueError if impossible)."""
        issue = self.state.issue(id_or_key)
        if issue is None:
            raise ValueError(f"no issue {id_or_key}")
        workflow = self.state.workflow(issue)
        target = workflow.find_status(to_status)
        step = next(
            (t for t in workflow.available(issue.status_id) if target and t.to == target.id), None
        )
        if step is None:
            raise ValueError(f"{issue.key} cannot move to {to_status!r} from its status")
        body: JsonDict = {"transition": {"id": step.id}}
        if resolution is not None:
            body["fields"] = {"resolution": {"name": resolution}}
        status, error = self.state.transition(issue, body, actor)
        if error is not None:
            raise ValueError(f"{issue.key}: {status} {json.dumps(error)}")
        return issue

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
            for method, template, handler in ROUTES
        ]
        admin = [
            Route("/_sandbox/issues", self._admin_issues, methods=["GET"]),
            Route("/_sandbox/stats", self._admin_stats, methods=["GET"]),
            Route("/_sandbox/faults", self._admin_faults, methods=["GET", "POST"]),
            Route("/_sandbox/issues/{key}/transition", self._admin_transition, methods=["POST"]),
        ]
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
        if not self._authenticated(request):
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
        response.headers.update(decision.headers)
        return response

    def _authenticated(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(token, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.settings.email}:{self.settings.api_token}"

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
        if validator is not None:
            try:
                validator(request.method, request.url.path, body)
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
