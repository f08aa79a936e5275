"""Reconcile planning: compare Keeptrusts, the bridge's database and Jira, and decide repairs.

Pure: values in, a ``Plan`` out. It never reads the clock (``now`` is passed in) and imports no
I/O module; ``reconcile.py`` gathers the inputs and carries the plan out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kt_jira.jobs import Kind
from kt_jira.render.sanitise import correlation_label
from kt_jira.tickets.sla_clock import Signal

OPEN = "open"
CLOSED = frozenset({"resolved", "expired"})
MARKER_PREFIX = "kt-esc-"


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


def needs_detail(
    keeptrusts_open: Iterable[RemoteEscalation], local: Iterable[LocalEscalation]
) -> list[str]:
    """Escalations open in the database but not in Keeptrusts' open list: ask for each."""
    open_ids = {r.escalation_id for r in keeptrusts_open}
    return sorted(
        e.escalation_id for e in local if e.status == OPEN and e.escalation_id not in open_ids
    )


def linked_issues_to_fetch(
    upstream: Mapping[str, RemoteEscalation],
    local: Iterable[LocalEscalation],
    jira_issues: Iterable[JiraIssue],
) -> list[str]:
    """Linked issues of escalations closed upstream that search did not return: get each."""
    seen = {i.issue_id for i in jira_issues}
    return sorted(
        str(e.issue_id)
        for e in local
        if e.linked
        and e.issue_id not in seen
        and (r := upstream.get(e.escalation_id)) is not None
        and r.status in CLOSED
    )


def escalation_of(label: str, known: Mapping[str, str]) -> str | None:
    """The escalation a correlation label marks: by the known ids, else the plain form."""
    if label in known:
        return known[label]
    if label.startswith(MARKER_PREFIX):
        candidate = label[len(MARKER_PREFIX) :]
        if candidate and correlation_label(candidate) == label:
            return candidate
    return None


def plan(
    *,
    keeptrusts_open: Sequence[RemoteEscalation],
    local: Sequence[LocalEscalation],
    jira_issues: Sequence[JiraIssue],
    now: datetime,
    upstream: Mapping[str, RemoteEscalation] | None = None,
    jobs: Mapping[tuple[str, str], JobState] | None = None,
    grace: timedelta = timedelta(0),
) -> Plan:
    """Every repair that brings the three views together, one escalation at a time.

    ``upstream`` holds escalations fetched one by one (see ``needs_detail``); ``jobs`` what the
    queue already holds; issues created less than ``grace`` ago are not folded yet (search lags,
    and a create may still be adopting them).
    """
    remote = {**(upstream or {}), **{r.escalation_id: r for r in keeptrusts_open}}
    local_by_id = {e.escalation_id: e for e in local}
    issues = {i.issue_id: i for i in jira_issues}
    known = {correlation_label(eid): eid for eid in {*remote, *local_by_id}}
    groups: dict[str, list[JiraIssue]] = {}
    for issue in jira_issues:
        marked = {e for label in issue.labels if (e := escalation_of(label, known))}
        for eid in sorted(marked | set(issue.marker_ids)):
            groups.setdefault(eid, []).append(issue)
    context = _Context(jobs=jobs or {}, now=now, grace=grace)
    actions: list[Action] = []
    for eid in sorted({*remote, *local_by_id, *groups}):
        loc = local_by_id.get(eid)
        linked = issues.get(str(loc.issue_id)) if loc is not None and loc.linked else None
        group = groups.get(eid, [])
        actions += context.sync(eid, remote.get(eid), loc, linked, group)
        actions += context.fold(eid, loc, group)
    return Plan(
        actions=tuple(actions),
        keeptrusts_open=len(keeptrusts_open),
        local_checked=len(local_by_id),
        jira_issues=len(issues),
    )


