"""Jira webhook intake (``POST /webhooks/jira``): verify the raw body, persist, acknowledge.

``X-Hub-Signature: sha256=<hex>`` is checked against every configured secret (rotation). Jira
does not sign a time, so a body whose envelope ``timestamp`` is older than
``jira.webhook_max_age_seconds`` is a replay: 401, like a bad signature, and nothing is stored.
Dedup is on ``X-Atlassian-Webhook-Identifier`` (same across Jira's retries) and on the change
itself. Deliveries about issues no escalation is linked to are recorded as ignored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse

from kt_jira import jobs
from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError, PayloadError, SignatureError
from kt_jira.events.jira import JiraEvent, JiraEventType, parse_jira_event
from kt_jira.metrics import Metrics
from kt_jira.signing import JIRA_SCHEME, VerifiedDelivery, verify
from kt_jira.store import Store
from kt_jira.web.body import BodyTooLarge, read_limited
from kt_jira.web.keeptrusts import problem

log = structlog.get_logger("kt_jira.web")
DISABLED = (
    "Jira webhooks are disabled: set jira.webhook_secret (and the same secret on the Jira "
    "webhook) to enable them"
)


def jira_secrets(settings: Settings) -> list[str]:
    """Every accepted Jira webhook secret, current first."""
    found = []
    for ref in (settings.jira.webhook_secret, *settings.jira.webhook_secrets):
        if ref is None:
            continue
        try:
            found.append(ref.reveal())
        except ConfigError:
            continue  # unreadable (warned at start): it can verify nothing
    return found


@dataclass(kw_only=True)
class JiraIntake:
    settings: Settings
    store: Store
    metrics: Metrics
    on_enqueue: Callable[[], None]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def enabled(self) -> bool:
        return bool(jira_secrets(self.settings))

    async def handle(self, request: Request) -> JSONResponse:
        started = time.perf_counter()
        try:
            return await self._handle(request)
        finally:
            self.metrics.intake_seconds.labels(source="jira").observe(time.perf_counter() - started)

    async def _handle(self, request: Request) -> JSONResponse:
        if not self.enabled:
            return self._count("disabled", problem(404, DISABLED))
        limit = self.settings.server.max_body_bytes
        try:
            body = await read_limited(request, limit)
        except BodyTooLarge:
            return self._count("too_large", problem(413, f"body exceeds {limit} bytes"))
        try:
            delivery = verify(
                source="jira",
                body=body,
                headers=request.headers,
                secrets=jira_secrets(self.settings),
                scheme=JIRA_SCHEME,
                now=self.clock(),
            )
        except SignatureError as exc:
            # Logged (never the secrets or the body): a wrong secret after a rotation shows here.
            client = request.client.host if request.client else ""
            log.warning("webhook.unauthorized", source="jira", reason=str(exc), client=client)
            return self._count(
                "unauthorized", problem(401, f"{exc}: set the Jira webhook's secret")
            )
        try:
            event = parse_jira_event(body)
        except PayloadError as exc:
            row = await self.store.deliveries.quarantine(
                delivery, reason=str(exc), http_status=exc.status
            )
            log.warning("webhook.quarantined", source="jira", reason=str(exc), row=row)
            return self._count("quarantined", problem(exc.status, str(exc), quarantine_id=row))
        if self._too_old(event):
            return self._count(
                "too_old",
                problem(401, "delivery is older than jira.webhook_max_age_seconds: a replay?"),
            )
        return await self.record(delivery, event)

    def _too_old(self, event: JiraEvent) -> bool:
        limit = self.settings.jira.webhook_max_age_seconds
        if not limit or event.timestamp is None:
            return False
        return event.timestamp < self.clock() - timedelta(seconds=limit)

    async def record(self, delivery: VerifiedDelivery, event: JiraEvent) -> JSONResponse:
        """Record a parsed delivery (accepted, duplicate or ignored): the intake's last step and
        the admin replay's way in (``web/replay.py``)."""
        handled = event.type is not JiraEventType.OTHER
        job = jobs.jira_event(
            event.as_job(), delivery_id=delivery.delivery_id, run_at=delivery.received_at
        )
        outcome = await self.store.sync.ingest_jira(
            delivery,
            event_key=event.dedup_key,
            event_type=event.raw_type,
            issue_id=event.issue_id,
            labels=event.labels,
            job=job if handled else None,
        )
        if outcome.duplicate:
            return self._count("duplicate", JSONResponse({"status": "duplicate"}, 200))
        if outcome.enqueued:
            self.on_enqueue()
            log.info("webhook.accepted", source="jira", delivery_id=delivery.delivery_id,
                     event_type=event.raw_type, issue_id=event.issue_id)  # fmt: skip
            return self._count("accepted", JSONResponse({"status": "accepted"}, 202))
        body = {"status": "ignored", "event_type": event.raw_type}
        return self._count("ignored", JSONResponse(body, 202))

    def _count(self, outcome: str, response: JSONResponse) -> JSONResponse:
        self.metrics.deliveries.labels(source="jira", outcome=outcome).inc()
        return response
