"""Issue endpoints of the simulated Jira: create, get, edit, assign, transitions, comments and
search, with the link endpoints of ``link_api``. Cloud serves them under `/rest/api/3` with
enhanced search (the removed `/search` answers 410); Data Center under `/rest/api/2` (and
`latest`) with the offset-paged `/search` it still has.

Handlers get a `RestCall` the app has already authenticated, rate limited and parsed; they only
read and change `JiraState`. Error bodies are Jira's ErrorCollection.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kt_jira.sandbox.jira import jsm
from kt_jira.sandbox.jira.call import NO_ISSUE, Handler, RestCall, errors, page
from kt_jira.sandbox.jira.dc import search_v2
from kt_jira.sandbox.jira.jql import JqlError
from kt_jira.sandbox.jira.link_api import LINK_ROUTES
from kt_jira.sandbox.jira.meta import API, META_ROUTES
from kt_jira.sandbox.jira.screens import FIELD_ROUTES, SCHEME_ROUTES
from kt_jira.sandbox.jira.search_api import SearchError, search
from kt_jira.sandbox.jira.site import RESOLUTIONS
from kt_jira.sandbox.jira.validate import (
    Checked,
    Dialect,
    check_create,
    check_edit,
    text_error,
)
from kt_jira.sandbox.jira.views import comment_json, issue_json, named_json
from kt_jira.sandbox.jira.workflow import status_json

JsonDict = dict[str, Any]
REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


async def _hold(request: Request, seconds: float) -> None:
    """Delay the answer of a committed create; give up early if the client went away."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(0.05, left))
        if await request.is_disconnected():
            return


def _dialect(call: RestCall) -> Dialect:
    return Dialect(call.state.flavor, call.state.users_by_name())


async def create_issue(call: RestCall) -> Response:
    checked = check_create(call.state.site, call.body, _dialect(call))
    if not checked.ok:
        return JSONResponse(checked.body(), status_code=400)
    issue = call.state.create(checked, call.actor)
    delay = call.faults.take_slow_commit()
    if delay > 0:
        await _hold(call.request, delay)
    self_url = f"{call.base}/rest/api/3/issue/{issue.id}"
    return JSONResponse({"id": issue.id, "key": issue.key, "self": self_url}, status_code=201)


def _field_param(call: RestCall) -> list[str] | None:
    raw = call.query("fields")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else None


async def get_issue(call: RestCall) -> Response:
    issue = call.state.issue(call.param("issueIdOrKey"))
    if issue is None:
        return errors(404, NO_ISSUE)
    return JSONResponse(issue_json(call.state, issue, call.base, _field_param(call)))


async def edit_issue(call: RestCall) -> Response:
    issue = call.state.issue(call.param("issueIdOrKey"))
    if issue is None:
        return errors(404, NO_ISSUE)
    project = call.state.site.projects[issue.project_key]
    checked = check_edit(call.state.site, project, issue.issue_type_id, call.body, _dialect(call))
    if not checked.ok:
        return JSONResponse(checked.body(), status_code=400)
    call.state.edit(issue, checked, call.actor)
    return Response(status_code=204)


async def assign_issue(call: RestCall) -> Response:
    """``PUT /issue/{id}/assignee``: ``{"accountId": …}`` on Cloud, ``{"name": …}`` on Data
    Center, of an existing user; null (or ``"-1"``, the default assignee: nobody here) unassigns.
    """
    issue = call.state.issue(call.param("issueIdOrKey"))
    if issue is None:
        return errors(404, NO_ISSUE)
    key = "accountId" if call.state.flavor == "cloud" else "name"
    if not isinstance(call.body, dict) or key not in call.body:
        return errors(400, assignee=f"Specify the assignee by '{key}' (null unassigns).")
    ref = call.body[key]
    ids = call.state.users_by_name() if key == "name" else {a: a for a in call.state.users}
    account = ids.get(ref) if isinstance(ref, str) else None
    if account is None and ref not in (None, "-1"):
        return errors(400, assignee=f"User '{ref}' does not exist.")
    call.state.edit(issue, Checked(values={"assignee": account}), call.actor)
    return Response(status_code=204)


async def get_transitions(call: RestCall) -> Response:
    issue = call.state.issue(call.param("issueIdOrKey"))
    if issue is None:
        return errors(404, NO_ISSUE)
    workflow = call.state.workflow(issue)
    expand = "transitions.fields" in (call.query("expand") or "")
    out: list[JsonDict] = []
    for step in workflow.available(issue.status_id):
        item: JsonDict = {
            "id": step.id,
            "name": step.name,
            "to": status_json(workflow.status(step.to), call.base),
            "hasScreen": step.has_screen,
            "isGlobal": not step.sources,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }
        if expand:
            item["fields"] = {fid: _transition_field(call, fid) for fid in step.screen}
        out.append(item)
    return JSONResponse({"expand": "transitions", "transitions": out})


