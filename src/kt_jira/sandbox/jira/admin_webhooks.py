"""Admin webhooks of the simulated Jira: the registry and its REST endpoints, both flavours.

Cloud (and DC 9): ``/rest/webhooks/1.0/webhook`` with ``{name, url, events, filters:
{"issue-related-events-section": jql}, excludeBody, secret}``. Data Center 10:
``/rest/jira-webhook/1.0/webhooks`` with ``{name, url, events, active, configuration: {FILTERS,
EXCLUDE_BODY, secret}}`` (JRASERVER-78733: 10.x ignores ``filters``). The secret is write-once:
it is stored for the sender to sign with, and never returned. No I/O beyond the handlers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import JSONResponse, Response

from kt_jira.sandbox.jira.call import Handler, RestCall, errors

JsonDict = dict[str, Any]
CLOUD = "/rest/webhooks/1.0/webhook"
DC10 = "/rest/jira-webhook/1.0/webhooks"
JQL_SECTION = "issue-related-events-section"
EVENTS = frozenset(
    {
        "jira:issue_created",
        "jira:issue_updated",
        "jira:issue_deleted",
        "comment_created",
        "comment_updated",
        "comment_deleted",
        "issuelink_created",
        "issuelink_deleted",
    }
)


@dataclass
class AdminWebhook:
    """One registration; ``secret`` (if any) signs deliveries as ``X-Hub-Signature``."""

    id: int
    name: str
    url: str
    events: tuple[str, ...]
    jql: str = ""
    exclude_body: bool = False
    enabled: bool = True
    secret: str = field(default="", repr=False)
    flavor: str = "cloud"

    def wants(self, event: str) -> bool:
        return self.enabled and (not self.events or event in self.events)


class AdminWebhooks:
    """The registrations of one simulated site, shared by its REST endpoints and the sender."""

    def __init__(self) -> None:
        self.hooks: dict[int, AdminWebhook] = {}
        self._ids = itertools.count(1)

    def register(
        self,
        url: str,
        secret: str = "",
        *,
        events: Iterable[str] = ("jira:issue_updated", "jira:issue_deleted", "comment_created"),
        jql: str = "",
        name: str = "sandbox webhook",
        exclude_body: bool = False,
        enabled: bool = True,
        flavor: str = "cloud",
    ) -> AdminWebhook:
        hook = AdminWebhook(
            id=next(self._ids),
            name=name,
            url=url,
            events=tuple(events),
            jql=jql,
            exclude_body=exclude_body,
            enabled=enabled,
            secret=secret,
            flavor=flavor,
        )
        self.hooks[hook.id] = hook
        return hook

    def for_event(self, event: str) -> list[AdminWebhook]:
        """Enabled registrations that subscribe to ``event`` (the JQL filter is the sender's)."""
        return [hook for hook in self.hooks.values() if hook.wants(event)]

    def routes(self) -> tuple[tuple[str, str, Handler], ...]:
        """``(method, path template, handler)`` for the Jira app's authenticated gate."""
        return (
            ("GET", CLOUD, self._list),
            ("POST", CLOUD, self._create),
            ("GET", CLOUD + "/{webhookId}", self._get),
            ("PUT", CLOUD + "/{webhookId}", self._update),
            ("DELETE", CLOUD + "/{webhookId}", self._delete),
            ("GET", DC10, self._list),
            ("POST", DC10, self._create),
            ("GET", DC10 + "/{webhookId}", self._get),
            ("PUT", DC10 + "/{webhookId}", self._update),
            ("DELETE", DC10 + "/{webhookId}", self._delete),
        )

    # -- handlers ---------------------------------------------------------------------------

    async def _list(self, call: RestCall) -> Response:
        dc = _is_dc(call)
        hooks = [h for h in self.hooks.values() if (h.flavor == "datacenter") == dc]
        return JSONResponse([_view(h, call.base) for h in hooks])

    async def _get(self, call: RestCall) -> Response:
        hook = self._find(call)
        if hook is None:
            return errors(404, "Webhook not found.")
        return JSONResponse(_view(hook, call.base))

    async def _create(self, call: RestCall) -> Response:
        parsed = _parse(call.body, dc=_is_dc(call))
        if isinstance(parsed, Response):
            return parsed
        hook = self.register(**parsed)
        return JSONResponse(_view(hook, call.base), status_code=201)

    async def _update(self, call: RestCall) -> Response:
        hook = self._find(call)
        if hook is None:
            return errors(404, "Webhook not found.")
        parsed = _parse(call.body, dc=_is_dc(call))
        if isinstance(parsed, Response):
            return parsed
        secret = parsed.pop("secret")
        for key, value in parsed.items():
            setattr(hook, key, tuple(value) if key == "events" else value)
        if secret:  # omitted: the stored secret stays (it cannot be read back to resend)
            hook.secret = secret
        return JSONResponse(_view(hook, call.base))

    async def _delete(self, call: RestCall) -> Response:
        hook = self._find(call)
        if hook is None:
            return errors(404, "Webhook not found.")
        del self.hooks[hook.id]
        return Response(status_code=204)

    def _find(self, call: RestCall) -> AdminWebhook | None:
        raw = call.param("webhookId")
        hook = self.hooks.get(int(raw)) if raw.isdigit() else None
        if hook is None or (hook.flavor == "datacenter") != _is_dc(call):
            return None
        return hook


def is_admin_webhook_path(path: str) -> bool:
    return path.startswith((CLOUD, DC10))


def _is_dc(call: RestCall) -> bool:
    return call.request.url.path.startswith(DC10)


def _parse(body: object, *, dc: bool) -> JsonDict | Response:
    if not isinstance(body, dict):
        return errors(400, "The request body must be a JSON object.")
    name, url, events = body.get("name"), body.get("url"), body.get("events")
    if not isinstance(name, str) or not name.strip():
        return errors(400, name="The webhook name is required.")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return errors(400, url="The webhook URL must be an absolute http(s) URL.")
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        return errors(400, events="'events' must be a list of event names.")
    unknown = sorted(set(events) - EVENTS)
    if unknown:
        return errors(400, events=f"Unknown webhook events: {', '.join(unknown)}.")
    config = body.get("configuration") if dc else None
    if dc:
        if not isinstance(config, dict):
            config = {}
        # Jira 10 reads the JQL and the body switch from ``configuration`` only.
        jql = str(config.get("FILTERS") or "")
        exclude = str(config.get("EXCLUDE_BODY", "false")).lower() == "true"
        secret = config.get("secret") or ""
        enabled = body.get("active", True) not in (False, "false")
    else:
        filters = body.get("filters")
        jql = str(filters.get(JQL_SECTION) or "") if isinstance(filters, dict) else ""
        exclude = bool(body.get("excludeBody", False))
        secret = body.get("secret") or ""
        enabled = bool(body.get("enabled", True))
    if not isinstance(secret, str):
        return errors(400, "The webhook secret must be a string.")
    return {
        "name": name.strip(),
        "url": url,
        "events": list(events),
        "jql": jql,
        "exclude_body": exclude,
        "secret": secret,
        "enabled": enabled,
        "flavor": "datacenter" if dc else "cloud",
    }


def _view(hook: AdminWebhook, base: str) -> JsonDict:
    """The registration as Jira answers it: never the secret, only whether one is set."""
    if hook.flavor == "datacenter":
        configuration = {"FILTERS": hook.jql, "EXCLUDE_BODY": str(hook.exclude_body).lower()}
        return {
            "id": hook.id,
            "name": hook.name,
            "url": hook.url,
            "events": list(hook.events),
            "active": hook.enabled,
            "configuration": configuration,
            "scopeType": "global",
            "sslVerificationRequired": True,
        }
    return {
        "self": f"{base}{CLOUD}/{hook.id}",
        "name": hook.name,
        "url": hook.url,
        "events": list(hook.events),
        "filters": {JQL_SECTION: hook.jql},
        "excludeBody": hook.exclude_body,
        "enabled": hook.enabled,
    }
