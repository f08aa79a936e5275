"""JiraClient and JiraMetadata against the stateful Jira Cloud sandbox over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kt_jira.errors import (
    DraftError,
    PermanentError,
    RateLimited,
    RetryableError,
    UncertainOutcome,
)
from kt_jira.jira import PAUSE_NAME, JiraClient, JiraMetadata, RateLimiter, find_by_label
from kt_jira.render.nodes import Document, paragraph, text
from kt_jira.tickets.draft import IssueDraft

from .conftest import Site, client_settings, open_site


def _draft(**overrides: Any) -> IssueDraft:
    values: dict[str, Any] = {
        "project": "AIGOV",
        "issue_type": "Task",
        "summary": "Policy pii-block blocked a request on gw-1",
        "description": Document(content=(paragraph(text("A request was blocked.")),)),
        "priority": "High",
        "labels": ("kt-jira", "pii"),
        "fields": {
            "Escalation ID": "esc_42",
            "Policy Name": "pii-block",
            "Model": "gpt-4o",
            "Gateway ID": "gw-1",
            "Console URL": "https://console.example/escalations/esc_42",
        },
        "correlation_label": "kt-esc-esc_42",
    }
    values.update(overrides)
    return IssueDraft(**values)


async def test_fields_and_create_metadata_over_http(site: Site) -> None:
    """fields() and createmeta return the site's catalogue, decoys included, across pages."""
    site.jira.page_size = 4  # force several startAt pages
    fields = await site.jira.fields()
    policy_ids = sorted(f.id for f in fields if f.name == "Policy Name")
    assert policy_ids == ["customfield_10299", "customfield_10432"]
    types = await site.jira.create_issue_types("AIGOV")
    assert sorted(t.name for t in types) == ["Bug", "Story", "Task"]
    task = next(t for t in types if t.name == "Task")
    screen = {f.field_id: f for f in await site.jira.create_fields("AIGOV", task.id)}
    assert len(screen) > 4
    assert "customfield_10432" in screen
    assert "customfield_10299" not in screen
    assert [v.name for v in screen["priority"].allowed_values][:2] == ["Highest", "High"]
    assert (await site.jira.myself()).account_id == site.sandbox.settings.account_id


async def test_created_issue_carries_the_right_custom_field_ids(site: Site) -> None:
    """Building and creating leaves one issue whose custom fields are the real ones, not decoys."""
    metadata = JiraMetadata(site.jira)
    created = await site.jira.create_issue(await metadata.build_create_body(_draft()))
    [issue] = site.sandbox.issues
    view = site.sandbox.view(issue)
    assert (view["key"], view["issue_type"], view["priority"]) == (created.key, "Task", "High")
    assert view["fields"]["customfield_10431"] == "esc_42"
    assert view["fields"]["customfield_10432"] == "pii-block"
    assert view["fields"]["customfield_10435"] == "https://console.example/escalations/esc_42"
    for decoy in ("customfield_10290", "customfield_10291", "customfield_10299"):
        assert decoy not in view["fields"]
    assert view["labels"] == ["kt-jira", "pii", "kt-esc-esc_42"]
    assert view["fields"]["description"]["type"] == "doc"


async def test_field_removed_from_screen_is_a_draft_error(site: Site) -> None:
    """A field taken off the create screen fails before sending, saying which screen to fix."""
    site.sandbox.remove_field_from_screen("AIGOV", "customfield_10432", issue_type="Task")
    metadata = JiraMetadata(site.jira)
    with pytest.raises(DraftError) as caught:
        await metadata.build_create_body(_draft())
    assert str(caught.value) == (
        "field 'Policy Name' (customfield_10299, customfield_10432) is not on the AIGOV Task "
        "create screen; add it to the screen in Project settings → Screens"
    )
    assert site.sandbox.issues == []


async def test_disallowed_priority_is_a_draft_error(site: Site) -> None:
    """A priority outside the project's scheme fails before sending, listing the allowed ones."""
    site.sandbox.set_allowed_priorities("AIGOV", ["Medium", "Low"])
    metadata = JiraMetadata(site.jira)
    with pytest.raises(DraftError) as caught:
        await metadata.build_create_body(_draft(priority="Highest"))
    assert "priority 'Highest' is not allowed on the AIGOV Task create screen" in str(caught.value)
    assert "(allowed: Medium, Low)" in str(caught.value)
    assert site.sandbox.issues == []


