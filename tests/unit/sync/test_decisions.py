"""Two-way sync decisions (pure): the loop guard, inbound plans, mapping, the path to done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kt_jira.events.jira import Change, JiraEvent, JiraEventType
from kt_jira.render.adf import to_adf
from kt_jira.render.wiki import to_wiki
from kt_jira.sync.decisions import (
    LinkFacts,
    Transition,
    actor_for,
    choose_step,
    is_echo,
    keeptrusts_notes,
    keeptrusts_outcome,
    plan_inbound,
    resolution_for,
    wanted_jira_resolution,
)
from kt_jira.sync.text import UpstreamResolution, reopened_after_resolve, resolved_upstream
from tests.support.contracts import validate_adf

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BOT = "bot-1"
OPEN = LinkFacts(escalation_closed=False)


def _status_event(
    category: str, *, actor: str = "human-1", at: datetime = T0, change: str = "100"
) -> JiraEvent:
    return JiraEvent(
        type=JiraEventType.ISSUE_UPDATED,
        raw_type="jira:issue_updated",
        timestamp=at,
        issue_id="10001",
        actor_id=actor,
        status_id="5",
        status_category=category,
        status_change=Change(from_id="3", to_id="5"),
        changelog_id=change,
    )


def _plan(event: JiraEvent, link: LinkFacts = OPEN, inbound: bool = True) -> Any:
    return plan_inbound(event, link, bot_account_id=BOT, inbound=inbound)


def test_a_person_entering_done_resolves_an_open_escalation() -> None:
    """Human + done + open escalation: resolve (and record the status)."""
    plan = _plan(_status_event("done"))
    assert (plan.resolve, plan.record_status, plan.echo) == (True, True, False)


def test_a_person_entering_done_resolves_a_groups_members_whatever_the_opener() -> None:
    """The group's ticket done by a person resolves its members even when its own escalation
    closed before; the bridge's own move, or inbound switched off, resolves none."""
    closed = LinkFacts(escalation_closed=True)
    plan = _plan(_status_event("done"), closed)
    assert (plan.resolve, plan.resolve_members) == (False, True)
    assert not _plan(_status_event("done", actor=BOT)).resolve_members
    assert not _plan(_status_event("done"), inbound=False).resolve_members
    assert not _plan(_status_event("indeterminate")).resolve_members


def test_the_bridges_own_change_is_an_echo() -> None:
    """The bot's status change is recorded but resolves nothing and explains nothing."""
    was_done = LinkFacts(escalation_closed=True, status_category="done", status_at=T0)
    plan = _plan(_status_event("new", actor=BOT, at=T0 + timedelta(seconds=1)), was_done)
    assert (plan.echo, plan.record_status, plan.resolve, plan.explain_reopen) == (
        True,
        True,
        False,
        False,
    )


def test_switches_and_closed_escalations_stop_inbound_resolves() -> None:
    """Inbound off, or the escalation already closed: no resolve."""
    assert not _plan(_status_event("done"), inbound=False).resolve
    assert not _plan(_status_event("done"), LinkFacts(escalation_closed=True)).resolve


def test_older_changes_are_stale() -> None:
    """An event older than the applied status (or as old, with a lower change id) is stale."""
    link = LinkFacts(escalation_closed=False, status_category="done", status_at=T0, status_change=5)
    older = _plan(_status_event("new", at=T0 - timedelta(seconds=1)), link)
    same_ms_earlier = _plan(_status_event("new", change="4"), link)
    same_ms_later = _plan(_status_event("indeterminate", change="6"), link)
    assert (older.stale, same_ms_earlier.stale, same_ms_later.stale) == (True, True, False)
    assert not older.record_status


def test_leaving_done_is_a_reopen_to_explain() -> None:
    """A person moving a done issue out of done asks for an explanation."""
    link = LinkFacts(escalation_closed=True, status_category="done", status_at=T0)
    plan = _plan(_status_event("new", at=T0 + timedelta(minutes=1)), link)
    assert (plan.explain_reopen, plan.resolve) == (True, False)


def test_unknown_category_asks_for_the_issue() -> None:
    """Without statusCategory in the payload the handler must read the issue first."""
    assert _plan(_status_event("")).need_issue


def test_authorless_changes_inside_the_write_window_are_echoes() -> None:
    """No author: an echo while the bridge's write window is open, a person's change after."""
    event = _status_event("done", actor="")
    assert is_echo(event, bot_account_id=BOT, busy_until=T0 + timedelta(seconds=5))
    assert not is_echo(event, bot_account_id=BOT, busy_until=T0 - timedelta(seconds=5))
    assert not is_echo(event, bot_account_id=BOT, busy_until=None)


def test_first_response_is_the_first_human_comment() -> None:
    """A person's comment sets first response once; the bot's never does."""
    comment = JiraEvent(
        type=JiraEventType.COMMENT_CREATED,
        raw_type="comment_created",
        timestamp=T0,
        issue_id="1",
        actor_id="human-1",
        comment_created=T0 - timedelta(seconds=1),
    )
    assert _plan(comment).first_response_at == T0 - timedelta(seconds=1)
    assert (
        _plan(comment, LinkFacts(escalation_closed=False, first_response_at=T0)).first_response_at
        is None
    )
    bot = JiraEvent(**{**comment.__dict__, "actor_id": BOT})
    assert _plan(bot).first_response_at is None


