"""Webhook intake: verify the raw body, persist, acknowledge. Nothing else happens here.

401 stores nothing; a signed body that cannot be used is quarantined (400/422) so it can be
inspected and replayed; a good one is recorded with its escalation and jobs in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse

from kt_jira import jobs as job_contract
from kt_jira.config.models import KeeptrustsWebhookSettings, Settings
from kt_jira.errors import ConfigError, PayloadError, SignatureError
from kt_jira.events.keeptrusts import EscalationEvent, EventType, parse_event
from kt_jira.metrics import Metrics
from kt_jira.signing import SecretFormatError, SignatureScheme, VerifiedDelivery, Verifier
from kt_jira.store import Store
from kt_jira.web.body import BodyTooLarge, read_limited

log = structlog.get_logger("kt_jira.web")


def keeptrusts_verifier(
    webhook: KeeptrustsWebhookSettings, secrets: Sequence[str] | None = None
) -> Verifier:
    """The verifier for ``keeptrusts.webhook`` (with its secrets as revealed, or ``secrets``
    already revealed from them); ``ConfigError`` naming the key of a bad secret."""
    sig = webhook.signature
    scheme = SignatureScheme(
        kind=sig.scheme,
        header=sig.header,
        encoding=sig.encoding,
        timestamp_header=sig.timestamp_header,
        tolerance_seconds=sig.tolerance_seconds,
        id_header=sig.delivery_id_header,
    )
    if secrets is None:
        secrets = [secret.reveal() for secret in webhook.secrets]
    try:
        return Verifier(scheme, tuple(secrets))
    except SecretFormatError as exc:
        raise ConfigError(f"{webhook.secrets[exc.index].where}: {exc.reason}") from exc


def problem(status: int, detail: str, **extra: object) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


@dataclass(kw_only=True)
class KeeptrustsIntake:
    settings: Settings
    store: Store
    metrics: Metrics
    on_enqueue: Callable[[], None]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _built: tuple[tuple[str, ...], Verifier] | None = field(default=None, init=False, repr=False)

    @property
    def verifier(self) -> Verifier:
        """The verifier of the secrets as they are now: built again when a revealed value
        changes (a rotated ``file:`` or ``ssm:`` secret), else kept. Revealing is cheap (a
        cached value, a stat for ``file:``, a TTL for ``ssm:``), so this runs per request."""
        webhook = self.settings.keeptrusts.webhook
        secrets = tuple(secret.reveal() for secret in webhook.secrets)
        if self._built is None or self._built[0] != secrets:
            self._built = (secrets, keeptrusts_verifier(webhook, secrets))
        return self._built[1]

    async def handle(self, request: Request) -> JSONResponse:
        started = time.perf_counter()
        try:
            response = await self._handle(request)
        finally:
            self.metrics.intake_seconds.labels(source="keeptrusts").observe(
                time.perf_counter() - started
            )
        return response

    async def _handle(self, request: Request) -> JSONResponse:
        webhook = self.settings.keeptrusts.webhook
        try:
            body = await read_limited(request, self.settings.server.max_body_bytes)
        except BodyTooLarge:
            return self._count(
                "too_large",
                problem(413, f"body exceeds {self.settings.server.max_body_bytes} bytes"),
            )
        try:
            verifier = self.verifier
        except ConfigError as exc:
            # A secret that cannot be read now (a file mid-replacement, a new one SSM refuses):
            # nothing is stored, and a 503 makes the sender retry rather than give up.
            log.error("webhook.secrets_unreadable", source="keeptrusts", error=str(exc))
            return self._count(
                "unavailable", problem(503, "the webhook secrets cannot be read; retry later")
            )
        try:
            delivery = verifier.verify(
                source="keeptrusts",
                body=body,
                headers=request.headers,
                now=self.clock(),
                allow_unsigned=webhook.insecure_allow_unsigned,
            )
        except SignatureError as exc:
            # Logged (never the secrets or the body): a wrong secret after a rotation shows here.
            client = request.client.host if request.client else ""
            log.warning("webhook.unauthorized", source="keeptrusts", reason=str(exc), client=client)
            return self._count(
                "unauthorized", problem(401, f"{exc}: sign the raw body with the webhook secret")
            )
        try:
            event = parse_event(body)
        except PayloadError as exc:
            row = await self.store.deliveries.quarantine(
                delivery, reason=str(exc), http_status=exc.status
            )
            log.warning(
                "webhook.quarantined", delivery_id=delivery.delivery_id, reason=str(exc), row=row
            )
            return self._count("quarantined", problem(exc.status, str(exc), quarantine_id=row))
        return await self.record(delivery, event)

    async def record(self, delivery: VerifiedDelivery, event: EscalationEvent) -> JSONResponse:
        """Record a parsed delivery (accepted, duplicate or ignored): the intake's last step and
        the admin replay's way in (``web/replay.py``)."""
        if event.type is EventType.OTHER or event.escalation is None:
            await self.store.deliveries.record_ignored(delivery, event_type=event.raw_type)
            return self._count(
                "ignored", JSONResponse({"status": "ignored", "event_type": event.raw_type}, 202)
            )
        jobs = []
        if event.type is EventType.CREATED:
            jobs.append(
                job_contract.create_issue(
                    event.escalation.escalation_id, run_at=delivery.received_at
                )
            )
        elif event.type in (EventType.RESOLVED, EventType.EXPIRED):
            # Outbound sync; its handler knows an echo of the bridge's own resolve.
            escalation_id = event.escalation.escalation_id
            jobs.append(job_contract.resolve_jira(escalation_id, run_at=delivery.received_at))
        outcome = await self.store.deliveries.ingest(
            delivery,
            event_key=event.dedup_key,
            escalation=event.escalation,
            resolution=event.resolution,
            event_type=event.type.value,
            jobs=jobs,
        )
        if outcome.duplicate:
            return self._count("duplicate", JSONResponse({"status": "duplicate"}, 200))
        if jobs:
            self.on_enqueue()
        log.info("webhook.accepted", delivery_id=delivery.delivery_id, event_type=event.type.value,
                 escalation_id=event.escalation.escalation_id)  # fmt: skip
        return self._count("accepted", JSONResponse({"status": "accepted"}, 202))

    def _count(self, outcome: str, response: JSONResponse) -> JSONResponse:
        self.metrics.deliveries.labels(source="keeptrusts", outcome=outcome).inc()
        return response
