"""The false-positive loop end to end: the sync harness (the bridge between the sandbox Jira and
the sandbox Keeptrusts) on a clock the test moves, with helpers that make tickets, resolve them
in Jira or in the console, run the scan and read the Stories and links the sandbox holds (used
by tests/integration/feedback)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kt_jira.sandbox import SandboxIssue, guide_workflow
from kt_jira.sandbox.jira.links import IssueLink
from kt_jira.sandbox.jira.site import ISSUE_TYPES
from tests.support.sync import HarnessFactory, SyncHarness

STORY_LABEL = "ai-policy-tuning"
#: "False Positive" passes through to Keeptrusts unmapped, so both ways of counting are used:
#: the Jira resolution's name, and the console's ``false_positive`` outcome.
SYNC = {"resolution_to_keeptrusts": {"Done": "approved"}}


@dataclass
class Clock:
    """Wall time plus an offset the test moves forward (the sandboxes keep wall time)."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@dataclass
class FeedbackHarness:
    """A sync harness with the clock its bridge runs on, and the loop's moves."""

    sync: SyncHarness
    clock: Clock

    async def tickets(self, *ids: str, policy: str = "pii-detector", **fields: Any) -> None:
        """New escalations of ``policy``, delivered, each with its ticket."""
        for escalation_id in ids:
            self.sync.keeptrusts.add_escalation(escalation_id, policy_name=policy, **fields)
        await self.sync.settle()

    def issue(self, escalation_id: str) -> SandboxIssue:
        """The ticket of an escalation, found by its correlation label."""
        [issue] = self.sync.jira.issues_with_label(f"kt-esc-{escalation_id}")
        return issue

    async def false_positive_in_jira(self, *ids: str) -> None:
        """A person closes each ticket as False Positive (the guide's workflow)."""
        for escalation_id in ids:
            key = self.issue(escalation_id).key
            self.sync.jira.transition_issue(key, "In Progress")
            self.sync.jira.transition_issue(key, "False Positive")
        await self.sync.settle()

    async def resolve_in_console(self, *ids: str, outcome: str = "false_positive") -> None:
        """A reviewer resolves each escalation in the Keeptrusts console with ``outcome``."""
        for escalation_id in ids:
            self.sync.keeptrusts.resolve_in_console(escalation_id, resolution=outcome)
        await self.sync.settle()

    async def scan(self) -> int:
        """One scan at the clock's time, then everything it started, run to the end."""
        enqueued = await self.sync.bridge.feedback.scan(self.clock())
        await self.sync.settle()
        return enqueued

    def stories(self) -> list[SandboxIssue]:
        """Every issue the loop created (they carry its label)."""
        return self.sync.jira.issues_with_label(STORY_LABEL)

    def links(self, story: SandboxIssue) -> list[IssueLink]:
        return self.sync.jira.state.links.of(story.id)

    def linked_keys(self, story: SandboxIssue) -> list[str]:
        """The keys of the tickets linked to ``story``, as the inward side of each link."""
        issues = self.sync.jira.state.issues
        return sorted(issues[link.inward_id].key for link in self.links(story))

    def issue_type(self, issue: SandboxIssue) -> str:
        return next(t.name for t in ISSUE_TYPES if t.id == issue.issue_type_id)


FeedbackFactory = Callable[..., Awaitable[FeedbackHarness]]


def feedback_factory(make_harness: HarnessFactory) -> FeedbackFactory:
    """Build harnesses whose ``false_positive`` settings are ``config`` (threshold 3 unless
    given), on their own clock, with the guide's workflow on AIGOV."""

    async def factory(
        *, site: Any = None, jira: dict[str, Any] | None = None, **config: Any
    ) -> FeedbackHarness:
        """``site`` and ``jira`` as for ``make_harness``; the rest is ``false_positive``."""
        clock = Clock()
        harness = await make_harness(
            site=site,
            clock=clock,
            jira=jira or {},
            sync=SYNC,
            feedback={"false_positive": {"threshold": 3, **config}},
        )
        harness.jira.set_workflow("AIGOV", guide_workflow())
        return FeedbackHarness(sync=harness, clock=clock)

    return factory
