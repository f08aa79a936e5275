"""``Notifier``: the ``sla_notify`` handler, which POSTs the signed generic webhook or the Slack
incoming-webhook message. The one I/O module of SLA notifications (``notify`` decides what).

``_post`` is the one place httpx failures and the receivers' answers become kt_jira errors;
the worker retries or dead-letters them:

    RetryableError       not sent (connection refused, DNS, connect timeout), 408;
                         RateLimited for 429 (and 503 with Retry-After), honouring Retry-After
      UncertainOutcome   a timeout or broken connection after sending, 5xx: it may have arrived
                         (the retry carries the same ``webhook-id``, so a receiver can drop it)
    PermanentError       a redirect (never followed) and every other 4xx: the job dead-letters
    ConfigError          a webhook secret that is unavailable or not Standard Webhooks base64

Both URLs are secrets (a Slack webhook URL is its own credential), so no message, log line or
chained cause carries one: errors name the channel, the status and the config key instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from kt_jira.config.secrets import SecretRef
from kt_jira.config.sla import NotifySettings
from kt_jira.errors import (
    ConfigError,
    KtJiraError,
    PermanentError,
    RateLimited,
    RetryableError,
    UncertainOutcome,
)
from kt_jira.http import HttpSession, certificate_problem, outbound_client
from kt_jira.jira import retry_after_seconds
from kt_jira.jobs import Kind
from kt_jira.metrics import Metrics
from kt_jira.signing import SignatureScheme, sign
from kt_jira.sla.notify import (
    CHANNELS,
    SLACK,
    WEBHOOK,
    is_at_risk,
    slack_body,
    webhook_body,
    webhook_id,
)
from kt_jira.store import Job
from kt_jira.worker import Handler

log = structlog.get_logger("kt_jira.sla")
STANDARD_WEBHOOKS = SignatureScheme(kind="standard-webhooks", id_header="webhook-id")
EXCERPT_BYTES = 512  # of an error answer, for the message; the rest is never read
RETRY_AFTER_FLOOR_SECONDS = 1.0
_JSON = {"Content-Type": "application/json"}
_NAMES = {WEBHOOK: "the SLA webhook", SLACK: "Slack"}
# Failures where the request never left this process.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# Our own mistakes (a URL that is not http(s)): the same request would fail again.
_OUR_FAULT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)
_ADVICE = {
    WEBHOOK: {
        401: "the receiver refused the request: check it verifies with sla.notify.webhook.secret",
        403: "the receiver refused the request: check it verifies with sla.notify.webhook.secret",
        404: "no such endpoint: check {where}",
        410: "the endpoint is gone: check {where}",
    },
    SLACK: {
        400: "Slack refused the message; fix what it says, then replay the job",
        403: "the webhook may not post (action_prohibited, invalid_token): check {where}",
        404: "the webhook was removed or revoked (no_service, channel_not_found): create a new "
        "incoming webhook and set {where}",
        410: "the channel is archived: choose another channel and a webhook for it",
    },
}
_DEFAULT_ADVICE = "retrying cannot help: check {where} and the receiver, then replay the job"


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One POST: its channel, its URL (a secret), the body and the headers."""

    channel: str
    url: SecretRef
    body: bytes
    headers: Mapping[str, str]

    @property
    def where(self) -> str:
        """The config key holding the URL, for messages (never the URL itself)."""
        return self.url.where or f"sla.notify.{self.channel}.url"


