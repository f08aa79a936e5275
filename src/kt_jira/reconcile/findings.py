"""The values reconcile compares and decides with: the three views of an escalation (Keeptrusts,
the bridge's database, Jira), the queue's state, and the repairs of a ``Plan``.

Pure data, re-exported by ``reconcile.plan``, which decides with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kt_jira.tickets.sla_clock import Signal


class JobState(StrEnum):
    """What the queue holds for one (job kind, escalation): the most telling job wins."""

    PENDING = "pending"  #: queued or running: the repair is already under way
    DEAD = "dead"  #: dead letter: needs a person (`kt-jira jobs replay`), not another copy
    DONE = "done"


@dataclass(frozen=True, kw_only=True)
class RemoteEscalation:
    """One escalation as Keeptrusts reports it now; ``payload`` is its raw API object."""

    escalation_id: str
    status: str  #: open, resolved, expired, or missing (Keeptrusts answered 404)
    resolution: str = ""
    notes: str = ""
    resolved_by: str = ""
    resolved_at: datetime | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class LocalEscalation:
    """What the bridge's database says about one escalation and its link."""

    escalation_id: str
    status: str  #: open, resolved or expired
    link_state: str | None = None  #: pending, attempting, created (None: no link row)
    issue_id: str | None = None
    issue_key: str | None = None
    #: in a group: ``opener`` (its link is the group's ticket) or ``member`` (the link fields
    #: above are then the group ticket's, from the opener's link)
    group_role: str | None = None
    group_open: int = 0  #: an opener's members still open

    @property
    def linked(self) -> bool:
        return self.link_state == "created" and bool(self.issue_id)


@dataclass(frozen=True, kw_only=True)
class JiraIssue:
    issue_id: str
    key: str
    labels: tuple[str, ...] = ()
    created: datetime | None = None
    created_text: str = ""  #: Jira's own string: the adopt rule orders by it, so do we
    done: bool = False  #: statusCategory.key == "done"
    status: str = ""
    resolution: str = ""
    marker_ids: tuple[str, ...] = ()  #: escalation ids in the Escalation ID field (field marker)
    category: str = ""  #: statusCategory.key: new, indeterminate or done
    resolved_at: datetime | None = None  #: resolutiondate
    category_changed_at: datetime | None = None  #: statuscategorychangedate


class ActionKind(StrEnum):
    LEARN = "learn escalation"
    CREATE = "create ticket"
    RESOLVE_KEEPTRUSTS = "resolve in Keeptrusts"
    RECORD_RESOLUTION = "record resolution"
    RESOLVE_JIRA = "resolve in Jira"
    RESOLVE_GROUP = "resolve group in Jira"
    FOLD = "fold duplicate"
    NOTE = "left as is"


@dataclass(frozen=True, kw_only=True)
class Action:
    """One repair (or, for ``NOTE``, a finding left for a person) and why."""

    kind: ActionKind
    escalation_id: str
    reason: str
    issue_id: str = ""
    issue_key: str = ""
    keep_key: str = ""  #: FOLD: the ticket that stays
    search_first: bool = False  #: CREATE: a ticket may exist; the job must look before creating
    resolution: str = ""  #: RESOLVE_KEEPTRUSTS: the Jira resolution name
    remote: RemoteEscalation | None = None  #: LEARN / RECORD_RESOLUTION: what Keeptrusts said


@dataclass(frozen=True, kw_only=True)
class Plan:
    actions: tuple[Action, ...]
    keeptrusts_open: int
    local_checked: int
    jira_issues: int
    sla_signals: tuple[tuple[str, Signal], ...] = ()  #: (escalation id, fact) webhooks missed

    def of(self, kind: ActionKind) -> list[Action]:
        return [a for a in self.actions if a.kind is kind]

    @property
    def writes(self) -> list[Action]:
        return [a for a in self.actions if a.kind is not ActionKind.NOTE]
