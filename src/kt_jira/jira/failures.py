"""Translate httpx failures and Jira's error answers into the kt_jira error tree.

Pure functions used only by ``JiraClient._request``. The rule: a request that was certainly not
applied is ``RetryableError``; a write that may have been applied is ``UncertainOutcome``;
a refusal that retrying cannot fix is ``PermanentError``, whose text says what to do next.
Messages carry Jira's own words verbatim, and never a header or a secret.
"""

from __future__ import annotations

import httpx

from kt_jira.errors import (
    KtJiraError,
    PermanentError,
    RateLimited,
    RetryableError,
    UncertainOutcome,
)
from kt_jira.http import certificate_problem

# Failures where the request never left this process.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# Our own mistakes: the same request would fail again.
_OUR_FAULT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.TooManyRedirects)

_ADVICE = {
    400: "fix the rule or the project configuration it names, then replay the job",
    401: "Jira did not accept the credentials: check jira.email and jira.api_token (Cloud), "
    "jira.pat (Data Center) or jira.oauth (a service account), and whether the token has expired",
    403: "the bot account lacks a permission: grant it 'Browse projects' and 'Create issues' "
    "(and 'Transition issues', 'Add comments' for sync; 'Edit issues', 'Assign issues' and "
    "'Link issues' for labels, assignment and links) in the project's permission scheme",
    404: "the project or issue does not exist or is not visible to the bot account: check "
    "the project key and that the bot account can browse it",
    409: "Jira reported a conflict with the current state; check the issue, then replay the job",
    410: "this Jira API was removed: upgrade kt-jira (search now uses /rest/api/3/search/jql)",
    413: "the request is too large for Jira: shorten the description or the field values",
    422: "a configuration problem in the project prevents it: check the project's screens, "
    "workflow and required fields",
}
_UNCERTAIN = "the write may have been applied, so it must not be repeated without checking first"


def transport_error(exc: httpx.HTTPError, *, what: str, idempotent: bool) -> KtJiraError:
    kind = type(exc).__name__
    untrusted = certificate_problem(exc)
    if untrusted is not None:
        return PermanentError(
            f"cannot send {what}: Jira's TLS certificate is not trusted ({untrusted}); set "
            "jira.ca_bundle to the PEM file of the CA that signs it (e.g. a TLS-inspecting "
            "proxy's CA), or check jira.url"
        )
    if isinstance(exc, httpx.ProxyError):
        return RetryableError(
            f"the proxy refused {what} ({kind}: {exc}); the request was not sent. Check "
            "jira.proxy (its URL and credentials); it will be retried"
        )
    if isinstance(exc, _NOT_SENT):
        return RetryableError(
            f"could not reach Jira for {what} ({kind}: {exc}); the request was not sent. "
            "Check jira.url and the network; it will be retried"
        )
    if isinstance(exc, _OUR_FAULT):
        return PermanentError(
            f"cannot send {what} ({kind}: {exc}); check jira.url (https://<site>.atlassian.net)"
        )
    if idempotent:
        return RetryableError(f"{what} failed after it was sent ({kind}: {exc}); it is retried")
    return UncertainOutcome(f"{what} failed after it was sent ({kind}: {exc}); {_UNCERTAIN}")


def status_error(
    response: httpx.Response,
    *,
    what: str,
    idempotent: bool,
    retry_after: float | None = None,
) -> KtJiraError:
    """The error for a non-2xx answer; ``retry_after`` marks a 429/503 rate limit."""
    status = response.status_code
    head = f"Jira answered {status} to {what}"
    detail = error_detail(response)
    said = f": {detail}" if detail else ""
    if retry_after is not None:
        paused = f"all Jira calls pause for {retry_after:g} s"
        if status != 429 and not idempotent:
            # Unlike a 429, a 503 does not prove the write was refused: search before re-creating.
            return UncertainOutcome(
                f"{head}{said}; {paused}; {_UNCERTAIN}", retry_after=retry_after
            )
        return RateLimited(f"{head}{said}; {paused}", retry_after=retry_after)
    if status == 408:
        return RetryableError(f"{head}{said}; the request was not processed and is retried")
    if status >= 500:
        if idempotent:
            return RetryableError(f"{head}{said}; Jira is failing, it will be retried")
        return UncertainOutcome(f"{head}{said}; {_UNCERTAIN}")
    if 300 <= status < 400:
        where = response.headers.get("location", "")
        return PermanentError(
            f"{head} (redirect to {where or 'elsewhere'}); check that jira.url is the site's "
            "base URL",
            status=status,
        )
    advice = _ADVICE.get(status, "retrying cannot help; check the request and the project")
    return PermanentError(f"{head}{said}; {advice}", status=status)


def undecodable(response: httpx.Response, *, what: str, idempotent: bool) -> KtJiraError:
    head = f"Jira answered {response.status_code} to {what} with a body that is not JSON"
    if idempotent:
        return RetryableError(f"{head}; it is retried")
    return UncertainOutcome(f"{head}; {_UNCERTAIN}")


def error_detail(response: httpx.Response) -> str:
    """Jira's ``errorMessages`` and ``errors`` (field: message) verbatim, else a body excerpt."""
    try:
        data = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return text[:300] + ("…" if len(text) > 300 else "")
    if not isinstance(data, dict):
        return str(data)[:300]
    parts = [str(m) for m in data.get("errorMessages") or () if m]
    errors = data.get("errors")
    if isinstance(errors, dict):
        parts += [f"{field}: {message}" for field, message in errors.items()]
    if not parts and data.get("message"):  # Data Center's shape, e.g. basic auth disabled
        parts.append(str(data["message"]))
    return "; ".join(parts)
