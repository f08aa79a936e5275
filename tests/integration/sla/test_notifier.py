"""The ``sla_notify`` handler over real loopback HTTP: the signed generic webhook, the Slack
message, and how each failure of a receiver becomes a retry or a dead letter without the
(secret) URL ever appearing in an error."""

from __future__ import annotations

import base64
import contextlib
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kt_jira import jobs
from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import WorkerSettings
from kt_jira.config.secrets import SecretRef
from kt_jira.errors import (
    ConfigError,
    PermanentError,
    RateLimited,
    RetryableError,
    SignatureError,
    UncertainOutcome,
)
from kt_jira.metrics import Metrics
from kt_jira.retry import describe_error
from kt_jira.sandbox import serve_app
from kt_jira.signing import Verifier
from kt_jira.sla.notifier import Notifier
from kt_jira.sla.notify import slack_message, webhook_body, webhook_id
from kt_jira.store import JobStatus, open_store
from kt_jira.worker import Worker
from tests.support.notifications import STANDARD, Receiver, as_claimed, sample_event

NOW = datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"sla-webhook-secret-24byte").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-secret-of-24-byte").decode()
SLACK_PATH = "/services/T0001/B0001/slackTokenThatIsASecret"


class Ticking:
    """A clock the test moves; the notifier, the receiver and the worker share it."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Ticking:
    return Ticking()


@pytest.fixture
async def receiver(clock: Ticking) -> AsyncIterator[tuple[Receiver, str]]:
    """A loopback receiver and its base URL."""
    served = Receiver(clock=clock)
    async with serve_app(served.app) as base:
        yield served, base


@contextlib.asynccontextmanager
async def opened(
    notify: dict[str, Any], clock: Ticking, metrics: Metrics | None = None
) -> AsyncIterator[Notifier]:
    """A ``Notifier`` for the ``sla.notify`` section ``notify``, loaded like a config file."""
    settings = settings_from_dict({"sla": {"notify": {"timeout_seconds": 2, **notify}}})
    notifier = Notifier(settings=settings.sla.notify, clock=clock, metrics=metrics or Metrics())
    async with notifier:
        yield notifier


def webhook(url: str, secret: str | None = SECRET) -> dict[str, Any]:
    hook: dict[str, Any] = {"url": SecretRef.literal(url)}
    if secret is not None:
        hook["secret"] = SecretRef.literal(secret)
    return {"webhook": hook}


def slack(url: str, channel: str | None = "#ai-critical") -> dict[str, Any]:
    return {"slack": {"url": SecretRef.literal(url), "channel": channel}}


def counted(metrics: Metrics, channel: str, outcome: str) -> float:
    labels = {"channel": channel, "outcome": outcome}
    return metrics.registry.get_sample_value("kt_jira_sla_notifications_total", labels) or 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_the_webhook_arrives_signed_and_the_receiver_verifies_it(
    receiver: tuple[Receiver, str], clock: Ticking
) -> None:
    """The body is the event; webhook-id comes from the job key; the signature verifies with
    kt_jira.signing, and fails with another secret."""
    served, base = receiver
    served.secrets = (SECRET,)
    new = jobs.sla_notify("webhook", sample_event(), run_at=NOW)
    metrics = Metrics()
    async with opened(webhook(f"{base}/hooks/sla"), clock, metrics) as notifier:
        await notifier.send(as_claimed(new))
    [got] = served.received
    assert (got.path, got.verified_by) == ("/hooks/sla", "secret[0]")
    assert got.body == webhook_body(sample_event())
    assert got.json() == sample_event()
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == webhook_id(new.job_key)
    assert got.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert got.headers["webhook-signature"].startswith("v1,")
    with pytest.raises(SignatureError):
        Verifier(STANDARD, (OTHER_SECRET,)).verify(
            source="keeptrusts", body=got.body, headers=got.headers, now=NOW
        )
    assert counted(metrics, "webhook", "sent") == 1


async def test_a_receiver_holding_another_secret_refuses_and_the_job_dead_letters(
    receiver: tuple[Receiver, str], clock: Ticking
) -> None:
    """A receiver verifying with another secret answers 401: permanent, and the message says
    which key to check."""
    served, base = receiver
    served.secrets = (OTHER_SECRET,)
    new = jobs.sla_notify("webhook", sample_event(), run_at=NOW)
    async with opened(webhook(f"{base}/hooks/sla"), clock) as notifier:
        with pytest.raises(PermanentError) as caught:
            await notifier.send(as_claimed(new))
    assert caught.value.status == 401
    assert "sla.notify.webhook.secret" in str(caught.value)
    assert served.received[0].verified_by is None


async def test_a_retried_job_keeps_its_webhook_id(
    receiver: tuple[Receiver, str], clock: Ticking
) -> None:
    """A 500 is retryable; the retry, a minute later, carries the same webhook-id, a new
    timestamp and a signature that verifies."""
    served, base = receiver
    served.secrets = (SECRET,)
    served.fail(500)
    new = jobs.sla_notify("webhook", sample_event(), run_at=NOW)
    async with opened(webhook(f"{base}/hooks/sla"), clock) as notifier:
        with pytest.raises(RetryableError):
            await notifier.send(as_claimed(new, attempts=1))
        clock.now += timedelta(minutes=1)
        await notifier.send(as_claimed(new, attempts=2))
    first, second = served.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == webhook_id(new.job_key)
    assert first.headers["webhook-timestamp"] != second.headers["webhook-timestamp"]
    assert (first.verified_by, second.verified_by) == ("secret[0]", "secret[0]")


async def test_without_a_secret_the_webhook_is_unsigned(
    receiver: tuple[Receiver, str], clock: Ticking
) -> None:
    """No webhook-signature header; the id and timestamp still let a receiver de-duplicate."""
    served, base = receiver
    new = jobs.sla_notify("webhook", sample_event(), run_at=NOW)
    async with opened(webhook(f"{base}/hooks/sla", secret=None), clock) as notifier:
        await notifier.send(as_claimed(new))
    [got] = served.received
    assert "webhook-signature" not in got.headers
    assert got.headers["webhook-id"] == webhook_id(new.job_key)
    assert got.json() == sample_event()


async def test_a_secret_that_is_not_base64_is_a_config_error_naming_its_key(
    receiver: tuple[Receiver, str], clock: Ticking
) -> None:
    """A Standard Webhooks secret must be base64: ConfigError (a dead letter), nothing sent."""
    served, base = receiver
    metrics = Metrics()
    new = jobs.sla_notify("webhook", sample_event(), run_at=NOW)
    hook = webhook(f"{base}/hooks/sla", secret="not base64!")
    async with opened(hook, clock, metrics) as notifier:
        with pytest.raises(ConfigError, match=r"^sla\.notify\.webhook\.secret: "):
            await notifier.send(as_claimed(new))
    assert served.received == []
    assert counted(metrics, "webhook", "failed") == 1


async def test_slack_receives_the_incoming_webhook_message(
    receiver: tuple[Receiver, str], clock: Ticking
) -> None:
    """Slack gets text, blocks and the configured channel, as JSON, at the webhook's path."""
    served, base = receiver
    new = jobs.sla_notify("slack", sample_event(), run_at=NOW)
    async with opened(slack(f"{base}{SLACK_PATH}"), clock) as notifier:
        await notifier.send(as_claimed(new))
    [got] = served.received
    assert got.path == SLACK_PATH
    assert got.headers["content-type"] == "application/json"
    assert got.json() == slack_message(sample_event(), channel="#ai-critical")
    assert [block["type"] for block in got.json()["blocks"]] == ["section", "section", "context"]
    assert "webhook-signature" not in got.headers


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_server_error_is_retryable(
    receiver: tuple[Receiver, str], clock: Ticking, status: int
) -> None:
    """5xx: the message may have arrived, so it is an uncertain outcome, retried."""
    served, base = receiver
    served.fail(status, body="upstream failed")
    metrics = Metrics()
    new = jobs.sla_notify("slack", sample_event(), run_at=NOW)
    async with opened(slack(f"{base}{SLACK_PATH}"), clock, metrics) as notifier:
        with pytest.raises(UncertainOutcome, match=f"Slack answered {status}"):
            await notifier.send(as_claimed(new))
    assert counted(metrics, "slack", "retry") == 1


