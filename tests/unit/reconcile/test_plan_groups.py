"""Reconcile planning for grouped escalations: a member is never an escalation without a
ticket, a done group ticket resolves open members, and a group whose escalations are all closed
has its ticket walked to done once."""

from __future__ import annotations

from kt_jira.jobs import Kind
from kt_jira.reconcile.plan import ActionKind, JobState, LocalEscalation, plan
from tests.unit.reconcile.test_plan import NOW, issue, kinds, remote


def member(eid: str, *, status: str = "open", state: str | None = "created") -> LocalEscalation:
    """A member: its link fields are its group ticket's (the opener's link)."""
    return LocalEscalation(
        escalation_id=eid,
        status=status,
        link_state=state,
        issue_id="1" if state == "created" else None,
        issue_key="AIGOV-1" if state == "created" else None,
        group_role="member",
    )


def opener(eid: str = "esc_o", *, status: str = "open", still_open: int = 0) -> LocalEscalation:
    return LocalEscalation(
        escalation_id=eid,
        status=status,
        link_state="created",
        issue_id="1",
        issue_key="AIGOV-1",
        group_role="opener",
        group_open=still_open,
    )


def test_a_member_is_never_created_a_ticket() -> None:
    """Open upstream with its group's ticket still being created: noted, not created."""
    result = plan(
        keeptrusts_open=[remote("esc_m")],
        local=[member("esc_m", state="attempting")],
        jira_issues=[],
        now=NOW,
    )
    assert kinds(result) == [(ActionKind.NOTE, "esc_m")]


def test_a_done_group_ticket_resolves_its_open_members() -> None:
    """The group's ticket is done in Jira: every open escalation of it is resolved upstream."""
    result = plan(
        keeptrusts_open=[remote("esc_o"), remote("esc_m1"), remote("esc_m2")],
        local=[opener(), member("esc_m1"), member("esc_m2")],
        jira_issues=[issue("1", "esc_o", done=True, resolution="Done")],
        now=NOW,
    )
    assert sorted(kinds(result)) == sorted(
        (ActionKind.RESOLVE_KEEPTRUSTS, eid) for eid in ("esc_o", "esc_m1", "esc_m2")
    )
    assert {a.issue_key for a in result.actions} == {"AIGOV-1"}


def test_a_ticket_with_open_members_stays_open_after_its_opener_closed() -> None:
    """The opener closed and noted on the ticket, members open: nothing to repair."""
    result = plan(
        keeptrusts_open=[remote("esc_m1")],
        local=[opener(status="resolved", still_open=1), member("esc_m1")],
        jira_issues=[issue("1", "esc_o")],
        now=NOW,
        jobs={(Kind.RESOLVE_JIRA, "esc_o"): JobState.DONE},
    )
    assert result.actions == ()


def test_a_member_closed_and_noted_needs_nothing_more() -> None:
    """A member resolved upstream whose note is on the ticket: left alone while others are
    open; one never noted gets its resolve_jira."""
    noted = plan(
        keeptrusts_open=[],
        local=[member("esc_m1", status="resolved")],
        jira_issues=[issue("1", "esc_o")],
        now=NOW,
        jobs={(Kind.RESOLVE_JIRA, "esc_m1"): JobState.DONE},
    )
    assert noted.actions == ()
    missed = plan(
        keeptrusts_open=[],
        local=[member("esc_m1", status="resolved")],
        jira_issues=[issue("1", "esc_o")],
        now=NOW,
    )
    assert kinds(missed) == [(ActionKind.RESOLVE_JIRA, "esc_m1")]


def test_a_fully_resolved_group_has_its_ticket_walked_to_done_once() -> None:
    """Every escalation closed, the ticket open: resolve the group; once that ran, a ticket
    open again was reopened by a person and is left as it is."""
    closed = opener(status="resolved", still_open=0)
    due = plan(keeptrusts_open=[], local=[closed], jira_issues=[issue("1", "esc_o")], now=NOW)
    assert kinds(due) == [(ActionKind.RESOLVE_GROUP, "esc_o")]
    ran = plan(
        keeptrusts_open=[],
        local=[closed],
        jira_issues=[issue("1", "esc_o")],
        now=NOW,
        jobs={(Kind.RESOLVE_GROUP, "esc_o"): JobState.DONE},
    )
    assert kinds(ran) == [(ActionKind.NOTE, "esc_o")]
    assert "reopened" in ran.actions[0].reason
