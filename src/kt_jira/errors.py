"""The one error hierarchy of kt-jira.

Client modules (``jira/``, ``keeptrusts/``) decide retryable vs permanent; everything else only
catches. Text shown to users says what to do next, and never carries a secret.

    KtJiraError
    ├── ConfigError                  bad or missing configuration (startup, check-config)
    ├── SignatureError               webhook signature missing or wrong (answer 401)
    ├── PayloadError                 signed body is not JSON (400) or not a valid event (422)
    ├── DraftError                   the issue draft does not fit the Jira project (permanent)
    ├── Deferred                     not a failure: run the job again at ``run_at``
    ├── Conflict                     another writer changed the same fact first: read again
    ├── RetryableError               try again later (429, 502, 503, 504, network)
    │   ├── RateLimited              Jira said 429/503 with Retry-After: ``retry_after`` seconds
    │   └── UncertainOutcome         the request may have been applied (timeout after send, 5xx)
    └── PermanentError               retrying cannot help (400, 401, 403, 404, 409, 422)
"""

from __future__ import annotations

from datetime import datetime


class KtJiraError(Exception):
    """Root of every error kt-jira raises on purpose."""


class ConfigError(KtJiraError):
    """The configuration is invalid; the message names the key, the file and the line."""


class SignatureError(KtJiraError):
    """A webhook delivery has no valid signature."""


class PayloadError(KtJiraError):
    """A signed webhook body cannot be used; ``status`` is 400 (not JSON) or 422 (not an event)."""

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class DraftError(KtJiraError):
    """A draft the project cannot take: a field, priority or issue type it does not accept."""


class Deferred(KtJiraError):
    """Not a failure: the job must wait (e.g. for search to become consistent) until ``run_at``."""

    def __init__(self, message: str, *, run_at: datetime) -> None:
        super().__init__(message)
        self.run_at = run_at


class Conflict(KtJiraError):
    """Another writer (a second worker or replica) changed the same database fact at the same
    moment; reading again and retrying at once resolves it (the store raises it, callers
    retry)."""


class RetryableError(KtJiraError):
    """A transient failure: the job is retried with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(RetryableError):
    """The remote asked us to wait ``retry_after`` seconds before any further call."""


class UncertainOutcome(RetryableError):
    """The request may have taken effect: never repeat a create without searching first."""


class PermanentError(KtJiraError):
    """A failure that retrying cannot fix; the job goes to the dead-letter state."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
