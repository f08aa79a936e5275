"""Site administration of the simulated Jira, as a person does it in the UI: projects,
create screens, per-project custom fields, priorities, workflows; moving, assigning and
commenting on an issue (each sends the webhooks Jira would, by a person, not the bridge).

A mixin of ``JiraSandbox`` for tests and the demo; none of this is part of Jira's REST API.
"""

from __future__ import annotations

import json
from typing import Any

from kt_jira.sandbox.jira.site import (
    CF_TYPE,
    ISSUE_TYPES,
    PRIORITIES,
    TEXTFIELD,
    FieldDef,
    Project,
    Screen,
)
from kt_jira.sandbox.jira.state import HUMAN, JiraState, SandboxIssue
from kt_jira.sandbox.jira.validate import Checked, text_error
from kt_jira.sandbox.jira.workflow import Workflow

JsonDict = dict[str, Any]


class SiteAdmin:
    """Configuration changes a Jira admin makes; ``JiraSandbox`` provides ``state``."""

    state: JiraState

    def add_project(self, key: str, name: str | None = None) -> Project:
        return self.state.site.add_project(key, name)

    def _screens(self, project: str, issue_type: str | None) -> list[Screen]:
        proj = self.state.site.projects[project]
        names = {t: t for t in proj.issue_type_ids} | {t.name: t.id for t in ISSUE_TYPES}
        wanted = proj.issue_type_ids if issue_type is None else [names[issue_type]]
        return [proj.screens[t] for t in wanted]

    def remove_field_from_screen(
        self, project: str, field: str, *, issue_type: str | None = None
    ) -> None:
        """Take a field off the create screen(s); a name means every field of that name."""
        for fid in self._field_ids(field):
            for screen in self._screens(project, issue_type):
                if fid in screen.fields:
                    screen.fields.remove(fid)

    def add_field_to_screen(
        self, project: str, field: str, *, issue_type: str | None = None
    ) -> None:
        """Put a field (by id, or by a name only one field has) on the create screen(s)."""
        ids = self._field_ids(field)
        if len(ids) != 1:
            raise ValueError(f"{len(ids)} fields are named {field!r}; pass the field id")
        for screen in self._screens(project, issue_type):
            if ids[0] not in screen.fields:
                screen.fields.append(ids[0])

    def _field_ids(self, ref: str) -> list[str]:
        site = self.state.site
        ids = [ref] if site.field(ref) else [f.id for f in site.fields if f.name == ref]
        if not ids:
            raise ValueError(f"no field {ref!r} on this site")
        return ids

    def set_allowed_priorities(
        self, project: str, names: list[str], *, issue_type: str | None = None
    ) -> None:
        ids = [p.id for p in PRIORITIES if p.name in names]
        for screen in self._screens(project, issue_type):
            screen.priority_ids = ids

    def set_workflow(self, project: str, workflow: Workflow) -> None:
        self.state.workflows.by_project[project] = workflow

    def transition_issue(
        self,
        id_or_key: str,
        to_status: str,
        *,
        resolution: str | None = None,
        actor: str = HUMAN.account_id,
    ) -> SandboxIssue:
        """Move an issue as a person would in the Jira UI (raises ValueError if impossible)."""
        issue = self._issue(id_or_key)
        workflow = self.state.workflow(issue)
        target = workflow.find_status(to_status)
        step = next(
            (t for t in workflow.available(issue.status_id) if target and t.to == target.id), None
        )
        if step is None:
            raise ValueError(f"{issue.key} cannot move to {to_status!r} from its status")
        body: JsonDict = {"transition": {"id": step.id}}
        if resolution is not None:
            body["fields"] = {"resolution": {"name": resolution}}
        status, error = self.state.transition(issue, body, actor)
        if error is not None:
            raise ValueError(f"{issue.key}: {status} {json.dumps(error)}")
        return issue

    def assign_issue(
        self, id_or_key: str, account: str | None, *, actor: str = HUMAN.account_id
    ) -> SandboxIssue:
        """Assign an issue (to an accountId or a Data Center user name; None unassigns) as a
        person would (raises ValueError for an unknown issue or user)."""
        issue = self._issue(id_or_key)
        assignee = None
        if account is not None:
            by_name = self.state.users_by_name()
            assignee = account if account in self.state.users else by_name.get(account)
            if assignee is None:
                raise ValueError(f"no user {account!r}")
        self.state.edit(issue, Checked(values={"assignee": assignee}), actor)
        return issue

    def comment_issue(
        self, id_or_key: str, body: object, *, author: str = HUMAN.account_id
    ) -> SandboxIssue:
        """Comment on an issue as ``author``; plain text on Cloud becomes a one-paragraph ADF
        document (raises ValueError for an unknown issue or author, or a body Jira refuses)."""
        issue = self._issue(id_or_key)
        if author not in self.state.users:
            raise ValueError(f"no user {author!r}")
        if isinstance(body, str) and self.state.flavor == "cloud":
            paragraph = {"type": "paragraph", "content": [{"type": "text", "text": body}]}
            body = {"type": "doc", "version": 1, "content": [paragraph]}
        error = text_error(body, self.state.flavor) if body is not None else "no comment body"
        if error:
            raise ValueError(f"{issue.key}: {error}")
        self.state.comment(issue, body, author)
        return issue

    def _issue(self, id_or_key: str) -> SandboxIssue:
        issue = self.state.issue(id_or_key)
        if issue is None:
            raise ValueError(f"no issue {id_or_key}")
        return issue

    def add_project_field(
        self, project: str, name: str, field_id: str, *, kind: str = TEXTFIELD
    ) -> FieldDef:
        """A custom field named ``name`` that only ``project``'s create screens carry, in place
        of any other field of that name there: same name, different id per project, as with a
        project-specific custom field or a team-managed project's own field."""
        site = self.state.site
        if site.field(field_id) is not None:
            raise ValueError(f"field {field_id} already exists")
        kind = kind if kind.startswith(CF_TYPE) else CF_TYPE + kind
        fdef = FieldDef(id=field_id, name=name, schema_type="string", custom=kind)
        site.fields.append(fdef)
        for screen in self._screens(project, None):
            screen.fields[:] = [
                fid for fid in screen.fields if (f := site.field(fid)) is None or f.name != name
            ]
            screen.fields.append(field_id)
        return fdef

    def set_field_searchable(self, field: str, searchable: bool) -> None:
        """Give a field a search template or take it away (JQL then refuses the field)."""
        site = self.state.site
        for fid in self._field_ids(field):
            index = next(i for i, f in enumerate(site.fields) if f.id == fid)
            old = site.fields[index]
            site.fields[index] = FieldDef(**{**vars(old), "searchable": searchable})

    def delete_field(self, field: str) -> None:
        """Delete a field (by id, or every field of that name) from the site and its screens."""
        site = self.state.site
        gone = set(self._field_ids(field))
        site.fields[:] = [f for f in site.fields if f.id not in gone]
        for project in site.projects.values():
            for screen in project.all_screens():
                screen.fields[:] = [fid for fid in screen.fields if fid not in gone]
