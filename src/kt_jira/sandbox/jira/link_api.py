"""Issue-link endpoints of the simulated Jira: ``GET /issueLinkType`` and ``POST /issueLink``.

Strict like the rest of the site: a body without ``type``, ``inwardIssue`` or ``outwardIssue``
is a 400 naming each missing field, an unknown link type or issue a 404, a link of an issue to
itself a 400. A repeated link is answered 201 and stored once; its comment, if any, is added to
the outward issue as Jira's reference says. Links then show in both issues' ``issuelinks``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from kt_jira.sandbox.jira.call import NO_ISSUE, Handler, RestCall, errors
from kt_jira.sandbox.jira.links import find_link_type
from kt_jira.sandbox.jira.meta import API
from kt_jira.sandbox.jira.state import SandboxIssue
from kt_jira.sandbox.jira.validate import text_error
from kt_jira.sandbox.jira.views import link_types_json

JsonDict = dict[str, Any]
ROLES = ("inwardIssue", "outwardIssue")
SELF_LINK = "You cannot link an issue to itself."
EMPTY_COMMENT = "Comment body can not be empty!"


async def link_types(call: RestCall) -> Response:
    return JSONResponse(link_types_json(call.base))


def _ref(value: object) -> str | None:
    """The key or id of ``{"key": …}`` / ``{"id": …}``, or None when it names nothing."""
    if not isinstance(value, dict):
        return None
    ref = value.get("key", value.get("id"))
    return ref if isinstance(ref, str) and ref.strip() else None


def _missing(body: JsonDict) -> dict[str, str]:
    """A Jira-style error for each required part that is absent or names nothing."""
    link_type = body.get("type")
    named = {"type": isinstance(link_type, dict) and bool({"id", "name"} & set(link_type))}
    named |= {role: _ref(body.get(role)) is not None for role in ROLES}
    return {name: f"Field '{name}' is required." for name, ok in named.items() if not ok}


async def create_link(call: RestCall) -> Response:
    body = call.body
    if not isinstance(body, dict):
        return errors(400, "Can not deserialize the request: the body must be an object.")
    missing = _missing(body)
    if missing:
        return errors(400, **missing)
    link_type = find_link_type(body["type"])
    if link_type is None:
        wanted = body["type"]
        by = "id" if "id" in wanted else "name"
        return errors(404, f"No issue link type with {by} '{wanted.get(by)}' found.")
    found: dict[str, SandboxIssue] = {}
    for role in ROLES:
        issue = call.state.issue(str(_ref(body[role])))
        if issue is None:
            return errors(404, NO_ISSUE)
        found[role] = issue
    inward, outward = found["inwardIssue"], found["outwardIssue"]
    if inward.id == outward.id:
        return errors(400, SELF_LINK)
    comment = body.get("comment")
    text = comment.get("body") if isinstance(comment, dict) else None
    if comment is not None:
        error = EMPTY_COMMENT if text is None else text_error(text, call.state.flavor)
        if error:
            return errors(400, comment=error)
    call.state.links.add(link_type, inward.id, outward.id)
    if text is not None:
        call.state.comment(outward, text, call.actor)
    return Response(status_code=201)


LINK_ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", f"{API}/issueLinkType", link_types),
    ("POST", f"{API}/issueLink", create_link),
)
