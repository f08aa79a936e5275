"""`KeeptrustsSandbox`: a stateful simulator of the Keeptrusts control-plane API.

It holds escalations and webhook registrations, answers the REST calls the bridge makes
(resolve with `X-Actor-Id`, list with cursors, webhook registration in both field styles), and
records the events a real console would send in an outbox that tests deliver with the sender.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kt_jira.sandbox.faults import Faults, FaultSpecError
from kt_jira.sandbox.keeptrusts.payloads import (
    envelope,
    escalation_payload,
    iso_now,
    new_id,
    resolved_payload,
)
from kt_jira.sandbox.keeptrusts.state import (
    STATUSES,
    KeeptrustsSandboxSettings,
    SandboxEscalation,
    decode_cursor,
    encode_cursor,
)

__all__ = [
    "KeeptrustsSandbox",
    "KeeptrustsSandboxSettings",
    "SandboxEscalation",
    "envelope",
    "escalation_payload",
    "resolved_payload",
]

JsonDict = dict[str, Any]
Endpoint = Callable[[Request], Awaitable[Response]]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _error(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


class KeeptrustsSandbox:
    """Escalations, webhooks, an outbox of events to deliver, and the ASGI ``app``."""

    def __init__(self, settings: KeeptrustsSandboxSettings | None = None) -> None:
        self.settings = settings or KeeptrustsSandboxSettings()
        self.escalations: dict[str, SandboxEscalation] = {}
        self.webhooks: dict[str, JsonDict] = {}
        self.outbox: list[JsonDict] = []
        self.resolve_log: list[JsonDict] = []
        self.requests: list[tuple[str, str, int]] = []
        self.faults = Faults(seed=self.settings.seed)
        self.app = Starlette(routes=self._routes())

    # -- Python-side API ----------------------------------------------------------------------
    def add_escalation(self, escalation_id: str | None = None, **fields: Any) -> JsonDict:
        """Create an open escalation; returns its flat payload and queues `escalation.created`."""
        fields.setdefault("org_id", self.settings.org_id)
        payload = escalation_payload(escalation_id, **fields)
        self.escalations[payload["escalation_id"]] = SandboxEscalation(
            payload["escalation_id"], payload
        )
        self.outbox.append(envelope("escalation.created", payload))
        return payload

    def resolve_in_console(
        self,
        escalation_id: str,
        *,
        resolution: str = "approved",
        notes: str = "",
        actor_id: str = "usr_reviewer_1",
        actor_name: str = "Rita Reviewer",
    ) -> JsonDict:
        """Resolve as a reviewer in the console; returns the `escalation.resolved` data."""
        esc = self.escalations[escalation_id]
        if esc.status != "open":
            raise ValueError(f"{escalation_id} is already {esc.status}")
        data = resolved_payload(
            escalation_id,
            resolution=resolution,
            notes=notes,
            resolved_by_id=actor_id,
            resolved_by_name=actor_name,
        )
        esc.status, esc.resolution, esc.notes = "resolved", resolution, notes
        esc.resolved_by, esc.resolved_at = actor_id, data["resolved_at"]
        self.outbox.append(envelope("escalation.resolved", data))
        return data

    def expire(self, escalation_id: str) -> None:
        self.escalations[escalation_id].status = "expired"

    def take_outbox(self) -> list[JsonDict]:
        """The events queued since the last call (oldest first)."""
        events, self.outbox = self.outbox, []
        return events

    # -- HTTP ---------------------------------------------------------------------------------
    def _routes(self) -> list[Route]:
        api = [
            ("POST", "/v1/escalations/{id}/resolve", self._resolve),
            ("GET", "/v1/escalations", self._list),
            ("GET", "/v1/escalations/{id}", self._get),
            ("POST", "/v1/webhooks", self._create_webhook),
            ("GET", "/v1/webhooks", self._list_webhooks),
            ("DELETE", "/v1/webhooks/{id}", self._delete_webhook),
        ]
        return [
            *(Route(path, self._gate(handler), methods=[m]) for m, path, handler in api),
            Route("/_sandbox/escalations", self._admin_escalations, methods=["GET", "POST"]),
            Route("/_sandbox/escalations/{id}/resolve", self._admin_resolve, methods=["POST"]),
            Route("/_sandbox/outbox", self._admin_outbox, methods=["GET"]),
            Route("/_sandbox/faults", self._admin_faults, methods=["GET", "POST"]),
        ]

    def _gate(self, handler: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            response = await self._serve(request, handler)
            self.requests.append((request.method, request.url.path, response.status_code))
            return response

        return endpoint

    async def _serve(self, request: Request, handler: Endpoint) -> Response:
        if self.faults.latency > 0:
            await asyncio.sleep(self.faults.latency)
        forced = self.faults.take_forced_status()
        if forced is not None:
            return _error(forced, "unavailable", f"Simulated failure ({forced}).")
        if request.headers.get("authorization") != f"Bearer {self.settings.api_token}":
            return _error(401, "unauthorized", "A valid bearer API token is required.")
        return await handler(request)

    async def _json(self, request: Request) -> JsonDict | None:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def _resolve(self, request: Request) -> Response:
        esc_id = request.path_params["id"]
        actor = request.headers.get("x-actor-id")
        body = await self._json(request)
        call = {"escalation_id": esc_id, "actor": actor, "body": body, "at": iso_now()}
        response = self._do_resolve(esc_id, actor, body)
        call["status"] = response.status_code
        self.resolve_log.append(call)
        if esc_id in self.escalations:
            self.escalations[esc_id].resolve_calls.append(call)
        return response

    def _do_resolve(self, esc_id: str, actor: str | None, body: JsonDict | None) -> Response:
        if not actor:
            return _error(400, "missing_actor", "The X-Actor-Id header is required to resolve.")
        if body is None:
            return _error(400, "invalid_json", "The body must be a JSON object.")
        resolution = body.get("resolution", body.get("outcome"))
        notes = body.get("notes", body.get("reason", ""))
        if not isinstance(resolution, str) or not resolution or not isinstance(notes, str):
            return _error(422, "invalid_request", "'resolution' (or 'outcome') is required.")
        esc = self.escalations.get(esc_id)
        if esc is None:
            return _error(404, "not_found", f"Escalation {esc_id} was not found.")
        if esc.status == "resolved":
            detail = (
                f"Escalation {esc_id} was already resolved ({esc.resolution}) by {esc.resolved_by}."
            )
            return _error(409, "already_resolved", detail)
        if esc.status == "expired":
            return _error(409, "expired", f"Escalation {esc_id} expired before it was resolved.")
        esc.status, esc.resolution, esc.notes = "resolved", resolution, notes
        esc.resolved_by, esc.resolved_at = actor, iso_now()
        # An API resolve notifies subscribers like a console one (the bridge sees its own echo).
        data = resolved_payload(
            esc_id,
            resolution=resolution,
            notes=notes,
            resolved_by_id=actor,
            resolved_by_name=actor,
            resolved_at=esc.resolved_at,
        )
        self.outbox.append(envelope("escalation.resolved", data))
        return JSONResponse(esc.as_json())

    async def _list(self, request: Request) -> Response:
        status = request.query_params.get("status")
        if status is not None and status not in STATUSES:
            return _error(400, "invalid_request", f"status must be one of {', '.join(STATUSES)}.")
        try:
            limit = int(request.query_params.get("limit", "50"))
            start = decode_cursor(request.query_params.get("cursor"))
        except ValueError:
            return _error(
                400, "invalid_request", "limit must be an integer; cursor must be opaque."
            )
        if not 1 <= limit <= 200:
            return _error(400, "invalid_request", "limit must be between 1 and 200.")
        chosen = [e for e in self.escalations.values() if status in (None, e.status)]
        page = chosen[start : start + limit]
        more = start + limit < len(chosen)
        cursor = encode_cursor(start + limit) if more else None
        return JSONResponse({"data": [e.as_json() for e in page], "next_cursor": cursor})

    async def _get(self, request: Request) -> Response:
        esc = self.escalations.get(request.path_params["id"])
        if esc is None:
            return _error(
                404, "not_found", f"Escalation {request.path_params['id']} was not found."
            )
        return JSONResponse(esc.as_json())

    async def _create_webhook(self, request: Request) -> Response:
        body = await self._json(request)
        if body is None:
            return _error(400, "invalid_json", "The body must be a JSON object.")
        url = body.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or not parts.netloc or parts.scheme not in ("http", "https"):
            return _error(422, "invalid_request", "'url' must be an absolute URL.")
        if parts.scheme != "https" and parts.hostname not in LOOPBACK:
            return _error(422, "invalid_request", "'url' must use https.")
        events = body.get("events", body.get("event_types"))
        if (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, str) for e in events)
        ):
            return _error(
                422, "invalid_request", "'events' must be a non-empty list of event types."
            )
        enabled = body.get("enabled", body.get("active", True))
        if not isinstance(enabled, bool):
            return _error(422, "invalid_request", "'enabled' must be true or false.")
        hook = {
            "id": new_id("wh"),
            "url": url,
            "events": events,
            "enabled": enabled,
            "description": body.get("description", ""),
            "created_at": iso_now(),
        }
        secret = body.get("secret") or f"whsec_{secrets.token_urlsafe(24)}"
        self.webhooks[hook["id"]] = {**hook, "secret": secret}
        return JSONResponse({**hook, "secret": secret}, status_code=201)

    async def _list_webhooks(self, request: Request) -> Response:
        hooks = [{k: v for k, v in h.items() if k != "secret"} for h in self.webhooks.values()]
        return JSONResponse({"data": hooks, "next_cursor": None})

    async def _delete_webhook(self, request: Request) -> Response:
        if self.webhooks.pop(request.path_params["id"], None) is None:
            return _error(404, "not_found", f"Webhook {request.path_params['id']} was not found.")
        return Response(status_code=204)

    async def _admin_escalations(self, request: Request) -> Response:
        if request.method == "POST":
            spec = await self._json(request) or {}
            return JSONResponse(self.add_escalation(**spec), status_code=201)
        data = [
            {**e.as_json(), "resolve_calls": e.resolve_calls} for e in self.escalations.values()
        ]
        return JSONResponse({"data": data})

    async def _admin_resolve(self, request: Request) -> Response:
        spec = await self._json(request) or {}
        try:
            data = self.resolve_in_console(request.path_params["id"], **spec)
        except (KeyError, ValueError, TypeError) as exc:
            return JSONResponse({"detail": str(exc)}, status_code=409)
        return JSONResponse(data)

    async def _admin_outbox(self, request: Request) -> Response:
        take = request.query_params.get("take") == "1"
        return JSONResponse({"events": self.take_outbox() if take else list(self.outbox)})

    async def _admin_faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.faults.update(await self._json(request) or {})
            except FaultSpecError as exc:
                return JSONResponse({"detail": str(exc)}, status_code=400)
        return JSONResponse(self.faults.as_dict())
