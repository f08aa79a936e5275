"""Reconcile planning: which repairs the three views call for, decided without any I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kt_jira.reconcile.plan import (
    ActionKind,
    JiraIssue,
    JobState,
    LocalEscalation,
    Plan,
    RemoteEscalation,
    escalation_of,
    linked_issues_to_fetch,
    needs_detail,
    plan,
)
from kt_jira.render.sanitise import correlation_label

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(hours=2)


def remote(eid: str, status: str = "open", **extra: str) -> RemoteEscalation:
    return RemoteEscalation(escalation_id=eid, status=status, payload={"id": eid}, **extra)


def linked(eid: str, issue_id: str, status: str = "open") -> LocalEscalation:
    return LocalEscalation(
        escalation_id=eid,
        status=status,
        link_state="created",
        issue_id=issue_id,
        issue_key=f"AIGOV-{issue_id}",
    )


def issue(
    issue_id: str,
    eid: str,
    *,
    done: bool = False,
    created: datetime = OLD,
    resolution: str = "",
) -> JiraIssue:
    return JiraIssue(
        issue_id=issue_id,
        key=f"AIGOV-{issue_id}",
        labels=("ai-governance", correlation_label(eid)),
        created=created,
        created_text=created.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        done=done,
        status="Resolved" if done else "Open",
        resolution=resolution,
    )


def kinds(result: Plan) -> list[tuple[ActionKind, str]]:
    return [(a.kind, a.escalation_id) for a in result.actions]


def test_everything_in_step_plans_nothing() -> None:
    """Open upstream, linked, ticket open: nothing to repair."""
    result = plan(
        keeptrusts_open=[remote("esc_1")],
        local=[linked("esc_1", "1")],
        jira_issues=[issue("1", "esc_1")],
        now=NOW,
    )
    assert result.actions == ()
    assert (result.keeptrusts_open, result.local_checked, result.jira_issues) == (1, 1, 1)


def test_escalation_that_never_reached_the_bridge_is_learned_and_gets_a_ticket() -> None:
    """Open in Keeptrusts, unknown here: store it and enqueue its create (no search needed)."""
    result = plan(keeptrusts_open=[remote("esc_1")], local=[], jira_issues=[], now=NOW)
    assert kinds(result) == [(ActionKind.LEARN, "esc_1"), (ActionKind.CREATE, "esc_1")]
    learn, create = result.actions
    assert learn.remote is not None
    assert learn.remote.escalation_id == "esc_1"
    assert create.search_first is False


def test_a_ticket_made_behind_the_bridge_is_searched_for_before_creating() -> None:
    """Unknown here but Jira already has its marker: the create must look (and adopt) first."""
    result = plan(
        keeptrusts_open=[remote("esc_1")], local=[], jira_issues=[issue("7", "esc_1")], now=NOW
    )
    assert kinds(result) == [(ActionKind.LEARN, "esc_1"), (ActionKind.CREATE, "esc_1")]
    assert result.actions[1].search_first is True


def test_unlinked_escalation_with_a_finished_create_gets_another() -> None:
    """Known, open, no ticket, and no create under way: enqueue a create again."""
    local = [LocalEscalation(escalation_id="esc_1", status="open", link_state="attempting")]
    result = plan(
        keeptrusts_open=[remote("esc_1")],
        local=local,
        jira_issues=[],
        now=NOW,
        jobs={("create_issue", "esc_1"): JobState.DONE},
    )
    assert kinds(result) == [(ActionKind.CREATE, "esc_1")]
    assert result.actions[0].search_first is True  # an attempt's outcome is unknown


def test_queued_or_dead_creates_are_left_alone() -> None:
    """A queued create is under way; a dead one needs `jobs replay`, not another copy."""
    local = [
        LocalEscalation(escalation_id="esc_q", status="open"),
        LocalEscalation(escalation_id="esc_d", status="open"),
    ]
    result = plan(
        keeptrusts_open=[remote("esc_q"), remote("esc_d")],
        local=local,
        jira_issues=[],
        now=NOW,
        jobs={
            ("create_issue", "esc_q"): JobState.PENDING,
            ("create_issue", "esc_d"): JobState.DEAD,
        },
    )
    assert kinds(result) == [(ActionKind.NOTE, "esc_d"), (ActionKind.NOTE, "esc_q")]
    assert "jobs replay" in result.actions[0].reason
    assert "already queued" in result.actions[1].reason


def test_ticket_done_in_jira_resolves_the_open_escalation() -> None:
    """Done in Jira while Keeptrusts is still open: resolve there, with Jira's resolution."""
    result = plan(
        keeptrusts_open=[remote("esc_1")],
        local=[linked("esc_1", "1")],
        jira_issues=[issue("1", "esc_1", done=True, resolution="False Positive")],
        now=NOW,
    )
    assert kinds(result) == [(ActionKind.RESOLVE_KEEPTRUSTS, "esc_1")]
    action = result.actions[0]
    assert (action.issue_id, action.issue_key, action.resolution) == (
        "1",
        "AIGOV-1",
        "False Positive",
    )