def _transition_field(call: RestCall, fid: str) -> JsonDict:
    if fid == "resolution":
        return {
            "required": False,
            "schema": {"type": "resolution", "system": "resolution"},
            "name": "Resolution",
            "key": "resolution",
            "operations": ["set"],
            "allowedValues": [named_json(r, call.base, "resolution") for r in RESOLUTIONS],
        }
    return {
        "required": False,
        "schema": {"type": "comments-page", "system": "comment"},
        "name": "Comment",
        "key": fid,
        "operations": ["add", "edit", "remove"],
    }


async def do_transition(call: RestCall) -> Response:
    issue = call.state.issue(call.param("issueIdOrKey"))
    if issue is None:
        return errors(404, NO_ISSUE)
    status, body = call.state.transition(issue, call.body, call.actor)
    return Response(status_code=204) if body is None else JSONResponse(body, status_code=status)


async def add_comment(call: RestCall) -> Response:
    issue = call.state.issue(call.param("issueIdOrKey"))
    if issue is None:
        return errors(404, NO_ISSUE)
    body = call.body.get("body") if isinstance(call.body, dict) else None
    if body is None:
        return errors(400, comment="Comment body can not be empty!")
    error = text_error(body, call.state.flavor)
    if error:
        return errors(400, comment=error)
    entry = call.state.comment(issue, body, call.actor)
    delay = call.faults.take_slow_comment()
    if delay > 0:
        await _hold(call.request, delay)
    return JSONResponse(comment_json(call.state, entry, issue, call.base), status_code=201)


async def add_watcher(call: RestCall) -> Response:
    """``POST /issue/{id}/watchers`` with a JSON string: an accountId (Cloud) or a name (DC)."""
    issue = call.state.issue(call.param("issueIdOrKey"))
    if issue is None:
        return errors(404, NO_ISSUE)
    if not isinstance(call.body, str) or not call.body.strip():
        return errors(400, "The watcher must be given as a JSON string.")
    if call.body not in issue.watchers:
        issue.watchers.append(call.body)
    return Response(status_code=204)


async def list_comments(call: RestCall) -> Response:
    issue = call.state.issue(call.param("issueIdOrKey"))
    if issue is None:
        return errors(404, NO_ISSUE)
    items = [comment_json(call.state, c, issue, call.base) for c in issue.comments]
    return page(call, items, "comments")


async def search_jql(call: RestCall) -> Response:
    if call.request.method == "GET":
        params: JsonDict = dict(call.request.query_params)
    elif isinstance(call.body, dict):
        params = call.body
    else:
        return errors(400, "The request body must be a JSON object.")
    try:
        return JSONResponse(search(call.state, params, call.base))
    except (JqlError, SearchError) as exc:
        return errors(400, str(exc))


async def removed_search(call: RestCall) -> Response:
    return errors(410, REMOVED_SEARCH)


async def not_found(call: RestCall) -> Response:
    return errors(404, f"null for uri: {call.request.url}")


Route = tuple[str, str, Handler]
_ISSUE_ROUTES: tuple[Route, ...] = (
    *META_ROUTES,
    *LINK_ROUTES,
    *FIELD_ROUTES,
    ("POST", f"{API}/issue", create_issue),
    ("GET", f"{API}/issue/{{issueIdOrKey}}", get_issue),
    ("PUT", f"{API}/issue/{{issueIdOrKey}}", edit_issue),
    ("PUT", f"{API}/issue/{{issueIdOrKey}}/assignee", assign_issue),
    ("GET", f"{API}/issue/{{issueIdOrKey}}/transitions", get_transitions),
    ("POST", f"{API}/issue/{{issueIdOrKey}}/transitions", do_transition),
    ("GET", f"{API}/issue/{{issueIdOrKey}}/comment", list_comments),
    ("POST", f"{API}/issue/{{issueIdOrKey}}/comment", add_comment),
    ("POST", f"{API}/issue/{{issueIdOrKey}}/watchers", add_watcher),
)
ROUTES: tuple[Route, ...] = (
    *_ISSUE_ROUTES,
    *SCHEME_ROUTES,
    ("GET", f"{API}/search/jql", search_jql),
    ("POST", f"{API}/search/jql", search_jql),
    *(
        (method, f"/rest/api/{version}/search", removed_search)
        for version in ("2", "3", "latest")
        for method in ("GET", "POST")
    ),
)
DC_ROUTES: tuple[Route, ...] = tuple(
    (method, template.replace(API, f"/rest/api/{version}", 1), handler)
    for version in ("2", "latest")
    for method, template, handler in (
        *_ISSUE_ROUTES,
        ("GET", f"{API}/search", search_v2),
        ("POST", f"{API}/search", search_v2),
    )
)


JSM_ROUTES: tuple[Route, ...] = (("GET", jsm.PATH, jsm.request_slas),)


def rest_routes(flavor: str) -> tuple[Route, ...]:
    """The REST operations a site of ``flavor`` serves; anything else answers 404."""
    return (*(DC_ROUTES if flavor == "datacenter" else ROUTES), *JSM_ROUTES)
