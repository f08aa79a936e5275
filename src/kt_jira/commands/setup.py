"""Registration: point Keeptrusts' and Jira's webhooks at the bridge, idempotently.

Each command lists what is registered first and creates only when no registration has the
bridge's URL; one that differs is updated. Secrets come from the config, go only into request
bodies, and are scrubbed from every message (servers sometimes echo the request). Keeptrusts has
no documented update call, so a Keeptrusts registration that needs changing is re-created.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from kt_jira.config.models import JiraSettings, Settings
from kt_jira.errors import ConfigError, KtJiraError, PermanentError
from kt_jira.jira import JiraClient, MemoryPauseStore
from kt_jira.keeptrusts import KeeptrustsClient
from kt_jira.render.sanitise import project_jql

KEEPTRUSTS_EVENTS = ("escalation.created", "escalation.resolved")
JIRA_EVENTS = ("jira:issue_updated", "jira:issue_deleted", "comment_created")
KEEPTRUSTS_PATH = "/webhooks/keeptrusts"
JIRA_PATH = "/webhooks/jira"
JQL_SECTION = "issue-related-events-section"
Outcome = Literal["created", "already present", "updated"]


class FieldStyle(StrEnum):
    """Which field names ``POST /v1/webhooks`` gets: the docs' and the guide's differ."""

    BOTH = "both"
    DOCS = "docs"  #: events / enabled
    GUIDE = "guide"  #: event_types / active


@dataclass(frozen=True, kw_only=True)
class Registration:
    """What a setup command did; holds no secret."""

    target: str
    outcome: Outcome
    webhook_id: str
    url: str
    events: tuple[str, ...]
    detail: str = ""


def bridge_url(public_url: str, path: str) -> str:
    """``https://bridge.example.com`` + ``path``; refuses anything but an absolute http(s) URL."""
    parts = urlsplit(public_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"--url must be the bridge's public http(s) base URL, not {public_url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}{path}"


# -- Keeptrusts -----------------------------------------------------------------------------


def keeptrusts_body(url: str, secret: str, style: FieldStyle) -> dict[str, Any]:
    """The docs say ``events``/``enabled``, the guide ``event_types``/``active``: ``both`` sends
    both pairs, so either reading of the API gets what it expects."""
    body: dict[str, Any] = {"url": url, "secret": secret, "description": "kt-jira bridge"}
    if style in ("both", "docs"):
        body |= {"events": list(KEEPTRUSTS_EVENTS), "enabled": True}
    if style in ("both", "guide"):
        body |= {"event_types": list(KEEPTRUSTS_EVENTS), "active": True}
    return body


async def register_keeptrusts(
    settings: Settings,
    *,
    public_url: str,
    style: FieldStyle = FieldStyle.BOTH,
    replace: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Registration:
    """Register ``POST /v1/webhooks`` for the bridge, unless one with its URL is there already."""
    kt = settings.keeptrusts
    if not kt.webhook.secrets:
        raise ConfigError("keeptrusts.webhook.secrets is empty: set the secret to register with")
    if kt.api_token is None:
        raise ConfigError("keeptrusts.api_token is not set: registering needs an API token")
    url = bridge_url(public_url, KEEPTRUSTS_PATH)
    secret = kt.webhook.secrets[0].reveal()
    async with KeeptrustsClient(kt, transport=transport) as api, _redacting(secret):
        same = [h for h in await api.webhooks() if h.get("url") == url]
        current = same[0] if same else None
        if current is not None and not replace and keeptrusts_hook_ok(current):
            extra = f"{len(same)} registrations have this URL; delete extras" if same[1:] else ""
            return _done("Keeptrusts webhook", "already present", current, url, extra)
        if current is not None:
            # No documented update call: replace it (the stored secret cannot be read back).
            await api.delete_webhook(str(current.get("id")))
        note = ""
        try:
            created = await api.create_webhook(keeptrusts_body(url, secret, style))
        except PermanentError as exc:
            if style is not FieldStyle.BOTH or exc.status not in (400, 422):
                raise
            # A strict API may refuse the field names it does not know: the docs' pair alone.
            created = await api.create_webhook(keeptrusts_body(url, secret, FieldStyle.DOCS))
            note = "sent events/enabled only (the API refused event_types/active alongside)"
        outcome: Outcome = "updated" if current is not None else "created"
        return _done("Keeptrusts webhook", outcome, created, url, note)


def keeptrusts_hook_ok(hook: dict[str, Any]) -> bool:
    """Enabled, with both escalation events (either field style)."""
    events = hook.get("events", hook.get("event_types")) or []
    enabled = hook.get("enabled", hook.get("active", True))
    return set(KEEPTRUSTS_EVENTS) <= set(events) and enabled is not False


# -- Jira -----------------------------------------------------------------------------------


def jira_body(
    settings: JiraSettings, *, url: str, secret: str, jql: str, name: str
) -> dict[str, Any]:
    """Cloud (and DC 9) admin-webhook shape, or Data Center 10's (JQL in ``configuration``)."""
    if settings.flavor == "datacenter":
        configuration = {"FILTERS": jql, "EXCLUDE_BODY": "false", "secret": secret}
        return {
            "name": name,
            "url": url,
            "events": list(JIRA_EVENTS),
            "active": True,
            "configuration": configuration,
        }
    return {
        "name": name,
        "url": url,
        "events": list(JIRA_EVENTS),
        "filters": {JQL_SECTION: jql},
        "excludeBody": False,
        "secret": secret,
    }


async def register_jira_webhook(
    settings: Settings,
    *,
    public_url: str,
    projects: Sequence[str] = (),
    name: str = "kt-jira",
    replace: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Registration:
    """Register a Jira admin webhook (needs *Administer Jira*) with a secret and a JQL filter."""
    jira = settings.jira
    if jira.webhook_secret is None:
        raise ConfigError("jira.webhook_secret is not set: the admin webhook must be signed")
    url = bridge_url(public_url, JIRA_PATH)
    secret = jira.webhook_secret.reveal()
    jql = project_jql(list(projects) or [jira.project])
    body = jira_body(jira, url=url, secret=secret, jql=jql, name=name)
    async with (
        JiraClient(jira, pause=MemoryPauseStore(), transport=transport) as api,
        _redacting(secret),
    ):
        same = [h for h in await api.webhooks() if h.get("url") == url]
        current = same[0] if same else None
        if current is None:
            return _done("Jira webhook", "created", await api.create_webhook(body), url, jql)
        if not replace and _jira_same(current, body):
            return _done("Jira webhook", "already present", current, url, jql)
        updated = await api.update_webhook(_jira_id(current), body)
        return _done("Jira webhook", "updated", updated or current, url, jql)


def _jira_same(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    def shape(hook: dict[str, Any]) -> tuple[Any, ...]:
        config = hook.get("configuration") or {}
        jql = (hook.get("filters") or {}).get(JQL_SECTION) or config.get("FILTERS") or ""
        active = hook.get("enabled", hook.get("active", True)) not in (False, "false")
        return (sorted(hook.get("events") or []), jql, active)

    return shape(current) == shape(wanted)


def _jira_id(hook: dict[str, Any]) -> str:
    if hook.get("id") is not None:
        return str(hook["id"])
    return str(hook.get("self", "")).rstrip("/").rsplit("/", 1)[-1]


@asynccontextmanager
async def _redacting(secret: str) -> AsyncIterator[None]:
    """Errors leave without the webhook secret, even when a server echoes the request body."""
    try:
        yield
    except KtJiraError as exc:
        message = str(exc).replace(secret, "<redacted>") if secret else str(exc)
        if message == str(exc):
            raise
        raise KtJiraError(message) from None


def _done(
    target: str, outcome: Outcome, hook: dict[str, Any], url: str, detail: str
) -> Registration:
    events = hook.get("events", hook.get("event_types")) or []
    return Registration(
        target=target,
        outcome=outcome,
        webhook_id=_jira_id(hook) if hook else "",
        url=str(hook.get("url") or url),
        events=tuple(str(e) for e in events),
        detail=detail,
    )
