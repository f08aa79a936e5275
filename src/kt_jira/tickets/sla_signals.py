"""What a Jira change means for a ticket's SLA clocks: one webhook event -> dated signals. Pure.

The clocks (``sla_clock.evaluate``) only need dated facts, and they are robust to repeats and to
signals that change nothing (a RESUMED without a pause, a REOPENED of an issue never done), so
this mapping stays local: it reads one event, never the link's history.

- A status change: into the done category is DONE; into any other category is REOPENED (it
  counts only after a DONE) and, outside the to-do category, LEFT_TODO; into a configured waiting
  status is PAUSED, out of one RESUMED.
- An assignee set is ASSIGNED; a comment is HUMAN_COMMENT. Both, and LEFT_TODO, are responses
  only when a person made them: the bridge's own account (its ``/myself`` id) never responds.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from kt_jira.events.jira import JiraEvent, JiraEventType
from kt_jira.tickets.sla_clock import RESPONSES, Signal, SignalKind


def signals_from_jira(
    event: JiraEvent, *, bridge_account: str, pause_statuses: Collection[str] = ()
) -> list[Signal]:
    """The SLA signals ``event`` carries, at the time the change happened."""
    at = _when(event)
    if at is None:
        return []
    waiting = {name.casefold() for name in pause_statuses}
    kinds: list[SignalKind] = []
    if event.type is JiraEventType.ISSUE_UPDATED:
        change = event.status_change
        if change is not None:
            category = event.status_category
            kinds.append(SignalKind.DONE if category == "done" else SignalKind.REOPENED)
            if category not in ("done", "new", ""):
                kinds.append(SignalKind.LEFT_TODO)
            into = (change.to_name or event.status_name).casefold()
            if into in waiting:
                kinds.append(SignalKind.PAUSED)
            elif change.from_name.casefold() in waiting:
                kinds.append(SignalKind.RESUMED)
        if event.assignee_change is not None and event.assignee_change.to_id:
            kinds.append(SignalKind.ASSIGNED)
    elif event.type is JiraEventType.COMMENT_CREATED:
        kinds.append(SignalKind.HUMAN_COMMENT)
    by_bridge = bool(bridge_account) and event.actor_id == bridge_account
    return [Signal(kind=kind, at=at) for kind in kinds if not (by_bridge and kind in RESPONSES)]


def _when(event: JiraEvent) -> datetime | None:
    if event.type is JiraEventType.COMMENT_CREATED and event.comment_created is not None:
        return event.comment_created
    return event.timestamp
