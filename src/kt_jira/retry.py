"""The retry policy: when a failed job runs again, or ``None`` to dead-letter it. Pure.

Permanent failures (a draft Jira will refuse, a configuration error, a 4xx that no retry fixes)
go straight to the dead letters; retryable ones back off exponentially with jitter, and honour
Jira's ``Retry-After`` when it sent one. ``describe_error`` is the text a dead letter keeps.
Modelled on procrastinate's ``retry.py``: the worker asks, this module decides; no clock, no I/O.
"""

from __future__ import annotations

import random
import traceback
from datetime import datetime, timedelta

from kt_jira.config.models import WorkerSettings
from kt_jira.errors import ConfigError, DraftError, PermanentError, RetryableError


def retry_at(
    *,
    exception: BaseException,
    attempts: int,
    settings: WorkerSettings,
    now: datetime,
    rng: random.Random,
) -> datetime | None:
    """When to run a failed job again, or ``None`` to dead-letter it. Pure."""
    if isinstance(exception, PermanentError | DraftError | ConfigError):
        return None
    if attempts >= settings.max_attempts:
        return None
    if isinstance(exception, RetryableError) and exception.retry_after is not None:
        # Jira said when: wait at least that long, plus a little spread so workers don't stampede.
        return now + timedelta(seconds=exception.retry_after * rng.uniform(1.0, 1.1))
    delay = min(
        settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** max(0, attempts - 1)
    )
    return now + timedelta(seconds=delay * rng.uniform(0.7, 1.3))


def describe_error(exception: BaseException) -> str:
    """The full error for the dead-letter record: type, message and the chain of causes."""
    if isinstance(exception, PermanentError | DraftError | RetryableError | ConfigError):
        parts = [f"{type(exception).__name__}: {exception}"]
        cause = exception.__cause__
        while cause is not None:
            parts.append(f"caused by {type(cause).__name__}: {cause}")
            cause = cause.__cause__
        return "\n".join(parts)
    return "".join(traceback.format_exception(exception)).strip()
