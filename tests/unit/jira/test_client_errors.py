"""The one error boundary of JiraClient: statuses and httpx failures become kt_jira errors."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest

from kt_jira.errors import (
    KtJiraError,
    PermanentError,
    RateLimited,
    RetryableError,
    UncertainOutcome,
)
from kt_jira.jira import PAUSE_NAME, JiraClient, MemoryPauseStore

from .conftest import EMAIL, TOKEN, FakeClock, jira_settings

MakeClient = Callable[..., JiraClient]
ISSUE_BODY = {"fields": {"summary": "x"}}


def _answer(
    status: int, body: object | None = None, **headers: str
) -> Callable[..., httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return handler


def _assert_no_secret(error: BaseException) -> None:
    creds = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    text = str(error) + repr(error)
    assert TOKEN not in text
    assert creds not in text
    assert "Authorization" not in text


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        (400, "fix the rule"),
        (401, "check jira.email and jira.api_token (Cloud), jira.pat (Data Center) or jira.oauth"),
        (403, "'Browse projects' and 'Create issues'"),
        (404, "not visible to the bot account"),
        (409, "conflict"),
        (410, "this Jira API was removed"),
        (413, "too large"),
        (422, "configuration problem"),
    ],
)
async def test_client_errors_are_permanent_with_jira_words_and_advice(
    make_client: MakeClient, status: int, advice: str
) -> None:
    """A 4xx is a PermanentError carrying Jira's errorMessages and field errors verbatim."""
    body = {
        "errorMessages": ["Field 'priority' is required"],
        "errors": {"customfield_10432": "Field 'customfield_10432' cannot be set."},
    }
    async with make_client(_answer(status, body)) as jira:
        with pytest.raises(PermanentError) as caught:
            await jira.create_issue(ISSUE_BODY)
    error = caught.value
    assert error.status == status
    assert "Field 'priority' is required" in str(error)
    assert "customfield_10432: Field 'customfield_10432' cannot be set." in str(error)
    assert advice in str(error)
    _assert_no_secret(error)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_on_create_are_uncertain(make_client: MakeClient, status: int) -> None:
    """A 5xx answer to a create may hide a created issue: UncertainOutcome, not a plain retry."""
    async with make_client(_answer(status, {"errorMessages": ["boom"]})) as jira:
        with pytest.raises(UncertainOutcome) as caught:
            await jira.create_issue(ISSUE_BODY)
    assert "boom" in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_on_reads_are_retryable(make_client: MakeClient, status: int) -> None:
    """A 5xx answer to a GET is a RetryableError, never UncertainOutcome."""
    async with make_client(_answer(status, {"errorMessages": ["boom"]})) as jira:
        with pytest.raises(RetryableError) as caught:
            await jira.fields()
    assert not isinstance(caught.value, UncertainOutcome | RateLimited)


@pytest.mark.parametrize(
    "exc_type", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError]
)
@pytest.mark.parametrize("write", [True, False])
async def test_request_never_sent_is_plainly_retryable(
    make_client: MakeClient, exc_type: type[httpx.TransportError], write: bool
) -> None:
    """Failures before the request left are RetryableError, even for a create, chained."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("cannot connect", request=request)

    async with make_client(handler) as jira:
        with pytest.raises(RetryableError) as caught:
            await (jira.create_issue(ISSUE_BODY) if write else jira.fields())
    assert not isinstance(caught.value, UncertainOutcome)
    assert isinstance(caught.value.__cause__, exc_type)
    _assert_no_secret(caught.value)


@pytest.mark.parametrize(
    "exc_type",
    [httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError],
)
async def test_failure_after_send_is_uncertain_for_post_retryable_for_get(
    make_client: MakeClient, exc_type: type[httpx.TransportError]
) -> None:
    """A timeout or reset after sending: a POST may have happened (UncertainOutcome), a GET not."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("gone quiet", request=request)

    async with make_client(handler) as jira:
        with pytest.raises(UncertainOutcome) as post:
            await jira.create_issue(ISSUE_BODY)
        with pytest.raises(RetryableError) as get:
            await jira.fields()
        with pytest.raises(RetryableError) as search:
            await jira.search("project = AIGOV", fields=["labels"])
    assert isinstance(post.value.__cause__, exc_type)
    assert not isinstance(get.value, UncertainOutcome)
    assert not isinstance(search.value, UncertainOutcome)  # search is a read, though a POST
    _assert_no_secret(post.value)


async def test_rate_limit_sets_the_shared_pause(
    make_client: MakeClient, pause: MemoryPauseStore, clock: FakeClock
) -> None:
    """A 429 raises RateLimited(retry_after) and records the pause for every worker."""
    handler = _answer(429, {"errorMessages": ["Rate limit exceeded."]}, **{"Retry-After": "30"})
    async with make_client(handler) as jira:
        with pytest.raises(RateLimited) as caught:
            await jira.fields()
    assert caught.value.retry_after == 30
    assert await pause.get_pause(PAUSE_NAME) == clock.now() + timedelta(seconds=30)
    assert "429" in pause.reasons[PAUSE_NAME]


async def test_503_with_retry_after_is_a_rate_limit_and_zero_gets_the_floor(
    make_client: MakeClient, pause: MemoryPauseStore, clock: FakeClock
) -> None:
    """503 with Retry-After pauses like a 429; 'Retry-After: 0' still waits the floor."""
    async with make_client(_answer(503, None, **{"Retry-After": "0"})) as jira:
        with pytest.raises(RateLimited) as caught:
            await jira.fields()
    assert caught.value.retry_after == 1.0
    assert await pause.get_pause(PAUSE_NAME) == clock.now() + timedelta(seconds=1)


