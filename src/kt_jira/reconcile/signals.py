"""What the SLA clocks learn from a reconcile survey: the dated Jira facts a missed webhook would
have carried. Pure.

Search gives the state, not the history, so only facts with a date on the issue count: done at
``resolutiondate``, and in progress since ``statuscategorychangedate`` (the issue left to-do).
Webhook signals and these may overlap; the clocks take each fact once.
"""

from __future__ import annotations

from collections.abc import Sequence

from kt_jira.reconcile.plan import JiraIssue, LocalEscalation
from kt_jira.tickets.sla_clock import Signal, SignalKind


def sla_facts(
    local: Sequence[LocalEscalation], issues: Sequence[JiraIssue]
) -> tuple[tuple[str, Signal], ...]:
    """``(escalation id, signal)`` for every linked issue whose state carries a dated fact (a
    group's member has no clock: its group's ticket runs on the opener's)."""
    by_id = {issue.issue_id: issue for issue in issues}
    found: list[tuple[str, Signal]] = []
    for escalation in local:
        owns = escalation.linked and escalation.group_role != "member"
        issue = by_id.get(str(escalation.issue_id)) if owns else None
        if issue is None:
            continue
        if issue.category == "done" and issue.resolved_at is not None:
            found.append(
                (escalation.escalation_id, Signal(kind=SignalKind.DONE, at=issue.resolved_at))
            )
        elif issue.category == "indeterminate" and issue.category_changed_at is not None:
            left = Signal(kind=SignalKind.LEFT_TODO, at=issue.category_changed_at)
            found.append((escalation.escalation_id, left))
    return tuple(found)
