"""The false-positive feedback loop's pure rule: when a Story opens, what joins it, and after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kt_jira.config.sla import FalsePositiveSettings
from kt_jira.feedback.plan import (
    FalsePositive,
    LinkMore,
    OpenStory,
    Pattern,
    Story,
    horizon,
    marker,
    more_comment,
    plan,
    policy_key,
    story_body,
    story_draft,
    summary,
)
from kt_jira.render.adf import to_adf
from kt_jira.render.wiki import to_wiki
from tests.support.contracts import validate_adf

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def fp(n: int, at: timedelta, *, model: str = "gpt-4o", gateway: str = "gw-eu") -> FalsePositive:
    return FalsePositive(
        escalation_id=f"esc_{n}",
        issue_key=f"AIGOV-{n}",
        model=model,
        gateway_id=gateway,
        resolved_at=T0 + at,
    )


def _plan(fps: list[FalsePositive], latest: Story | None, now: timedelta) -> object:
    return plan(fps, latest, threshold=5, window=WEEK, now=T0 + now)


def test_no_story_before_the_threshold() -> None:
    four = [fp(i, timedelta(hours=i)) for i in range(4)]
    assert _plan(four, None, timedelta(hours=5)) is None


def test_the_fifth_false_positive_within_the_window_opens_story_one() -> None:
    five = [fp(i, timedelta(hours=i)) for i in range(5)]
    step = _plan(five, None, timedelta(hours=5))
    assert isinstance(step, OpenStory)
    assert step.sequence == 1
    assert [m.escalation_id for m in step.members] == [f"esc_{i}" for i in range(5)]


def test_false_positives_spread_wider_than_the_window_do_not_count_together() -> None:
    spread = [fp(i, timedelta(days=2 * i)) for i in range(5)]  # one every two days
    assert _plan(spread, None, timedelta(days=8, hours=1)) is None


def test_false_positives_not_yet_happened_are_ignored() -> None:
    five = [fp(i, timedelta(hours=i)) for i in range(5)]
    assert _plan(five, None, timedelta(hours=3, minutes=30)) is None


def test_later_false_positives_join_the_open_story_not_a_second_one() -> None:
    story = Story(
        sequence=1,
        opened_at=T0 + timedelta(hours=5),
        members=frozenset(f"esc_{i}" for i in range(5)),
    )
    fps = [fp(i, timedelta(hours=i)) for i in range(8)]
    step = _plan(fps, story, timedelta(days=2))
    assert isinstance(step, LinkMore)
    assert (step.sequence, [m.escalation_id for m in step.members]) == (
        1,
        ["esc_5", "esc_6", "esc_7"],
    )
    members = story.members | {m.escalation_id for m in step.members}
    again = Story(sequence=1, opened_at=story.opened_at, members=frozenset(members))
    assert _plan(fps, again, timedelta(days=2)) is None  # nothing new: nothing to do


def test_after_the_window_a_new_count_opens_the_next_story() -> None:
    story = Story(sequence=1, opened_at=T0, members=frozenset(f"esc_{i}" for i in range(5)))
    late = [fp(10 + i, WEEK + timedelta(hours=i)) for i in range(5)]
    early_stragglers = [fp(20, timedelta(days=3))]  # resolved inside the first window, not linked
    fps = [fp(i, timedelta(0)) for i in range(5)] + early_stragglers + late
    assert _plan(fps, story, WEEK + timedelta(hours=3)) is None  # four so far
    step = _plan(fps, story, WEEK + timedelta(hours=5))
    assert isinstance(step, OpenStory)
    assert step.sequence == 2
    assert [m.escalation_id for m in step.members] == [f"esc_{10 + i}" for i in range(5)]


def test_old_false_positives_never_join_a_later_story() -> None:
    story = Story(sequence=1, opened_at=T0 + WEEK * 3, members=frozenset({"esc_1"}))
    ancient = [fp(99, timedelta(0))]  # three weeks before the Story opened
    assert _plan(ancient, story, WEEK * 3 + timedelta(days=1)) is None


def _pattern() -> Pattern:
    fps = (
        fp(1, timedelta(0)),
        fp(2, timedelta(days=1), model="claude"),
        fp(3, timedelta(days=2), gateway="gw-us"),
    )
    return Pattern(policy="pii-detector", false_positives=fps, resolved=12)


def _lines(node: object) -> list[str]:
    """The text of an ADF tree, one entry per paragraph."""
    if isinstance(node, dict):
        if node.get("type") == "paragraph":
            return ["".join(c.get("text", "") for c in node.get("content", []))]
        return [line for child in node.get("content", []) for line in _lines(child)]
    return []


def test_the_story_describes_count_rate_dates_models_gateways_and_tickets() -> None:
    lines = _lines(to_adf(story_body(_pattern())))
    assert lines[0] == (
        "3 tickets of policy pii-detector were resolved as false positives between 2026-12-01 "
        "and 2026-12-03: 3 of 12 resolved tickets (25%)."
    )
    models, gateways = lines.index("Models"), lines.index("Gateways")
    assert lines[models + 1 : gateways] == ["gpt-4o: 2", "claude: 1"]
    assert lines[gateways + 1 : gateways + 3] == ["gw-eu: 2", "gw-us: 1"]
    assert lines[-1] == "AIGOV-3 (escalation esc_3, 2026-12-03)"


@pytest.mark.parametrize("policy", ["pii-detector", "*bold* {color:red}x{color} [link|http://x]"])
def test_story_and_comment_bodies_are_valid_adf_and_escaped_wiki(policy: str) -> None:
    pattern = Pattern(policy=policy, false_positives=_pattern().false_positives, resolved=3)
    for doc in (story_body(pattern), more_comment(policy, pattern.false_positives, 8)):
        validate_adf(to_adf(doc))
        wiki = to_wiki(doc)
        assert "{color:red}" not in wiki  # user values never become markup
        assert "[link|http://x]" not in wiki


def test_summary_is_one_line_within_jiras_limit() -> None:
    assert summary("pii-detector") == "Policy improvement: pii-detector"
    long = summary("p\nq" + "x" * 400)
    assert "\n" not in long
    assert len(long) <= 255


def test_the_horizon_reaches_back_as_far_as_an_open_story_can() -> None:
    """A Story opened just under a window ago takes false positives resolved a window before
    it: the scan reads two windows back, and plan() finds those at the horizon's edge."""
    now = T0 + WEEK * 3
    assert horizon(now, WEEK) == now - 2 * WEEK
    story = Story(sequence=1, opened_at=now - WEEK + timedelta(minutes=1), members=frozenset())
    edge = fp(1, WEEK + timedelta(minutes=2))  # just after opened_at - window
    step = plan([edge], story, threshold=5, window=WEEK, now=now)
    assert isinstance(step, LinkMore)
    assert edge.resolved_at >= horizon(now, WEEK)