def test_a_pending_keeptrusts_resolve_is_not_doubled() -> None:
    """A resolve_keeptrusts job already queued makes that repair a note."""
    result = plan(
        keeptrusts_open=[remote("esc_1")],
        local=[linked("esc_1", "1")],
        jira_issues=[issue("1", "esc_1", done=True)],
        now=NOW,
        jobs={("resolve_keeptrusts", "esc_1"): JobState.PENDING},
    )
    assert kinds(result) == [(ActionKind.NOTE, "esc_1")]


def test_resolved_upstream_while_down_is_recorded_and_the_ticket_resolved() -> None:
    """Closed in Keeptrusts, open here, ticket open: record it, then resolve the ticket."""
    upstream = {"esc_1": remote("esc_1", "resolved", resolution="approved", resolved_by="Rita")}
    local = [linked("esc_1", "1")]
    assert needs_detail([], local) == ["esc_1"]
    result = plan(
        keeptrusts_open=[],
        local=local,
        jira_issues=[issue("1", "esc_1")],
        now=NOW,
        upstream=upstream,
    )
    assert kinds(result) == [
        (ActionKind.RECORD_RESOLUTION, "esc_1"),
        (ActionKind.RESOLVE_JIRA, "esc_1"),
    ]
    assert result.actions[0].remote == upstream["esc_1"]


def test_expired_upstream_with_the_ticket_done_only_records_it() -> None:
    """Expired upstream and the ticket already done: only the database needs the fact."""
    result = plan(
        keeptrusts_open=[],
        local=[linked("esc_1", "1")],
        jira_issues=[issue("1", "esc_1", done=True)],
        now=NOW,
        upstream={"esc_1": remote("esc_1", "expired")},
    )
    assert kinds(result) == [(ActionKind.RECORD_RESOLUTION, "esc_1")]


def test_ticket_reopened_after_the_bridge_resolved_it_is_left_open() -> None:
    """Resolve is final in Keeptrusts: a reopen after our resolve_jira ran is a note, no loop."""
    result = plan(
        keeptrusts_open=[],
        local=[linked("esc_1", "1", status="resolved")],
        jira_issues=[issue("1", "esc_1")],
        now=NOW,
        jobs={("resolve_jira", "esc_1"): JobState.DONE},
    )
    assert kinds(result) == [(ActionKind.NOTE, "esc_1")]
    assert "reopened" in result.actions[0].reason


def test_known_resolution_whose_ticket_was_never_resolved_gets_resolve_jira() -> None:
    """The database knows it is resolved, the ticket is open, no resolve ever ran: resolve it."""
    result = plan(
        keeptrusts_open=[],
        local=[linked("esc_1", "1", status="resolved")],
        jira_issues=[issue("1", "esc_1")],
        now=NOW,
    )
    assert kinds(result) == [(ActionKind.RESOLVE_JIRA, "esc_1")]


def test_linked_issues_missing_from_search_are_fetched_only_when_closed_upstream() -> None:
    """Search covers a window; a linked issue outside it is fetched when it matters."""
    local = [linked("esc_1", "1"), linked("esc_2", "2")]
    upstream = {"esc_1": remote("esc_1", "resolved"), "esc_2": remote("esc_2", "open")}
    assert linked_issues_to_fetch(upstream, local, []) == ["1"]
    assert linked_issues_to_fetch(upstream, local, [issue("1", "esc_1")]) == []


