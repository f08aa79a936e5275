"""JSON views of simulated Jira objects: issues as the REST API returns them, and the
inspection view (fields by name as well as id) served under `/_sandbox`. No I/O.
"""

from __future__ import annotations

from typing import Any

from kt_jira.sandbox.jira.links import LINK_TYPES, IssueLink, LinkType
from kt_jira.sandbox.jira.site import (
    COMPONENTS,
    ISSUE_TYPES,
    PRIORITIES,
    RESOLUTIONS,
    Named,
    Project,
)
from kt_jira.sandbox.jira.state import JiraState, SandboxIssue, User, jira_time
from kt_jira.sandbox.jira.workflow import status_json

JsonDict = dict[str, Any]


def user_json(user: User | None, base: str) -> JsonDict | None:
    if user is None:
        return None
    out: JsonDict = {
        "self": f"{base}/rest/api/3/user?accountId={user.account_id}",
        "accountId": user.account_id,
        "displayName": user.display_name,
        "active": True,
        "accountType": "atlassian",
        "timeZone": "Etc/UTC",
    }
    if user.email:
        out["emailAddress"] = user.email
    return out


def named_json(item: Named, base: str, kind: str) -> JsonDict:
    out: JsonDict = {
        "self": f"{base}/rest/api/3/{kind}/{item.id}",
        "id": item.id,
        "name": item.name,
    }
    if item.description:
        out["description"] = item.description
    return out


def issue_type_json(item: Named, base: str) -> JsonDict:
    return {**named_json(item, base, "issuetype"), "subtask": False, "hierarchyLevel": 0}


def project_json(project: Project, base: str) -> JsonDict:
    return {
        "self": f"{base}/rest/api/3/project/{project.id}",
        "id": project.id,
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "software",
        "simplified": False,
    }


def _by_id(items: tuple[Named, ...], item_id: object) -> Named | None:
    return next((i for i in items if i.id == item_id), None)


def comment_json(state: JiraState, comment: JsonDict, issue: SandboxIssue, base: str) -> JsonDict:
    author = user_json(state.users.get(comment["author"]), base)
    return {
        "self": f"{base}/rest/api/3/issue/{issue.id}/comment/{comment['id']}",
        "id": comment["id"],
        "author": author,
        "updateAuthor": author,
        "body": comment["body"],
        "created": jira_time(comment["created"]),
        "updated": jira_time(comment["updated"]),
        "jsdPublic": True,
    }


def link_type_json(link_type: LinkType, base: str) -> JsonDict:
    return {
        "id": link_type.id,
        "name": link_type.name,
        "inward": link_type.inward,
        "outward": link_type.outward,
        "self": f"{base}/rest/api/3/issueLinkType/{link_type.id}",
    }


def link_types_json(base: str) -> JsonDict:
    """The ``GET /issueLinkType`` answer."""
    return {"issueLinkTypes": [link_type_json(t, base) for t in LINK_TYPES]}


def issue_link_json(state: JiraState, link: IssueLink, issue: SandboxIssue, base: str) -> JsonDict:
    """``link`` as ``issue`` lists it: the other issue under its role in the link."""
    role, other_id = (
        ("outwardIssue", link.outward_id)
        if link.inward_id == issue.id
        else ("inwardIssue", link.inward_id)
    )
    other = state.issues[other_id]
    priority = _by_id(PRIORITIES, other.values.get("priority"))
    issue_type = _by_id(ISSUE_TYPES, other.issue_type_id)
    status = state.workflow(other).status(other.status_id)
    linked = {
        "id": other.id,
        "key": other.key,
        "self": f"{base}/rest/api/3/issue/{other.id}",
        "fields": {
            "summary": other.values.get("summary"),
            "status": status_json(status, base),
            "priority": named_json(priority, base, "priority") if priority else None,
            "issuetype": issue_type_json(issue_type, base) if issue_type else None,
        },
    }
    return {
        "id": link.id,
        "self": f"{base}/rest/api/3/issueLink/{link.id}",
        "type": link_type_json(link.type, base),
        role: linked,
    }


