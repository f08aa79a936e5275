"""Reconcile planning: compare Keeptrusts, the bridge's database and Jira, and decide repairs.

Pure: values in, a ``Plan`` out. It never reads the clock (``now`` is passed in) and imports no
I/O module; ``reconcile.py`` gathers the inputs and carries the plan out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kt_jira.jobs import Kind
from kt_jira.reconcile.findings import Action as Action
from kt_jira.reconcile.findings import ActionKind as ActionKind
from kt_jira.reconcile.findings import JiraIssue as JiraIssue
from kt_jira.reconcile.findings import JobState as JobState
from kt_jira.reconcile.findings import LocalEscalation as LocalEscalation
from kt_jira.reconcile.findings import Plan as Plan
from kt_jira.reconcile.findings import RemoteEscalation as RemoteEscalation
from kt_jira.render.sanitise import correlation_label

OPEN = "open"
CLOSED = frozenset({"resolved", "expired"})
MARKER_PREFIX = "kt-esc-"


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
        if loc.group_role is not None:
            return [*actions, *self._group_closed(eid, loc, linked)]
        state = self.jobs.get((Kind.RESOLVE_JIRA, eid))
        if state is JobState.DONE and loc.status in CLOSED:
            why = f"{linked.key} was reopened after the bridge resolved it; resolve is final"
            return [*actions, _note(eid, why, linked)]
        why = f"closed in Keeptrusts, {linked.key} is still {linked.status or 'open'}"
        return [*actions, self._job(Kind.RESOLVE_JIRA, ActionKind.RESOLVE_JIRA, eid, why, linked)]

    def _group_closed(self, eid: str, loc: LocalEscalation, linked: JiraIssue) -> list[Action]:
        """A closed escalation of a group whose ticket is not done: its own note on the ticket
        (``resolve_jira``) until every one is closed, then the group's walk to done."""
        if loc.group_role == "member" or loc.group_open:
            done = self.jobs.get((Kind.RESOLVE_JIRA, eid)) is JobState.DONE
            if done and loc.status != OPEN:
                return []  # noted on the ticket; it stays open while its group has open ones
            why = f"closed in Keeptrusts; {linked.key} holds its group"
            return [self._job(Kind.RESOLVE_JIRA, ActionKind.RESOLVE_JIRA, eid, why, linked)]
        if self.jobs.get((Kind.RESOLVE_GROUP, eid)) is JobState.DONE:
            why = f"{linked.key} was reopened after the bridge resolved its group; resolve is final"
            return [_note(eid, why, linked)]
        why = f"every escalation of its group is closed, {linked.key} is still {linked.status}"
        return [self._job(Kind.RESOLVE_GROUP, ActionKind.RESOLVE_GROUP, eid, why, linked)]

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
        if loc.group_role == "member" and not loc.linked:
            return [_note(eid, "a comment on its group's ticket, which is still being created")]
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