async def test_search_lags_behind_a_create(site: Site) -> None:
    """Right after a create, search does not see the issue; after the lag, find_by_label does."""
    metadata = JiraMetadata(site.jira)
    created = await site.jira.create_issue(await metadata.build_create_body(_draft()))
    assert await find_by_label(site.jira, project="AIGOV", label="kt-esc-esc_42") == []
    await asyncio.sleep(site.sandbox.search_lag + 0.1)
    found = await find_by_label(site.jira, project="AIGOV", label="kt-esc-esc_42")
    assert [issue["key"] for issue in found] == [created.key]
    assert await find_by_label(site.jira, project="AIGOV", label="kt-esc-esc_4") == []


async def test_rate_limit_pauses_every_call_and_never_violates_retry_after() -> None:
    """429s from the site set the shared pause; no request arrives inside a Retry-After window."""
    waits: list[float | None] = []
    async with open_site(rate_limit=2.0, rate_burst=2, retry_after=1) as site:
        for _ in range(6):
            try:
                await site.jira.fields()
            except RateLimited as exc:
                waits.append(exc.retry_after)
        limited = len(waits)
        assert limited >= 1
        assert all(wait is not None and wait >= 1 for wait in waits)
        assert await site.pause.get_pause(PAUSE_NAME) is not None
        assert site.sandbox.stats.rate_limited == limited
        assert site.sandbox.retry_after_violations == 0


async def test_client_budget_keeps_the_site_from_saying_429() -> None:
    """With the client's limiter under the site's rate, concurrent calls never get a 429."""
    async with open_site(
        rate_limit=20.0, rate_burst=2, retry_after=1, limiter=RateLimiter(15, burst=2)
    ) as site:
        await asyncio.gather(*(site.jira.fields() for _ in range(8)))
        assert site.sandbox.stats.rate_limited == 0
        assert site.sandbox.retry_after_violations == 0


async def test_removed_search_endpoint_is_permanent(site: Site) -> None:
    """The removed /search answers 410, which maps to PermanentError with Jira's message."""
    with pytest.raises(PermanentError) as caught:
        await site.jira._request("POST", "/search", json={"jql": "project = AIGOV"})
    assert caught.value.status == 410
    assert "The requested API has been removed" in str(caught.value)
    assert "this Jira API was removed" in str(caught.value)


async def test_wrong_token_is_permanent_and_not_leaked(site: Site) -> None:
    """A bad API token is a 401 PermanentError that names the keys to check, not the token."""
    settings = client_settings(site.sandbox, site.url)
    wrong = settings.model_copy(update={"email": "someone@example.com"})
    async with JiraClient(wrong, pause=site.pause) as jira:
        with pytest.raises(PermanentError) as caught:
            await jira.myself()
    assert caught.value.status == 401
    assert "check jira.email and jira.api_token" in str(caught.value)
    assert site.sandbox.settings.api_token not in str(caught.value)


async def test_create_timing_out_after_commit_is_uncertain() -> None:
    """A create Jira committed but answered too late is UncertainOutcome; the issue exists."""
    async with open_site(client={"timeout_seconds": 0.3}) as site:
        site.sandbox.faults.update({"slow_after_commit": 1, "slow_seconds": 2.0})
        metadata = JiraMetadata(site.jira)
        body = await metadata.build_create_body(_draft())
        with pytest.raises(UncertainOutcome):
            await site.jira.create_issue(body)
        assert [i.labels[-1] for i in site.sandbox.issues] == ["kt-esc-esc_42"]


async def test_gateway_error_on_create_is_uncertain(site: Site) -> None:
    """A 502 on a create is UncertainOutcome; the same on a read is a plain retry."""
    site.sandbox.faults.update({"fail_next": [502, 502]})
    with pytest.raises(UncertainOutcome):
        await site.jira.create_issue({"fields": {"summary": "x"}})
    with pytest.raises(RetryableError) as read:
        await site.jira.fields()
    assert not isinstance(read.value, UncertainOutcome)


async def test_outage_with_retry_after_pauses_until_it_ends(site: Site) -> None:
    """A 503 outage with Retry-After pauses all calls; the next call waits it out, then succeeds."""
    site.sandbox.faults.update({"outage": True, "outage_retry_after": 1})
    with pytest.raises(RateLimited):
        await site.jira.fields()
    site.sandbox.faults.update({"outage": False})
    assert await site.jira.fields()
    assert site.sandbox.retry_after_violations == 0