async def test_503_with_retry_after_on_a_create_stays_uncertain(
    make_client: MakeClient, pause: MemoryPauseStore, clock: FakeClock
) -> None:
    """A 503 does not prove a create was refused: UncertainOutcome, carrying the wait and pause."""
    async with make_client(_answer(503, None, **{"Retry-After": "7"})) as jira:
        with pytest.raises(UncertainOutcome) as caught:
            await jira.create_issue(ISSUE_BODY)
    assert caught.value.retry_after == 7
    assert await pause.get_pause(PAUSE_NAME) == clock.now() + timedelta(seconds=7)


async def test_429_on_a_create_is_a_plain_rate_limit(make_client: MakeClient) -> None:
    """A 429 means Jira refused the create, so it is RateLimited, not UncertainOutcome."""
    async with make_client(_answer(429, None, **{"Retry-After": "3"})) as jira:
        with pytest.raises(RateLimited) as caught:
            await jira.create_issue(ISSUE_BODY)
    assert not isinstance(caught.value, UncertainOutcome)


async def test_next_request_waits_until_the_pause_ends(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """No request is sent before the Retry-After elapses, and then it goes through."""
    sent_at = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now())
        if len(sent_at) == 1:
            return httpx.Response(429, headers={"Retry-After": "20"})
        return httpx.Response(200, json=[])

    async with make_client(handler) as jira:
        with pytest.raises(RateLimited):
            await jira.fields()
        assert await jira.fields() == []
    assert sent_at[1] - sent_at[0] >= timedelta(seconds=20)


async def test_pause_set_by_another_replica_is_honoured(
    make_client: MakeClient, pause: MemoryPauseStore, clock: FakeClock
) -> None:
    """A pause recorded elsewhere (another worker or replica) delays this client's requests."""
    until = clock.now() + timedelta(seconds=12)
    await pause.set_pause(PAUSE_NAME, until=until, reason="429 seen by replica 2")
    sent_at = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now())
        return httpx.Response(200, json={"accountId": "abc", "displayName": "Bot"})

    async with make_client(handler) as jira:
        me = await jira.myself()
    assert me.account_id == "abc"
    assert sent_at == [until]


async def test_pause_only_extends(clock: FakeClock) -> None:
    """Setting an earlier end never shortens a pause."""
    store = MemoryPauseStore()
    later = clock.now() + timedelta(seconds=60)
    await store.set_pause("jira", until=later, reason="a")
    assert await store.set_pause("jira", until=clock.now(), reason="b") == later
    assert await store.get_pause("jira") == later


async def test_create_answer_without_id_is_uncertain(make_client: MakeClient) -> None:
    """A 201 whose body lacks id/key cannot prove what was created: UncertainOutcome."""
    async with make_client(_answer(201, {"self": "x"})) as jira:
        with pytest.raises(UncertainOutcome):
            await jira.create_issue(ISSUE_BODY)


async def test_non_json_answers(make_client: MakeClient) -> None:
    """A 2xx body that is not JSON is retryable for reads and uncertain for writes."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>proxy login</html>")

    async with make_client(handler) as jira:
        with pytest.raises(UncertainOutcome):
            await jira.create_issue(ISSUE_BODY)
        with pytest.raises(RetryableError):
            await jira.fields()


async def test_html_error_page_is_quoted_briefly(make_client: MakeClient) -> None:
    """A non-JSON error page is quoted (shortened) so the operator sees what answered."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html><body>Not   Found</body></html>" + "x" * 1000)

    async with make_client(handler) as jira:
        with pytest.raises(PermanentError) as caught:
            await jira.get_issue("AIGOV-1")
    assert "<html><body>Not Found</body></html>" in str(caught.value)
    assert len(str(caught.value)) < 600


async def test_errors_share_one_root(make_client: MakeClient) -> None:
    """Every failure surfaces as a KtJiraError, never a raw httpx exception."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.DecodingError("bad gzip", request=request)

    async with make_client(handler) as jira:
        with pytest.raises(KtJiraError):
            await jira.fields()


async def test_rate_limit_is_reported_even_if_the_pause_cannot_be_stored(
    clock: FakeClock,
) -> None:
    """A broken pause store does not hide the 429: the caller still gets RateLimited."""

    class BrokenStore(MemoryPauseStore):
        async def set_pause(self, name: str, *, until: datetime, reason: str) -> datetime:
            raise RuntimeError("database is down")

    client = JiraClient(
        jira_settings(),
        pause=BrokenStore(),
        transport=httpx.MockTransport(_answer(429, None, **{"Retry-After": "4"})),
        now=clock.now,
        sleep=clock.sleep,
    )
    async with client as jira:
        with pytest.raises(RateLimited) as caught:
            await jira.fields()
    assert caught.value.retry_after == 4


async def test_own_pause_holds_even_before_the_database_has_it(clock: FakeClock) -> None:
    """After a 429 this process waits out Retry-After even if the shared pause was not stored."""
    sent_at = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now())
        if len(sent_at) == 1:
            return httpx.Response(429, headers={"Retry-After": "6"})
        return httpx.Response(200, json=[])

    class BrokenStore(MemoryPauseStore):
        async def set_pause(self, name: str, *, until: datetime, reason: str) -> datetime:
            raise RuntimeError("database is down")

    client = JiraClient(
        jira_settings(),
        pause=BrokenStore(),
        transport=httpx.MockTransport(handler),
        now=clock.now,
        sleep=clock.sleep,
    )
    async with client as jira:
        with pytest.raises(RateLimited):
            await jira.fields()
        assert await jira.fields() == []
    assert sent_at[1] - sent_at[0] >= timedelta(seconds=6)