def issue_fields(state: JiraState, issue: SandboxIssue, base: str) -> JsonDict:
    """Every field of ``issue``, keyed by field id, in the REST v3 representation."""
    values = issue.values
    project = state.site.projects[issue.project_key]
    status = state.workflow(issue).status(issue.status_id)
    issue_type = _by_id(ISSUE_TYPES, issue.issue_type_id)
    priority = _by_id(PRIORITIES, values.get("priority"))
    resolution = _by_id(RESOLUTIONS, issue.resolution_id)
    fields: JsonDict = {
        "summary": values.get("summary"),
        "description": values.get("description"),
        "issuetype": issue_type_json(issue_type, base) if issue_type else None,
        "project": project_json(project, base),
        "priority": named_json(priority, base, "priority") if priority else None,
        "labels": issue.labels,
        "duedate": values.get("duedate"),
        "reporter": user_json(state.users.get(values.get("reporter", "")), base),
        "assignee": user_json(state.users.get(values.get("assignee") or ""), base),
        "creator": user_json(state.users.get(issue.creator), base),
        "components": [
            named_json(c, base, "component")
            for c in COMPONENTS
            if c.id in (values.get("components") or [])
        ],
        "resolution": named_json(resolution, base, "resolution") if resolution else None,
        "resolutiondate": jira_time(issue.resolved) if issue.resolved else None,
        "statuscategorychangedate": jira_time(issue.category_changed or issue.created),
        "status": status_json(status, base),
        "created": jira_time(issue.created),
        "updated": jira_time(issue.updated),
        "comment": {
            "comments": [comment_json(state, c, issue, base) for c in issue.comments],
            "maxResults": len(issue.comments),
            "total": len(issue.comments),
            "startAt": 0,
        },
        "issuelinks": [issue_link_json(state, k, issue, base) for k in state.links.of(issue.id)],
    }
    for fdef in state.site.fields:
        if fdef.is_custom:
            fields[fdef.id] = values.get(fdef.id)
    return fields


def select_fields(fields: JsonDict, wanted: list[str] | None) -> JsonDict:
    """Apply a `fields` selector: ids, ``*all``, ``*navigable``, ``-id`` exclusions."""
    if wanted is None or any(w in ("*all", "*navigable") for w in wanted):
        chosen = dict(fields)
    else:
        chosen = {w: fields[w] for w in wanted if w in fields}
    for w in wanted or []:
        if w.startswith("-"):
            chosen.pop(w[1:], None)
    return chosen


def issue_json(
    state: JiraState, issue: SandboxIssue, base: str, wanted: list[str] | None = None
) -> JsonDict:
    return {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog",
        "id": issue.id,
        "self": f"{base}/rest/api/3/issue/{issue.id}",
        "key": issue.key,
        "fields": select_fields(issue_fields(state, issue, base), wanted),
    }


def inspection_json(state: JiraState, issue: SandboxIssue) -> JsonDict:
    """The `/_sandbox/issues` view: set fields by id and by name, and the facts tests assert."""
    status = state.workflow(issue).status(issue.status_id)
    issue_type = _by_id(ISSUE_TYPES, issue.issue_type_id)
    priority = _by_id(PRIORITIES, issue.values.get("priority"))
    resolution = _by_id(RESOLUTIONS, issue.resolution_id)
    by_name: JsonDict = {}
    for fid, value in issue.values.items():
        fdef = state.site.field(fid)
        name = fdef.name if fdef else fid
        shown = value
        if fid == "priority":
            shown = priority.name if priority else value
        elif fid == "components":
            shown = [c.name for c in COMPONENTS if c.id in (value or [])]
        by_name[f"{name} [{fid}]" if name in by_name else name] = shown
    return {
        "id": issue.id,
        "key": issue.key,
        "project": issue.project_key,
        "issue_type": issue_type.name if issue_type else None,
        "priority": priority.name if priority else None,
        "status": status.name,
        "status_category": status.category,
        "resolution": resolution.name if resolution else None,
        "labels": issue.labels,
        "created": jira_time(issue.created),
        "created_ts": issue.created,
        "updated": jira_time(issue.updated),
        "creator": issue.creator,
        "fields": dict(issue.values),
        "fields_by_name": by_name,
        "comments": [{"author": c["author"], "body": c["body"]} for c in issue.comments],
        "watchers": list(issue.watchers),
        "changelog": list(issue.changelog),
    }