@dataclass(frozen=True)
class _Context:
    jobs: Mapping[tuple[str, str], JobState]
    now: datetime
    grace: timedelta

    def sync(
        self,
        eid: str,
        remote: RemoteEscalation | None,
        loc: LocalEscalation | None,
        linked: JiraIssue | None,
        group: list[JiraIssue],
    ) -> list[Action]:
        if remote is not None and remote.status == "missing":
            return [_note(eid, "Keeptrusts no longer knows this escalation (404)")]
        if remote is not None and remote.status == OPEN:
            return self._open_upstream(eid, remote, loc, linked, group)
        closed_remote = remote is not None and remote.status in CLOSED
        closed_here = loc is not None and loc.status in CLOSED
        if not (closed_remote or closed_here):
            return []
        actions: list[Action] = []
        if remote is not None and closed_remote and loc is not None and loc.status == OPEN:
            why = f"{remote.status} in Keeptrusts while the bridge missed it"
            actions.append(_act(ActionKind.RECORD_RESOLUTION, eid, why, remote=remote))
        if loc is None or not loc.linked:
            return actions
        if linked is None:
            if closed_remote and loc.status == OPEN:
                actions.append(_note(eid, f"linked issue {loc.issue_key} was not found in Jira"))
            return actions
        if linked.done:
            return actions
        state = self.jobs.get((Kind.RESOLVE_JIRA, eid))
        if state is JobState.DONE and loc.status in CLOSED:
            why = f"{linked.key} was reopened after the bridge resolved it; resolve is final"
            return [*actions, _note(eid, why, linked)]
        why = f"closed in Keeptrusts, {linked.key} is still {linked.status or 'open'}"
        return [*actions, self._job(Kind.RESOLVE_JIRA, ActionKind.RESOLVE_JIRA, eid, why, linked)]

    def _open_upstream(
        self,
        eid: str,
        remote: RemoteEscalation,
        loc: LocalEscalation | None,
        linked: JiraIssue | None,
        group: list[JiraIssue],
    ) -> list[Action]:
        if loc is None:
            why = "open in Keeptrusts, never reached the bridge"
            create = _act(ActionKind.CREATE, eid, why, search_first=bool(group))
            return [_act(ActionKind.LEARN, eid, why, remote=remote), create]
        if not loc.linked:
            search = bool(group) or loc.link_state == "attempting"
            why = "open in Keeptrusts with no ticket"
            return [
                self._job(Kind.CREATE_ISSUE, ActionKind.CREATE, eid, why, None, search_first=search)
            ]
        if linked is not None and linked.done:
            why = f"{linked.key} is {linked.status or 'done'} in Jira, still open in Keeptrusts"
            action = self._job(
                Kind.RESOLVE_KEEPTRUSTS, ActionKind.RESOLVE_KEEPTRUSTS, eid, why, linked
            )
            return [action]
        return []

    def _job(
        self,
        kind: str,
        action: ActionKind,
        eid: str,
        why: str,
        issue: JiraIssue | None,
        *,
        search_first: bool = False,
    ) -> Action:
        state = self.jobs.get((kind, eid))
        if state is JobState.PENDING:
            return _note(eid, f"{why}; a {kind} job is already queued", issue)
        if state is JobState.DEAD:
            return _note(eid, f"{why}; its {kind} job is dead: `kt-jira jobs replay`", issue)
        return _act(
            action,
            eid,
            why,
            issue=issue,
            search_first=search_first,
            resolution=issue.resolution if issue is not None else "",
        )

    def fold(self, eid: str, loc: LocalEscalation | None, group: list[JiraIssue]) -> list[Action]:
        if not group:
            return []
        in_flight = self.jobs.get((Kind.CREATE_ISSUE, eid)) is JobState.PENDING or (
            loc is not None and loc.link_state == "attempting"
        )
        if loc is not None and loc.linked:
            keep_id, keep_key = str(loc.issue_id), str(loc.issue_key or loc.issue_id)
        elif in_flight or len(group) < 2:
            # A create may be adopting one of these right now; the next run folds the rest.
            return []
        else:
            oldest = min(group, key=lambda i: (i.created_text, _int(i.issue_id)))
            keep_id, keep_key = oldest.issue_id, oldest.key
        actions = []
        for issue in sorted(group, key=lambda i: _int(i.issue_id)):
            if issue.issue_id == keep_id or issue.done:
                continue
            if issue.created is not None and issue.created > self.now - self.grace:
                actions.append(_note(eid, f"{issue.key} is too new to fold yet", issue))
                continue
            why = f"{issue.key} duplicates {keep_key} (same correlation marker)"
            actions.append(_act(ActionKind.FOLD, eid, why, issue=issue, keep_key=keep_key))
        return actions


def _act(
    kind: ActionKind,
    eid: str,
    reason: str,
    *,
    issue: JiraIssue | None = None,
    remote: RemoteEscalation | None = None,
    keep_key: str = "",
    search_first: bool = False,
    resolution: str = "",
) -> Action:
    return Action(
        kind=kind,
        escalation_id=eid,
        reason=reason,
        issue_id=issue.issue_id if issue else "",
        issue_key=issue.key if issue else "",
        keep_key=keep_key,
        search_first=search_first,
        resolution=resolution,
        remote=remote,
    )


def _note(eid: str, reason: str, issue: JiraIssue | None = None) -> Action:
    return _act(ActionKind.NOTE, eid, reason, issue=issue)


def _int(value: str) -> int:
    return int(value) if value.isdigit() else 0
