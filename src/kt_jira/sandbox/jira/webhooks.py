"""The simulated Jira's webhook sender: every committed change, signed, to each registration.

Changes by people (``JiraSandbox.transition_issue``, ``assign_issue``, ``comment_issue``) and by
the bridge's own REST writes reach ``on_change`` through ``JiraState.listeners``. Each matching
admin webhook (``AdminWebhooks``, JQL filter applied) gets the Cloud payload (``timestamp``,
``webhookEvent``, ``user``, ``issue``, ``changelog``/``comment``; on Data Center the v2 shape,
users by key and name) signed as ``X-Hub-Signature: sha256=<hex>`` over the exact bytes, with an
``X-Atlassian-Webhook-Identifier`` kept across retries, delivered from a background task as Jira
does. Tests can hold deliveries and release them shuffled, send duplicates, or drop the ``user``
so only the bridge's echo window can recognise its own writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from kt_jira.sandbox.jira.admin_webhooks import AdminWebhook, AdminWebhooks
from kt_jira.sandbox.jira.dc import to_v2
from kt_jira.sandbox.jira.jql import JqlError, parse
from kt_jira.sandbox.jira.search import Compiler
from kt_jira.sandbox.jira.site import RESOLUTIONS
from kt_jira.sandbox.jira.state import JiraState, SandboxIssue
from kt_jira.sandbox.jira.views import comment_json, issue_json, user_json

JsonDict = dict[str, Any]
RETRY_STATUSES = frozenset({408, 409, 425, 429})  # and every 5xx, and no answer at all
ISSUE_SUMMARY_FIELDS = ["summary", "status", "issuetype", "priority", "labels", "project"]


@dataclass
class Delivery:
    """One webhook delivery to one registration; ``statuses`` has one entry per attempt."""

    hook_id: int
    url: str
    event: str
    identifier: str
    body: bytes
    secret: str = field(repr=False, default="")
    statuses: list[int | None] = field(default_factory=list)

    @property
    def payload(self) -> JsonDict:
        data: JsonDict = json.loads(self.body) if self.body else {}
        return data


class JiraWebhookSender:
    """Turns state changes into signed deliveries; ``await drain()`` waits for them to land."""

    def __init__(
        self,
        state: JiraState,
        hooks: AdminWebhooks,
        *,
        base_url: Callable[[], str],
        seed: int = 0,
    ) -> None:
        self.state = state
        self.hooks = hooks
        self.base_url = base_url
        self.sent: list[Delivery] = []  #: every delivery, in the order it was made
        self.duplicates = 0  #: extra copies of each delivery (same identifier), as Jira may send
        self.hold = False  #: keep deliveries until release()
        self.omit_user = False  #: leave out ``user`` (some payloads carry none)
        self.attempts = 4
        self.retry_delay = 0.05
        self._held: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._changelog_ids = itertools.count(20000)
        self._rng = random.Random(seed)

    # -- producing ----------------------------------------------------------------------------

    def on_change(self, event: str, issue: SandboxIssue, detail: JsonDict) -> None:
        """``JiraState`` listener: build the payload now (a snapshot), deliver it later."""
        for hook in self.hooks.for_event(event):
            if not self._matches(hook, issue):
                continue
            payload = self._payload(event, issue, detail)
            if self.state.flavor == "datacenter":  # users by key and name, v2 links
                payload = to_v2(payload, self.state, self.base_url())
            body = b"" if hook.exclude_body else json.dumps(payload).encode()
            delivery = Delivery(
                hook_id=hook.id,
                url=hook.url,
                event=event,
                identifier=str(uuid.uuid4()),
                body=body,
                secret=hook.secret,
            )
            self.sent.append(delivery)
            copies = [delivery] * (1 + self.duplicates)
            if self.hold:
                self._held.extend(copies)
            else:
                for copy in copies:
                    self._start(copy)

    def _matches(self, hook: AdminWebhook, issue: SandboxIssue) -> bool:
        if not hook.jql.strip():
            return True
        try:
            query = parse(hook.jql)
        except JqlError:
            return False
        if query.where is None:
            return True
        return Compiler(self.state, self.state.clock()).compile(query.where)(issue)

    def _payload(self, event: str, issue: SandboxIssue, detail: JsonDict) -> JsonDict:
        base = self.base_url()
        actor = str(detail.get("actor", ""))
        payload: JsonDict = {
            "timestamp": int(self.state.clock() * 1000),
            "webhookEvent": event,
        }
        user = user_json(self.state.users.get(actor), base)
        if user is not None and not self.omit_user:
            user.pop("emailAddress", None)  # webhook users carry no email
            payload["user"] = user
        if event == "comment_created":
            payload["comment"] = comment_json(self.state, detail["comment"], issue, base)
            payload["issue"] = issue_json(self.state, issue, base, ISSUE_SUMMARY_FIELDS)
            if self.omit_user:
                payload["comment"].pop("author", None)
                payload["comment"].pop("updateAuthor", None)
            return payload
        payload["issue"] = issue_json(self.state, issue, base)
        changes = list(detail.get("changes") or ())
        if event == "jira:issue_updated":
            items = [self._item(issue, change) for change in changes]
            payload["issue_event_type_name"] = _event_type_name(self.state, issue, changes)
            payload["changelog"] = {"id": str(next(self._changelog_ids)), "items": items}
        return payload

    def _item(self, issue: SandboxIssue, change: JsonDict) -> JsonDict:
        fid = str(change["field"])
        old, new = change.get("from"), change.get("to")
        workflow = self.state.workflow(issue)
        names: Callable[[object], str | None] = _text
        if fid == "status":
            names = lambda sid: workflow.status(str(sid)).name if sid else None  # noqa: E731
        elif fid == "resolution":
            names = lambda rid: next((r.name for r in RESOLUTIONS if r.id == rid), None)  # noqa: E731
        elif fid == "assignee":
            names = lambda aid: (  # noqa: E731
                self.state.users[str(aid)].display_name if aid in self.state.users else None
            )
        fdef = self.state.site.field(fid)
        return {
            "field": fid if fdef is None or not fdef.is_custom else fdef.name,
            "fieldtype": "custom" if fdef is not None and fdef.is_custom else "jira",
            "fieldId": fid,
            "from": None if old is None or fid == "labels" else str(old),
            "fromString": names(old),
            "to": None if new is None or fid == "labels" else str(new),
            "toString": names(new),
        }

    # -- delivering ---------------------------------------------------------------------------

    def _start(self, delivery: Delivery) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # changed outside any event loop: deliver on release()
            self._held.append(delivery)
            return
        task = loop.create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def release(self, *, order: Literal["fifo", "reverse", "shuffle"] = "fifo") -> None:
        """Send what was held, in ``order`` (``shuffle`` is seeded), one after the other."""
        held, self._held = self._held, []
        if order == "reverse":
            held.reverse()
        elif order == "shuffle":
            self._rng.shuffle(held)
        for delivery in held:
            await self._deliver(delivery)

    def discard(self) -> int:
        """Forget what was held, as a Jira that gave up on an unreachable receiver; returns how
        many deliveries were lost."""
        lost, self._held = len(self._held), []
        return lost

    async def drain(self) -> None:
        """Wait until every delivery started so far has finished (including retries)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @property
    def held(self) -> int:
        return len(self._held)

    async def _deliver(self, delivery: Delivery) -> None:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Atlassian Webhook HTTP Client",
            "X-Atlassian-Webhook-Identifier": delivery.identifier,
            "X-Atlassian-Webhook-Flow": "Primary",
        }
        if delivery.secret:
            digest = hmac.new(delivery.secret.encode(), delivery.body, hashlib.sha256)
            headers["X-Hub-Signature"] = "sha256=" + digest.hexdigest()
        async with httpx.AsyncClient(timeout=5.0) as client:
            for attempt in range(self.attempts):
                if attempt:
                    headers["X-Atlassian-Webhook-Retry"] = str(attempt)
                    await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
                status: int | None = None
                with contextlib.suppress(httpx.TransportError):
                    response = await client.post(
                        delivery.url, content=delivery.body, headers=headers
                    )
                    status = response.status_code
                delivery.statuses.append(status)
                if status is not None and status < 500 and status not in RETRY_STATUSES:
                    return


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _event_type_name(state: JiraState, issue: SandboxIssue, changes: list[JsonDict]) -> str:
    fields = {str(c["field"]) for c in changes}
    if "status" in fields:
        workflow = state.workflow(issue)
        change = next(c for c in changes if c["field"] == "status")
        before = workflow.status(str(change["from"])).category if change.get("from") else ""
        after = workflow.status(str(change["to"])).category
        if after == "done" and before != "done":
            return "issue_resolved"
        if before == "done" and after != "done":
            return "issue_reopened"
        return "issue_generic"
    if fields == {"assignee"}:
        return "issue_assigned"
    return "issue_updated"