def test_policy_keys_and_markers_are_short_and_distinct() -> None:
    """The key is the name's sha256; the marker is a label unique to one Story of one policy."""
    key = policy_key("pii-detector")
    assert key == "d22a88e2e1ccef78c4f1828e75b88f932ef2eb60f75212c6e0c6a2df219f46dc"
    assert policy_key("名前 " * 500) != policy_key("名前 " * 499)
    assert len(policy_key("x" * 10_000)) == 64
    assert marker(key, 2) == f"kt-fp-{key[:16]}-2"
    assert marker(key, 2) != marker(key, 3) != marker(policy_key("other"), 3)
    assert " " not in marker(policy_key("a b"), 1)


def test_the_story_draft_carries_the_configured_type_labels_priority_and_marker() -> None:
    """story_draft: summary, body, issue type, priority, labels and the marker as its label."""
    settings = FalsePositiveSettings(issue_type="Improvement", priority="Low", labels=["a", "b"])
    draft = story_draft(_pattern(), settings=settings, project="SAFETY", marker="kt-fp-x-1")
    assert (draft.project, draft.issue_type, draft.priority) == ("SAFETY", "Improvement", "Low")
    assert (draft.labels, draft.correlation_label) == (("a", "b"), "kt-fp-x-1")
    assert draft.summary == "Policy improvement: pii-detector"
    assert draft.description == story_body(_pattern())
    default = story_draft(_pattern(), settings=FalsePositiveSettings(), project="P", marker="m")
    assert (default.issue_type, default.priority, default.labels) == (
        "Story",
        None,
        ("ai-policy-tuning",),
    )
