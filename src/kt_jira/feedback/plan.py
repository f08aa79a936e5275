"""The false-positive feedback loop: when one policy's tickets keep being resolved as false
positives, one "Policy improvement" Story says so, linked to them. Pure: facts and ``now`` in,
a step and document trees out.

The rule, per policy (``feedback.false_positive``): once ``threshold`` false positives were
resolved within a rolling ``window``, the bridge opens Story number ``sequence`` for it. The Story
covers its window: until ``opened_at + window``, later false positives of that policy (resolved
after ``opened_at - window``) are linked to it with a comment, never a second Story. After the
window a new count starts from the false positives resolved since, and reaching the threshold
again opens the next Story. ``sequence`` makes each Story's job key unique, so it is created
exactly once like any ticket: ``policy_key`` and ``marker`` name it in keys and in Jira, and
``story_draft`` is the issue it becomes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kt_jira.config.sla import FalsePositiveSettings
from kt_jira.render.nodes import BulletList, Document, Paragraph, Text, paragraph, text
from kt_jira.render.sanitise import one_line
from kt_jira.tickets.draft import IssueDraft

SUMMARY_PREFIX = "Policy improvement: "
MARKER_PREFIX = "kt-fp-"
_LISTED = 50  # tickets named in a body; the Jira links hold all of them


@dataclass(frozen=True, kw_only=True)
class FalsePositive:
    """One ticket of the policy resolved as a false positive (in Jira or in Keeptrusts)."""

    escalation_id: str
    issue_key: str
    model: str = ""
    gateway_id: str = ""
    resolved_at: datetime


@dataclass(frozen=True, kw_only=True)
class Story:
    """The latest improvement Story of a policy, as the bridge recorded it."""

    sequence: int
    opened_at: datetime
    members: frozenset[str]  #: escalation ids counted in (and linked to) the Story


@dataclass(frozen=True, kw_only=True)
class Pattern:
    """What the Story describes: the false positives, and how many tickets were resolved."""

    policy: str
    false_positives: tuple[FalsePositive, ...]
    resolved: int  #: every ticket of the policy resolved over the same dates, any outcome

    @property
    def rate(self) -> float:
        return len(self.false_positives) / max(self.resolved, len(self.false_positives), 1)

    @property
    def first(self) -> datetime:
        return min(fp.resolved_at for fp in self.false_positives)

    @property
    def last(self) -> datetime:
        return max(fp.resolved_at for fp in self.false_positives)


@dataclass(frozen=True, kw_only=True)
class OpenStory:
    """Create Story ``sequence`` for the policy, linking ``members``."""

    sequence: int
    members: tuple[FalsePositive, ...]


@dataclass(frozen=True, kw_only=True)
class LinkMore:
    """Link ``members`` to the policy's current Story and comment on it."""

    sequence: int
    members: tuple[FalsePositive, ...]


Step = OpenStory | LinkMore | None


def plan(
    false_positives: Iterable[FalsePositive],
    latest: Story | None,
    *,
    threshold: int,
    window: timedelta,
    now: datetime,
) -> Step:
    """What to do for one policy now, given all its false positives and its latest Story."""
    known = latest.members if latest else frozenset()
    fresh = sorted(
        (fp for fp in false_positives if fp.escalation_id not in known and fp.resolved_at <= now),
        key=lambda fp: (fp.resolved_at, fp.escalation_id),
    )
    if latest is not None and now < latest.opened_at + window:
        joining = tuple(fp for fp in fresh if fp.resolved_at > latest.opened_at - window)
        return LinkMore(sequence=latest.sequence, members=joining) if joining else None
    since = latest.opened_at + window if latest is not None else None
    counted = [fp for fp in fresh if since is None or fp.resolved_at >= since]
    recent = [fp for fp in counted if fp.resolved_at > now - window]
    if len(recent) < threshold:
        return None
    return OpenStory(sequence=(latest.sequence + 1) if latest else 1, members=tuple(recent))


def horizon(now: datetime, window: timedelta) -> datetime:
    """The oldest resolution ``plan`` can use at ``now``: a Story still open (opened less than
    ``window`` ago) takes false positives resolved up to ``window`` before it opened."""
    return now - 2 * window


def policy_key(policy: str) -> str:
    """The policy's key in the store and in job keys: the sha256 hex digest of its name, so a
    policy name of any length and alphabet gives a short, fixed key."""
    return hashlib.sha256(policy.encode("utf-8")).hexdigest()


def marker(key: str, sequence: int) -> str:
    """The label unique to one Story (``kt-fp-<16 hex digits of the policy key>-<sequence>``):
    what an uncertain create searches for before it creates again."""
    return f"{MARKER_PREFIX}{key[:16]}-{sequence}"


def story_draft(
    pattern: Pattern, *, settings: FalsePositiveSettings, project: str, marker: str
) -> IssueDraft:
    """The Story as an issue draft: the configured type, priority and labels plus its marker."""
    return IssueDraft(
        project=project,
        issue_type=settings.issue_type,
        summary=summary(pattern.policy),
        description=story_body(pattern),
        priority=settings.priority,
        labels=tuple(settings.labels),
        correlation_label=marker,
        rule="feedback.false_positive",
    )


def summary(policy: str) -> str:
    """``Policy improvement: <policy>``, one line within Jira's 255 characters."""
    return one_line(SUMMARY_PREFIX + (policy or "(unnamed policy)"), 255)


def story_body(pattern: Pattern) -> Document:
    """The Story's description: count, rate, date range, models, gateways and the tickets."""
    fps = pattern.false_positives
    return Document(
        content=(
            paragraph(
                text(f"{len(fps)} tickets of policy "),
                _strong(pattern.policy),
                text(
                    f" were resolved as false positives between {_day(pattern.first)} and "
                    f"{_day(pattern.last)}: {len(fps)} of {max(pattern.resolved, len(fps))} "
                    f"resolved tickets ({pattern.rate:.0%})."
                ),
            ),
            paragraph(
                text("Tune the policy so it stops flagging this pattern; the tickets are linked.")
            ),
            paragraph(_strong("Models")),
            _counts(fp.model for fp in fps),
            paragraph(_strong("Gateways")),
            _counts(fp.gateway_id for fp in fps),
            paragraph(_strong("Tickets")),
            _tickets(fps),
        )
    )


def more_comment(policy: str, members: Sequence[FalsePositive], total: int) -> Document:
    """The comment when later false positives join the Story."""
    return Document(
        content=(
            paragraph(
                text(f"{len(members)} more ticket{'s' if len(members) != 1 else ''} of policy "),
                _strong(policy),
                text(f" resolved as false positive ({total} in all); linked to this Story."),
            ),
            _tickets(members),
        )
    )


def _strong(value: str) -> Text:
    return Text(text=value, marks=frozenset({"strong"}))


def _day(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d")


def _counts(values: Iterable[str]) -> BulletList:
    counted = Counter(value or "(not given)" for value in values)
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return BulletList(items=tuple((paragraph(text(f"{name}: {n}")),) for name, n in ordered))


def _tickets(fps: Sequence[FalsePositive]) -> Paragraph | BulletList:
    shown = [
        (
            paragraph(
                text(f"{fp.issue_key} (escalation {fp.escalation_id}, {_day(fp.resolved_at)})")
            ),
        )
        for fp in fps[:_LISTED]
    ]
    if len(fps) > _LISTED:
        shown.append((paragraph(text(f"and {len(fps) - _LISTED} more, linked")),))
    return BulletList(items=tuple(shown))
