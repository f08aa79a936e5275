"""State of the simulated Jira site (Cloud or Data Center): settings, issues, comments,
transitions, links, screens.

Everything the HTTP layer does goes through `JiraState`, so tests can also drive and inspect
it directly. Search sees each issue as it was ``search_lag`` seconds ago (eventual consistency).
No I/O; the clock is injected.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from kt_jira.sandbox.jira.links import IssueLinks
from kt_jira.sandbox.jira.oauth import SandboxOAuth
from kt_jira.sandbox.jira.site import RESOLUTIONS, Site, find_named
from kt_jira.sandbox.jira.validate import NOT_ON_SCREEN, Checked, text_error
from kt_jira.sandbox.jira.workflow import Workflow, WorkflowRegistry

JsonDict = dict[str, Any]
RequestValidator = Callable[[str, str, object], None]
# Told of every committed change: (webhook event, issue, {"actor", "changes" | "comment"}).
ChangeListener = Callable[[str, "SandboxIssue", JsonDict], None]


@dataclass(frozen=True, kw_only=True)
class JiraSandboxSettings:
    """How the simulated site behaves.

    ``flavor`` is ``cloud`` (REST v3, ADF, Basic email:token) or ``datacenter`` (REST v2, wiki
    markup strings, Bearer ``pat`` only, users by name). ``rate_limit`` is requests per second
    per method and endpoint (None: off), with bursts of ``rate_burst``;
    ``request_validator(method, path, body)`` raising turns a request into a 400.
    """

    flavor: Literal["cloud", "datacenter"] = "cloud"
    email: str = "kt-jira-bot@example.com"
    api_token: str = "sandbox-jira-token"  # noqa: S105 - a throwaway credential for the fake
    pat: str = "sandbox-jira-pat"  # Data Center's personal access token (also throwaway)
    user_name: str = "kt-jira-bot"  # the bot's Data Center user name
    projects: tuple[str, ...] = ("AIGOV",)
    search_lag: float = 2.0
    rate_limit: float | None = None
    rate_burst: int = 10
    retry_after: int = 1
    request_validator: RequestValidator | None = None
    account_id: str = "63e2a1f7c9d04b5e8a1f2c3d"
    display_name: str = "kt-jira bot"
    public_url: str | None = None
    seed: int = 0
    # The bot has the "Administer Jira" global permission; False: the field and screen admin
    # endpoints refuse it (403, or 400 where Cloud's spec says so for POST /field).
    admin: bool = True
    # A Service Management site: its SLAs by name with goal seconds (``jsm``); empty: none.
    jsm_slas: tuple[tuple[str, float], ...] = ()
    # Service-account OAuth 2.0 (token endpoint; on Cloud the API gateway too); None: off.
    oauth: SandboxOAuth | None = None
    cloud_id: str = "5f1e3a2b-9c4d-4e8f-a7b6-0d2c1e3f4a5b"  # what /_edge/tenant_info says


@dataclass(frozen=True)
class User:
    """A user: Cloud identifies it by ``account_id`` only; Data Center by ``name`` and ``key``."""

    account_id: str
    display_name: str
    email: str | None = None
    name: str = ""
    key: str = ""


HUMAN = User("5d53f3cbc6b9320d9ea5bdc2", "Ada Reviewer", "ada@example.com", "ada", "JIRAUSER10101")


@dataclass
class SandboxIssue:
    """One issue as stored. ``values`` holds set fields by id (priority as its id)."""

    id: str
    key: str
    project_key: str
    issue_type_id: str
    values: JsonDict
    status_id: str
    created: float
    updated: float
    creator: str
    resolution_id: str | None = None
    resolved: float | None = None
    category_changed: float | None = None  #: statuscategorychangedate: the category last changed
    comments: list[JsonDict] = field(default_factory=list)
    watchers: list[str] = field(default_factory=list)
    changelog: list[JsonDict] = field(default_factory=list)
    versions: list[tuple[float, SandboxIssue]] = field(default_factory=list, repr=False)

    @property
    def labels(self) -> list[str]:
        labels = self.values.get("labels")
        return list(labels) if isinstance(labels, list) else []

    def snapshot(self) -> SandboxIssue:
        return SandboxIssue(
            id=self.id,
            key=self.key,
            project_key=self.project_key,
            issue_type_id=self.issue_type_id,
            values=copy.deepcopy(self.values),
            status_id=self.status_id,
            created=self.created,
            updated=self.updated,
            creator=self.creator,
            resolution_id=self.resolution_id,
            resolved=self.resolved,
            category_changed=self.category_changed,
            comments=list(self.comments),
            watchers=list(self.watchers),
        )

    def as_of(self, cutoff: float) -> SandboxIssue | None:
        """The version the search index holds at ``cutoff`` (None: not indexed yet)."""
        found = None
        for when, version in self.versions:
            if when > cutoff:
                break
            found = version
        return found


def jira_time(ts: float) -> str:
    """Jira's timestamp format, e.g. ``2026-05-01T12:34:56.789+0000``."""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class JiraState:
    """All mutable state of one simulated site."""

    def __init__(self, settings: JiraSandboxSettings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self.search_lag = settings.search_lag
        self.site = Site()
        for key in settings.projects:
            self.site.add_project(key, "AI Governance" if key == "AIGOV" else None)
        self.workflows = WorkflowRegistry()
        self.bot = User(
            settings.account_id,
            settings.display_name,
            settings.email,
            settings.user_name,
            "JIRAUSER10100",
        )
        self.users = {u.account_id: u for u in (self.bot, HUMAN)}
        self.issues: dict[str, SandboxIssue] = {}
        self.links = IssueLinks()
        self._next_id = 10001
        self._next_comment = 10100
        self.listeners: list[ChangeListener] = []  # the webhook sender

    # -- lookups -----------------------------------------------------------------------------
    def issue(self, id_or_key: str) -> SandboxIssue | None:
        if id_or_key in self.issues:
            return self.issues[id_or_key]
        return next((i for i in self.issues.values() if i.key == id_or_key.upper()), None)

    def workflow(self, issue: SandboxIssue) -> Workflow:
        return self.workflows.for_project(issue.project_key)

    def issues_with_label(self, label: str) -> list[SandboxIssue]:
        return [i for i in self.issues.values() if label in i.labels]

    @property
    def flavor(self) -> str:
        return self.settings.flavor

    def users_by_name(self) -> dict[str, str]:
        """Data Center user name -> the id issues store (Cloud has no names to look up)."""
        return {u.name: u.account_id for u in self.users.values() if u.name}

    # -- writes ------------------------------------------------------------------------------
    def create(self, checked: Checked, creator: str) -> SandboxIssue:
        """Store a validated create; the issue starts in the workflow's initial status."""
        if checked.project is None or checked.issue_type is None:
            raise ValueError("only a validated create can be stored")
        project = checked.project
        project.counter += 1
        now = self.clock()
        values = dict(checked.values)
        values.setdefault("priority", "3")
        values.setdefault("reporter", creator)
        issue = SandboxIssue(
            id=str(self._next_id),
            key=f"{project.key}-{project.counter}",
            project_key=project.key,
            issue_type_id=checked.issue_type.id,
            values=values,
            status_id=self.workflows.for_project(project.key).initial.id,
            created=now,
            updated=now,
            creator=creator,
        )
        self._next_id += 1
        self.issues[issue.id] = issue
        self._reindex(issue)
        return issue

    def edit(self, issue: SandboxIssue, checked: Checked, actor: str) -> None:
        """Apply a validated edit; only what it changes is logged, and no change sends nothing."""
        start, before = len(issue.changelog), issue.labels
        labels = issue.labels
        for verb, label in checked.label_ops:
            if verb == "add" and label not in labels:
                labels.append(label)
            elif verb == "remove" and label in labels:
                labels.remove(label)
        if checked.label_ops:
            issue.values["labels"] = labels
            if labels != before:
                self._log(issue, actor, "labels", " ".join(before), " ".join(labels))
        for fid, value in checked.values.items():
            if issue.values.get(fid) != value:
                self._log(issue, actor, fid, issue.values.get(fid), value)
            issue.values[fid] = value
        self._reindex(issue)
        if len(issue.changelog) > start:
            self._changed("jira:issue_updated", issue, actor, changes=issue.changelog[start:])

    def transition(
        self, issue: SandboxIssue, body: object, actor: str
    ) -> tuple[int, JsonDict | None]:
        """Apply `POST .../transitions`; returns (status, error body or None)."""
        if not isinstance(body, dict) or not isinstance(body.get("transition"), dict):
            return 400, _messages("Can not deserialize the request: 'transition' is missing.")
        wanted = str(body["transition"].get("id", ""))
        workflow = self.workflow(issue)
        step = next((t for t in workflow.available(issue.status_id) if t.id == wanted), None)
        if step is None:
            return 400, _messages(f"Transition id '{wanted}' is not valid for this issue.")
        fields = body.get("fields") or {}
        comments = (body.get("update") or {}).get("comment") or []
        errors: dict[str, str] = {}
        for fid in fields:
            if fid not in step.screen:
                errors[fid] = NOT_ON_SCREEN.format(fid=fid)
        if comments and "comment" not in step.screen:
            errors["comment"] = NOT_ON_SCREEN.format(fid="comment")
        resolution = None
        if "resolution" in fields and "resolution" in step.screen:
            resolution = find_named(RESOLUTIONS, fields["resolution"])
            if resolution is None:
                errors["resolution"] = "The resolution selected is invalid."
        bodies = [c.get("add", {}).get("body") for c in comments if isinstance(c, dict)]
        for comment_body in bodies:
            error = text_error(comment_body, self.flavor)
            if error:
                errors["comment"] = error
        if errors:
            return 400, {"errorMessages": [], "errors": errors}
        start, old_status = len(issue.changelog), issue.status_id
        before, after = workflow.find_status(old_status), workflow.find_status(step.to)
        if before is None or after is None or before.category != after.category:
            issue.category_changed = self.clock()
        issue.status_id = step.to
        self._log(issue, actor, "status", old_status, step.to)
        if step.clears_resolution:
            self._set_resolution(issue, None, actor)
        elif resolution is not None:
            self._set_resolution(issue, resolution.id, actor)
        elif step.sets_resolution and issue.resolution_id is None:
            named = find_named(RESOLUTIONS, {"name": step.sets_resolution})
            self._set_resolution(issue, named.id if named else None, actor)
        for comment_body in bodies:
            self.comment(issue, comment_body, actor, reindex=False)
        self._reindex(issue)
        self._changed("jira:issue_updated", issue, actor, changes=issue.changelog[start:])
        return 204, None

    def comment(
        self, issue: SandboxIssue, body: object, author: str, *, reindex: bool = True
    ) -> JsonDict:
        now = self.clock()
        entry: JsonDict = {"id": str(self._next_comment), "author": author, "body": body}
        entry["created"] = entry["updated"] = now
        self._next_comment += 1
        issue.comments.append(entry)
        issue.updated = now
        if reindex:
            self._reindex(issue)
        self._changed("comment_created", issue, author, comment=entry)
        return entry

    def delete(self, issue: SandboxIssue, actor: str) -> None:
        """Delete ``issue`` as an admin would; its webhook still describes it."""
        self.issues.pop(issue.id, None)
        self.links.drop(issue.id)
        self._changed("jira:issue_deleted", issue, actor)

    def _changed(self, event: str, issue: SandboxIssue, actor: str, **detail: object) -> None:
        for listener in list(self.listeners):
            listener(event, issue, {"actor": actor, **detail})

    def _set_resolution(self, issue: SandboxIssue, resolution_id: str | None, actor: str) -> None:
        self._log(issue, actor, "resolution", issue.resolution_id, resolution_id)
        issue.resolution_id = resolution_id
        issue.resolved = self.clock() if resolution_id else None

    def _log(self, issue: SandboxIssue, actor: str, fid: str, old: object, new: object) -> None:
        now = self.clock()
        issue.updated = now
        issue.changelog.append({"at": now, "by": actor, "field": fid, "from": old, "to": new})

    def _reindex(self, issue: SandboxIssue) -> None:
        issue.versions.append((self.clock(), issue.snapshot()))


def _messages(*messages: str) -> JsonDict:
    return {"errorMessages": list(messages), "errors": {}}
