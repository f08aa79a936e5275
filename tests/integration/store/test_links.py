"""The create-exactly-once link protocol, the shared Jira pause, locks and counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from kt_jira.errors import KtJiraError
from kt_jira.store import CreatedIssue, Deadlines, LinkState, Store

from .builders import T0, ingest_created
from .conftest import OpenStore

LABEL = "kt-esc-esc-1"
DUE = T0 + timedelta(hours=4)


async def _begin(store: Store, escalation_id: str = "esc-1", *, seconds: int = 0) -> None:
    await store.links.begin_create_attempt(
        escalation_id,
        project="AIGOV",
        correlation_label=f"kt-esc-{escalation_id}",
        now=T0 + timedelta(seconds=seconds),
    )


async def test_attempt_is_recorded_before_the_call(store: Store) -> None:
    """begin_create_attempt commits state attempting, counting attempts, before Jira is called."""
    await ingest_created(store)
    assert await store.links.get("esc-1") is None
    first = await store.links.begin_create_attempt(
        "esc-1", project="AIGOV", correlation_label=LABEL, now=T0
    )
    assert (first.state, first.attempts, first.attempt_started_at) == ("attempting", 1, T0)
    assert (first.project, first.correlation_label, first.issue_id) == ("AIGOV", LABEL, None)
    await _begin(store, seconds=30)
    second = await store.links.get("esc-1")
    assert second is not None
    assert (second.attempts, second.attempt_started_at) == (2, T0 + timedelta(seconds=30))


async def test_clear_attempt_returns_to_pending(store: Store) -> None:
    """An attempt that certainly created nothing goes back to pending, so no search is needed."""
    await ingest_created(store)
    await _begin(store)
    assert await store.links.clear_create_attempt("esc-1", now=T0) is True
    link = await store.links.get("esc-1")
    assert link is not None
    assert link.state is LinkState.PENDING
    assert link.attempts == 1
    assert await store.links.clear_create_attempt("esc-1", now=T0) is False


async def test_save_created_links_the_issue_by_id(store: Store) -> None:
    """save_created records the issue; links.find_by_issue finds it by its durable id."""
    await ingest_created(store)
    await _begin(store)
    link = await store.links.save_created(
        "esc-1",
        CreatedIssue(issue_id="10042", issue_key="AIGOV-7"),
        Deadlines(first_response_due=DUE, resolution_due=DUE + timedelta(days=1)),
        now=T0 + timedelta(seconds=2),
    )
    assert (link.state, link.issue_id, link.issue_key, link.adopted) == (
        "created",
        "10042",
        "AIGOV-7",
        False,
    )
    assert link.created_at == T0 + timedelta(seconds=2)
    assert (link.first_response_due, link.resolution_due) == (DUE, DUE + timedelta(days=1))
    assert await store.links.find_by_issue("10042") == link
    assert await store.links.find_by_issue("99999") is None
    assert [x.escalation_id for x in await store.links.list(state="created")] == ["esc-1"]
    assert await store.links.list(state="attempting") == []


async def test_created_link_is_not_reset_or_replaced(store: Store) -> None:
    """Once created, a new attempt leaves the link alone and another issue cannot replace it."""
    await ingest_created(store)
    await _begin(store)
    saved = await store.links.save_created(
        "esc-1",
        CreatedIssue(issue_id="1", issue_key="AIGOV-1"),
        Deadlines(),
        now=T0,
    )
    assert (
        await store.links.begin_create_attempt("esc-1", project="X", correlation_label="y", now=T0)
        == saved
    )
    kept = await store.links.save_created(
        "esc-1",
        CreatedIssue(issue_id="2", issue_key="AIGOV-2", adopted=True),
        Deadlines(),
        now=T0,
    )
    assert kept == saved
    assert await store.links.find_by_issue("2") is None


async def test_adoption_is_audited_as_adopted(store: Store) -> None:
    """An issue found by its correlation marker is saved as adopted, and the audit says so."""
    await ingest_created(store)
    await _begin(store)
    await store.links.clear_create_attempt("esc-1", now=T0)
    later = T0 + timedelta(minutes=1)
    link = await store.links.save_created(
        "esc-1",
        CreatedIssue(issue_id="7", issue_key="AIGOV-3", adopted=True),
        Deadlines(),
        now=later,
    )
    assert link.adopted is True
    trail = [a.action for a in await store.audit.list(entity="link", entity_id="esc-1")]
    assert trail == ["adopted", "attempt_cleared", "attempt_started"]


async def test_save_created_needs_a_link_and_a_unique_issue(store: Store) -> None:
    """Saving without an attempt is an error, and one issue cannot be linked to two escalations."""
    await ingest_created(store, "esc-1", delivery_id="d-1")
    await ingest_created(store, "esc-2", delivery_id="d-2")
    with pytest.raises(KtJiraError, match="begin_create_attempt"):
        await store.links.save_created(
            "esc-1",
            CreatedIssue(issue_id="1", issue_key="A-1"),
            Deadlines(),
            now=T0,
        )
    for escalation_id in ("esc-1", "esc-2"):
        await _begin(store, escalation_id)
    await store.links.save_created(
        "esc-1",
        CreatedIssue(issue_id="1", issue_key="A-1"),
        Deadlines(),
        now=T0,
    )
    with pytest.raises(IntegrityError):
        await store.links.save_created(
            "esc-2",
            CreatedIssue(issue_id="1", issue_key="A-1"),
            Deadlines(),
            now=T0,
        )
    link = await store.links.get("esc-2")
    assert link is not None
    assert link.state is LinkState.ATTEMPTING


async def test_link_needs_its_escalation(store: Store) -> None:
    """A link references a stored escalation (foreign keys are on for SQLite too)."""
    with pytest.raises(IntegrityError):
        await _begin(store, "never-ingested")


async def test_pause_only_extends(store: Store) -> None:
    """set_pause keeps the later time: a shorter Retry-After never shortens the shared pause."""
    assert await store.pauses.get_pause("jira") is None
    until = T0 + timedelta(seconds=30)
    assert await store.pauses.set_pause("jira", until=until, reason="429", now=T0) == until
    assert (
        await store.pauses.set_pause("jira", until=T0 + timedelta(seconds=5), reason="503") == until
    )
    assert await store.pauses.get_pause("jira") == until
    longer = T0 + timedelta(minutes=2)
    assert await store.pauses.set_pause("jira", until=longer, reason="429 again") == longer
    assert await store.pauses.get_pause("jira") == longer
    assert await store.pauses.get_pause("keeptrusts") is None
    trail = await store.audit.list(entity="pause")
    assert [a.detail["reason"] for a in trail] == ["429 again", "429"]


async def test_pause_is_shared_between_replicas(store: Store, open_another: OpenStore) -> None:
    """A pause set by one replica is seen, and not shortened, by another."""
    other = await open_another()
    until = T0 + timedelta(seconds=30)
    await store.pauses.set_pause("jira", until=until, reason="429")
    assert await other.pauses.get_pause("jira") == until
    assert await other.pauses.set_pause("jira", until=T0, reason="stale") == until


async def test_exclusive_admits_one_holder_at_a_time(store: Store, open_another: OpenStore) -> None:
    """exclusive(name) admits one holder across stores; the name is free again after the block."""
    other = await open_another()
    async with store.db.exclusive("sla-scan") as first:
        assert first is True
        async with other.db.exclusive("sla-scan") as second:
            assert second is False
        async with other.db.exclusive("reconcile") as unrelated:
            assert unrelated is True
    async with other.db.exclusive("sla-scan") as after:
        assert after is True


async def test_counts_cover_every_state(store: Store) -> None:
    """counts() reports escalations, links, jobs and deliveries by state, zeros included."""
    await ingest_created(store)
    await _begin(store)
    totals = await store.counts.totals()
    assert totals["escalations"] == 1
    assert totals["escalations_open"] == 1
    assert (totals["links_attempting"], totals["links_created"]) == (1, 0)
    assert (totals["jobs_queued"], totals["jobs_dead"]) == (1, 0)
    assert (totals["deliveries_accepted"], totals["deliveries_quarantined"]) == (1, 0)