@dataclass(kw_only=True)
class Notifier(HttpSession):
    """Runs ``sla_notify`` jobs; ``async with Notifier(...)`` opens its HTTP client.

    ``transport`` is the test seam (none: the network).
    """

    settings: NotifySettings
    clock: Callable[[], datetime]
    metrics: Metrics
    transport: httpx.AsyncBaseTransport | None = None

    def _connect(self) -> httpx.AsyncClient:
        return outbound_client(
            base_url="",
            timeout_seconds=self.settings.timeout_seconds,
            transport=self.transport,
            proxy=self.settings.proxy,
            ca_bundle=self.settings.ca_bundle,
        )

    def table(self) -> dict[str, Handler]:
        return {Kind.SLA_NOTIFY: self.send}

    async def send(self, job: Job) -> None:
        """Tell the job's channel about its event; a channel no longer configured (or an
        at-risk warning once ``sla.notify.at_risk`` is off) is skipped, not failed."""
        channel, event = _read(job)
        bound = log.bind(
            job_key=job.job_key,
            channel=channel,
            escalation_id=event.get("escalation_id"),
            target=event.get("target"),
            action=event.get("action"),
        )
        if is_at_risk(event) and not self.settings.at_risk:
            self._skip(bound, channel, "at-risk notifications are off (sla.notify.at_risk)")
            return
        try:
            delivery = self._delivery(job.job_key, channel, event)
            if delivery is None:
                self._skip(bound, channel, f"sla.notify.{channel} is not configured")
                return
            await self._post(delivery)
        except RetryableError:
            self._count(channel, "retry")
            raise
        except KtJiraError:
            self._count(channel, "failed")
            raise
        self._count(channel, "sent")
        bound.info("sla.notified")

    def _delivery(self, job_key: str, channel: str, event: Mapping[str, Any]) -> Delivery | None:
        """What to POST where; ``None`` when the channel is not configured (any more)."""
        slack, hook = self.settings.slack, self.settings.webhook
        if channel == SLACK and slack is not None:
            body = slack_body(event, channel=slack.channel)
            return Delivery(channel=SLACK, url=slack.url, body=body, headers=_JSON)
        if channel == WEBHOOK and hook is not None:
            body = webhook_body(event)
            headers = {**_JSON, **self._webhook_headers(job_key, body, hook.secret)}
            return Delivery(channel=WEBHOOK, url=hook.url, body=body, headers=headers)
        return None

    def _webhook_headers(
        self, job_key: str, body: bytes, secret: SecretRef | None
    ) -> dict[str, str]:
        """Standard Webhooks headers; without a secret, the id and time only (no signature)."""
        msg_id = webhook_id(job_key)
        stamp = int(self.clock().timestamp())
        if secret is None:
            return {"webhook-id": msg_id, "webhook-timestamp": str(stamp)}
        try:
            return sign(secret.reveal(), body, STANDARD_WEBHOOKS, timestamp=stamp, msg_id=msg_id)
        except ValueError as exc:
            where = secret.where or "sla.notify.webhook.secret"
            raise ConfigError(f"{where}: {exc}") from exc

    async def _post(self, delivery: Delivery) -> None:
        """Send ``delivery``; a 2xx returns, everything else raises (see the module's tree)."""
        if self._http is None:
            raise RuntimeError("Notifier is not open; use 'async with'")
        url = delivery.url.reveal()
        try:
            async with self._http.stream(
                "POST", url, content=delivery.body, headers=dict(delivery.headers)
            ) as response:
                if response.is_success:
                    return
                excerpt = _scrub(await _excerpt(response), url)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            log.warning("sla.notify_failed", channel=delivery.channel, error=type(exc).__name__)
            # Not chained: httpx's text may hold the URL; its type and scrubbed text are kept.
            raise _transport_error(exc, delivery, url) from None
        log.warning("sla.notify_rejected", channel=delivery.channel, status=response.status_code)
        raise _status_error(response, delivery, excerpt, now=self.clock())

    def _skip(self, bound: structlog.typing.FilteringBoundLogger, channel: str, why: str) -> None:
        bound.info("sla.notify_skipped", reason=why)
        self._count(channel, "skipped")

    def _count(self, channel: str, outcome: str) -> None:
        self.metrics.notifications.labels(channel=channel, outcome=outcome).inc()


def _read(job: Job) -> tuple[str, Mapping[str, Any]]:
    """The payload's channel and event (``jobs.SlaNotifyPayload``); a malformed one is
    permanent: retrying the same payload cannot help."""
    channel, event = job.payload.get("channel"), job.payload.get("event")
    if channel not in CHANNELS:
        raise PermanentError(
            f"sla_notify job {job.job_key}: channel {channel!r} is not one of {', '.join(CHANNELS)}"
        )
    if not isinstance(event, dict):
        raise PermanentError(f"sla_notify job {job.job_key}: its payload has no event object")
    return str(channel), event


def _transport_error(exc: Exception, delivery: Delivery, url: str) -> KtJiraError:
    name, kind = _NAMES[delivery.channel], type(exc).__name__
    said = _scrub(str(exc), url)
    head = f"{name} ({delivery.where}): {kind}" + (f": {said}" if said else "")
    untrusted = certificate_problem(exc)
    if untrusted is not None:
        return PermanentError(
            f"{name} ({delivery.where}): its TLS certificate is not trusted "
            f"({_scrub(untrusted, url)}); set sla.notify.ca_bundle to the PEM file of the CA "
            "that signs it"
        )
    if isinstance(exc, _NOT_SENT):
        return RetryableError(f"{head}; nothing was sent, it will be retried")
    if isinstance(exc, _OUR_FAULT):
        return PermanentError(f"{head}; check {delivery.where} (an https:// URL)")
    return UncertainOutcome(f"{head} after sending; it may have arrived, it will be retried")


def _status_error(
    response: httpx.Response, delivery: Delivery, excerpt: str, *, now: datetime
) -> KtJiraError:
    status, channel = response.status_code, delivery.channel
    head = f"{_NAMES[channel]} answered {status}" + (f" ({excerpt})" if excerpt else "")
    if status == 429 or (status == 503 and "retry-after" in response.headers):
        seconds = retry_after_seconds(response.headers, now=now, floor=RETRY_AFTER_FLOOR_SECONDS)
        return RateLimited(f"{head}; waiting {seconds:g} s", retry_after=seconds)
    if status == 408:
        return RetryableError(f"{head}; it will be retried")
    if status >= 500:
        return UncertainOutcome(f"{head}; it will be retried")
    if 300 <= status < 400:
        advice = f"a redirect, which is never followed: set {delivery.where} to the final URL"
    else:
        advice = _ADVICE[channel].get(status, _DEFAULT_ADVICE).format(where=delivery.where)
    return PermanentError(f"{head}; {advice}", status=status)


async def _excerpt(response: httpx.Response) -> str:
    """The start of an error answer, on one line; a long body is never read to its end."""
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= EXCERPT_BYTES:
            break
    text = " ".join(data[:EXCERPT_BYTES].decode("utf-8", "replace").split())
    return text[:200]


def _scrub(text: str, url: str) -> str:
    """``text`` without ``url`` or its path (a Slack webhook's path is its credential)."""
    path = urlsplit(url).path
    for secret in (url, url.rstrip("/"), path if len(path) > 1 else ""):
        if secret:
            text = text.replace(secret, "<url>")
    return text