def test_deletion_marks_the_link() -> None:
    """An issue deletion is recorded, whoever did it."""
    deleted = JiraEvent(
        type=JiraEventType.ISSUE_DELETED, raw_type="jira:issue_deleted", timestamp=T0, issue_id="1"
    )
    assert _plan(deleted).deleted


def test_resolution_mapping_and_notes() -> None:
    """Jira names map case-insensitively; unmapped names pass through; empty uses the default."""
    mapping = {"Done": "approved", "False Positive": "denied"}
    assert keeptrusts_outcome("done", mapping, default_resolution="Done") == "approved"
    assert keeptrusts_outcome("Won't Do", mapping, default_resolution="Done") == "Won't Do"
    assert keeptrusts_outcome("", mapping, default_resolution="Done") == "approved"
    assert wanted_jira_resolution("Denied", {"denied": "Won't Do"}) == "Won't Do"
    assert wanted_jira_resolution("expired", {}) is None
    note = keeptrusts_notes(issue_key="AIGOV-12", actor_name="Ada Reviewer", resolution="Done")
    assert note == "Resolved via Jira AIGOV-12 by Ada Reviewer: Done"
    anonymous = keeptrusts_notes(issue_key="AIGOV-12", actor_name="", resolution="Done")
    assert anonymous == "Resolved via Jira AIGOV-12: Done"
    assert actor_for("acc-1", {"acc-1": "usr_1"}, default_actor_id="kt-jira") == "usr_1"
    assert actor_for("acc-2", {"acc-1": "usr_1"}, default_actor_id="kt-jira") == "kt-jira"


def _step(
    tid: str, name: str, to: str, category: str, resolutions: tuple[str, ...] | None = None
) -> Transition:
    return Transition(
        id=tid,
        name=name,
        to_id=to,
        to_name=name,
        to_category=category,
        has_resolution=resolutions is not None,
        resolutions=resolutions or (),
    )


ALL = ("Done", "Won't Do", "False Positive")


def test_choose_step_prefers_a_done_transition_named_like_the_resolution() -> None:
    """A done transition matching the wanted resolution beats the others."""
    steps = [
        _step("1", "Close", "6", "done"),
        _step("2", "Done", "7", "done", ALL),
    ]
    assert choose_step(steps, visited={"1"}, wanted="Done", hops_left=5) == steps[1]


def test_choose_step_avoids_a_done_transition_named_like_another_resolution() -> None:
    """'Mark False Positive' is not taken for 'Done' while another way forward exists."""
    steps = [
        _step("21", "Submit for Review", "10001", "indeterminate"),
        _step("51", "False Positive", "10002", "done", ALL),
    ]
    assert choose_step(steps, visited={"3"}, wanted="Done", hops_left=5) == steps[0]
    # ...but it is, as a last resort, when no hops remain for a detour.
    assert choose_step(steps, visited={"3"}, wanted="Done", hops_left=1) == steps[1]
    # ...and it is the first choice when it IS the wanted resolution.
    assert choose_step(steps, visited={"3"}, wanted="False Positive", hops_left=5) == steps[1]


def test_choose_step_never_revisits_and_prefers_progress() -> None:
    """Visited statuses are skipped; in-progress targets come before to-do ones."""
    steps = [
        _step("1", "Back to Open", "10000", "new"),
        _step("2", "Start", "3", "indeterminate"),
        _step("3", "Loop", "9", "indeterminate"),
    ]
    assert choose_step(steps, visited={"9"}, wanted=None, hops_left=5) == steps[1]
    assert choose_step(steps[:1], visited={"10000"}, wanted=None, hops_left=5) is None


def test_resolution_only_where_the_screen_has_it() -> None:
    """No field: none; the wanted name if allowed; else Done/Fixed...; else none."""
    assert resolution_for(_step("1", "Close", "6", "done"), "Done") is None
    assert resolution_for(_step("1", "R", "5", "done", ALL), "won't do") == "Won't Do"
    assert resolution_for(_step("1", "R", "5", "done", ALL), "Bogus") == "Done"
    assert resolution_for(_step("1", "R", "5", "done", ("Fixed",)), None) == "Fixed"
    assert resolution_for(_step("1", "R", "5", "done", ("Duplicate",)), None) is None


def test_step_reads_the_transitions_payload() -> None:
    """Transition.from_json takes target, category and the resolution screen from Jira's JSON."""
    step = Transition.from_json(
        {
            "id": "31",
            "name": "Resolve",
            "to": {"id": "5", "name": "Resolved", "statusCategory": {"key": "done"}},
            "fields": {"resolution": {"required": True, "allowedValues": [{"name": "Done"}]}},
        }
    )
    assert (step.to_id, step.done, step.has_resolution, step.resolution_required) == (
        "5",
        True,
        True,
        True,
    )
    assert step.resolutions == ("Done",)


@pytest.mark.parametrize("expired", [False, True])
def test_comments_keep_payload_text_as_text(expired: bool) -> None:
    """Notes with markup characters stay literal text in valid ADF and escaped wiki markup."""
    res = UpstreamResolution(
        escalation_id="esc_1",
        outcome="denied",
        notes="*bold* {code} [link|http://x] <script>",
        resolved_by="Rita",
        expired=expired,
    )
    for doc in (resolved_upstream(res, status="Done"), reopened_after_resolve(res, actor="Ada")):
        adf = to_adf(doc)
        validate_adf(adf)
        wiki = to_wiki(doc)
        assert "*bold*" not in wiki or "\\*bold" in wiki
    assert "*bold* {code} [link|http://x] <script>" in str(
        to_adf(resolved_upstream(res, status="X"))
    )