def test_duplicates_fold_into_the_linked_ticket() -> None:
    """Every other open ticket with the marker folds into the linked one, oldest or not."""
    result = plan(
        keeptrusts_open=[remote("esc_1")],
        local=[linked("esc_1", "5")],
        jira_issues=[issue("3", "esc_1"), issue("5", "esc_1"), issue("9", "esc_1", done=True)],
        now=NOW,
    )
    assert kinds(result) == [(ActionKind.FOLD, "esc_1")]
    fold = result.actions[0]
    assert (fold.issue_key, fold.keep_key) == ("AIGOV-3", "AIGOV-5")


def test_without_a_link_the_oldest_ticket_is_kept() -> None:
    """No link and no create under way: keep the oldest, as the create's adopt rule does."""
    result = plan(
        keeptrusts_open=[],
        local=[LocalEscalation(escalation_id="esc_1", status="resolved")],
        jira_issues=[issue("8", "esc_1"), issue("4", "esc_1", created=OLD - timedelta(1))],
        now=NOW,
    )
    assert kinds(result) == [(ActionKind.FOLD, "esc_1")]
    assert (result.actions[0].issue_key, result.actions[0].keep_key) == ("AIGOV-8", "AIGOV-4")


def test_duplicates_wait_while_a_create_may_adopt_them() -> None:
    """A pending create (or an attempt in flight) may adopt one of them: fold next time."""
    result = plan(
        keeptrusts_open=[remote("esc_1")],
        local=[LocalEscalation(escalation_id="esc_1", status="open", link_state="pending")],
        jira_issues=[issue("1", "esc_1"), issue("2", "esc_1")],
        now=NOW,
        jobs={("create_issue", "esc_1"): JobState.PENDING},
    )
    assert [a.kind for a in result.actions] == [ActionKind.NOTE]


def test_a_brand_new_duplicate_waits_out_the_grace_period() -> None:
    """Issues younger than the grace period are noted, not folded (search may still lag)."""
    result = plan(
        keeptrusts_open=[remote("esc_1")],
        local=[linked("esc_1", "1")],
        jira_issues=[issue("1", "esc_1"), issue("2", "esc_1", created=NOW - timedelta(seconds=5))],
        now=NOW,
        grace=timedelta(seconds=30),
    )
    assert kinds(result) == [(ActionKind.NOTE, "esc_1")]
    assert "too new" in result.actions[0].reason


def test_hashed_markers_map_back_through_known_ids() -> None:
    """An id that is not label-safe has a hashed marker; known ids still find its tickets."""
    eid = "ESC 42/Ä"
    marker = correlation_label(eid)
    assert marker != f"kt-esc-{eid}"
    assert escalation_of(marker, {}) is None
    assert escalation_of(marker, {marker: eid}) == eid
    assert escalation_of("kt-esc-esc_7", {}) == "esc_7"
    assert escalation_of("ai-governance", {}) is None
    result = plan(
        keeptrusts_open=[remote(eid)],
        local=[linked(eid, "1")],
        jira_issues=[issue("1", eid), issue("2", eid)],
        now=NOW,
    )
    assert kinds(result) == [(ActionKind.FOLD, eid)]


def test_escalation_unknown_to_keeptrusts_is_only_noted() -> None:
    """A 404 from Keeptrusts is reported, never acted on."""
    result = plan(
        keeptrusts_open=[],
        local=[linked("esc_1", "1")],
        jira_issues=[issue("1", "esc_1")],
        now=NOW,
        upstream={"esc_1": remote("esc_1", "missing")},
    )
    assert kinds(result) == [(ActionKind.NOTE, "esc_1")]
    assert "404" in result.actions[0].reason
    assert result.writes == []


def test_the_escalation_id_field_marks_tickets_without_the_label() -> None:
    """With the field marker (add_label: false) the field's value groups duplicates."""
    bare = [
        JiraIssue(issue_id=n, key=f"AIGOV-{n}", labels=("ai-governance",), marker_ids=("esc_1",))
        for n in ("1", "2")
    ]
    result = plan(
        keeptrusts_open=[remote("esc_1")], local=[linked("esc_1", "1")], jira_issues=bare, now=NOW
    )
    assert [(a.kind, a.issue_key, a.keep_key) for a in result.actions] == [
        (ActionKind.FOLD, "AIGOV-2", "AIGOV-1")
    ]
