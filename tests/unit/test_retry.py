"""The worker's pure retry decision."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from kt_jira.config.models import WorkerSettings
from kt_jira.errors import DraftError, PermanentError, RateLimited, RetryableError, UncertainOutcome
from kt_jira.retry import describe_error, retry_at

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SETTINGS = WorkerSettings(backoff_base_seconds=2, backoff_max_seconds=600, max_attempts=5)


def _at(exc: BaseException, attempts: int) -> datetime | None:
    return retry_at(
        exception=exc, attempts=attempts, settings=SETTINGS, now=NOW, rng=random.Random(7)
    )


@pytest.mark.parametrize("exc", [PermanentError("400", status=400), DraftError("no field")])
def test_permanent_failures_are_dead_at_once(exc: Exception) -> None:
    """Permanent errors and drafts the project cannot take are dead on the first try."""
    assert _at(exc, 1) is None


def test_retry_after_is_honoured_as_a_minimum() -> None:
    """A Retry-After from Jira is waited out in full (plus at most 10 % spread)."""
    when = _at(RateLimited("429", retry_after=30), 1)
    assert when is not None
    assert NOW + timedelta(seconds=30) <= when <= NOW + timedelta(seconds=33)


def test_exponential_backoff_with_jitter_and_cap() -> None:
    """Other transient errors back off exponentially, with ±30 % jitter, capped."""
    first, third = _at(RetryableError("503"), 1), _at(UncertainOutcome("timeout"), 3)
    assert first is not None
    assert third is not None
    assert timedelta(seconds=1.4) <= first - NOW <= timedelta(seconds=2.6)
    assert timedelta(seconds=5.6) <= third - NOW <= timedelta(seconds=10.4)
    big = retry_at(
        exception=RetryableError("x"),
        attempts=4,
        now=NOW,
        rng=random.Random(1),
        settings=WorkerSettings(backoff_base_seconds=100, backoff_max_seconds=60, max_attempts=9),
    )
    assert big is not None
    assert big - NOW <= timedelta(seconds=78)


def test_attempts_run_out() -> None:
    """After max_attempts even a retryable error is dead-lettered."""
    assert _at(RetryableError("503"), 5) is None
    assert _at(ValueError("a bug"), 4) is not None


def test_dead_letter_keeps_the_cause_chain() -> None:
    """The dead-letter text names the error and every cause."""
    try:
        try:
            raise OSError("connection reset")
        except OSError as inner:
            raise UncertainOutcome("POST /issue may have been applied") from inner
    except UncertainOutcome as exc:
        text = describe_error(exc)
    assert "UncertainOutcome: POST /issue may have been applied" in text
    assert "caused by OSError: connection reset" in text