async def test_a_429_waits_as_long_as_retry_after_says(
    receiver: tuple[Receiver, str], clock: Ticking
) -> None:
    """Slack's rate limit: RateLimited carrying Retry-After, which the worker honours."""
    served, base = receiver
    served.fail(429, body="rate_limited", Retry_After="7")
    new = jobs.sla_notify("slack", sample_event(), run_at=NOW)
    async with opened(slack(f"{base}{SLACK_PATH}"), clock) as notifier:
        with pytest.raises(RateLimited) as caught:
            await notifier.send(as_claimed(new))
    assert caught.value.retry_after == 7


@pytest.mark.parametrize(("status", "says"), [(404, "no_service"), (403, "invalid_token")])
async def test_a_client_error_is_permanent_and_never_shows_the_url(
    receiver: tuple[Receiver, str], clock: Ticking, status: int, says: str
) -> None:
    """404/403: PermanentError naming Slack, the status, Slack's reason and the config key;
    neither the message nor the dead letter's text holds the URL or its token."""
    served, base = receiver
    served.fail(status, body=f"{says} for {base}{SLACK_PATH}")  # even if the receiver echoes it
    metrics = Metrics()
    new = jobs.sla_notify("slack", sample_event(), run_at=NOW)
    async with opened(slack(f"{base}{SLACK_PATH}"), clock, metrics) as notifier:
        with pytest.raises(PermanentError) as caught:
            await notifier.send(as_claimed(new))
    text = describe_error(caught.value)
    assert caught.value.status == status
    assert f"Slack answered {status} ({says}" in text
    assert "sla.notify.slack.url" in text
    assert SLACK_PATH not in text
    assert "slackTokenThatIsASecret" not in text
    assert counted(metrics, "slack", "failed") == 1


async def test_a_refused_connection_is_retryable_and_nothing_was_sent(clock: Ticking) -> None:
    """Nobody listening: RetryableError (not an uncertain outcome), without the URL."""
    url = f"http://127.0.0.1:{free_port()}{SLACK_PATH}"
    new = jobs.sla_notify("slack", sample_event(), run_at=NOW)
    async with opened(slack(url), clock) as notifier:
        with pytest.raises(RetryableError) as caught:
            await notifier.send(as_claimed(new))
    assert not isinstance(caught.value, UncertainOutcome)
    assert "nothing was sent" in str(caught.value)
    assert SLACK_PATH not in describe_error(caught.value)


async def test_a_timeout_after_sending_is_an_uncertain_outcome(
    receiver: tuple[Receiver, str], clock: Ticking
) -> None:
    """The receiver got it but did not answer in time: retried, flagged as maybe delivered."""
    served, base = receiver
    served.delay = 0.5
    new = jobs.sla_notify("webhook", sample_event(), run_at=NOW)
    hook = {**webhook(f"{base}/hooks/sla"), "timeout_seconds": 0.1}
    async with opened(hook, clock) as notifier:
        with pytest.raises(UncertainOutcome, match="may have arrived"):
            await notifier.send(as_claimed(new))
    assert len(served.received) == 1


async def test_a_channel_no_longer_configured_finishes_without_sending(
    receiver: tuple[Receiver, str], clock: Ticking
) -> None:
    """A Slack job after Slack was removed from the config: skipped, counted, no error; an
    at-risk job after at_risk was turned off likewise."""
    served, base = receiver
    metrics = Metrics()
    to_slack = jobs.sla_notify("slack", sample_event(), run_at=NOW)
    warning = jobs.sla_notify("webhook", sample_event(action="at_risk"), run_at=NOW)
    async with opened(webhook(f"{base}/hooks/sla"), clock, metrics) as notifier:
        await notifier.send(as_claimed(to_slack))
        await notifier.send(as_claimed(warning))
    assert served.received == []
    assert counted(metrics, "slack", "skipped") == counted(metrics, "webhook", "skipped") == 1


async def test_an_unknown_channel_is_permanent(clock: Ticking) -> None:
    """A payload naming no known channel cannot succeed on a retry."""
    new = jobs.sla_notify("pager", sample_event(), run_at=NOW)
    async with opened({}, clock) as notifier:
        with pytest.raises(PermanentError, match="'pager' is not one of webhook, slack"):
            await notifier.send(as_claimed(new))


async def test_through_the_worker_a_404_dead_letters_and_a_503_is_retried(
    receiver: tuple[Receiver, str], clock: Ticking
) -> None:
    """On a real store and worker: Slack's 404 leaves a dead job whose error names Slack and
    404 but not the URL; the webhook's 503 is retried later and then done, under one id."""
    served, base = receiver
    served.secrets = (SECRET,)
    served.fail(503)
    slack_side = Receiver(clock=clock)
    slack_side.fail(404, body="no_service")
    metrics = Metrics()
    event = sample_event()
    to_webhook = jobs.sla_notify("webhook", event, run_at=NOW)
    to_slack = jobs.sla_notify("slack", event, run_at=NOW)
    async with (
        serve_app(slack_side.app) as slack_base,
        opened(
            {**webhook(f"{base}/hooks/sla"), **slack(slack_base + SLACK_PATH)}, clock, metrics
        ) as notifier,
        open_store("sqlite:///:memory:") as store,
    ):
        await store.db.migrate()
        worker = Worker(
            store=store,
            handlers=notifier.table(),
            settings=WorkerSettings(),
            metrics=metrics,
            clock=clock,
        )
        for new in (to_webhook, to_slack):
            assert await store.queue.enqueue(new)
        while await worker.run_once():  # the webhook: 503, retried later; Slack: 404, dead
            pass
        clock.now += timedelta(minutes=15)
        assert await worker.run_once()  # the webhook again
        assert not await worker.run_once()
        webhook_job = await store.queue.by_key(to_webhook.job_key)
        slack_job = await store.queue.by_key(to_slack.job_key)
    assert webhook_job is not None
    assert slack_job is not None
    assert (webhook_job.status, webhook_job.attempts) == (JobStatus.DONE, 2)
    assert slack_job.status is JobStatus.DEAD
    assert slack_job.last_error is not None
    assert "Slack answered 404 (no_service)" in slack_job.last_error
    assert SLACK_PATH not in slack_job.last_error
    assert [got.headers["webhook-id"] for got in served.received] == [
        webhook_id(to_webhook.job_key)
    ] * 2
    assert [got.verified_by for got in served.received] == ["secret[0]"] * 2
    assert counted(metrics, "webhook", "sent") == counted(metrics, "slack", "failed") == 1
    assert (
        metrics.registry.get_sample_value(
            "kt_jira_jobs_total", {"kind": "sla_notify", "outcome": "dead"}
        )
        == 1
    )
