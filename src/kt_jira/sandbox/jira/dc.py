"""What makes the simulated site a Jira Data Center instead of Cloud: Bearer PAT auth, the v2
representation (users by name and key, ``/rest/api/2`` links) and the offset-paged
``/rest/api/2/search`` that DC still has (it has no ``/search/jql``). Also Cloud's Basic auth,
so both flavours authenticate in one place. No I/O beyond building responses.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kt_jira.sandbox.jira.call import RestCall, errors
from kt_jira.sandbox.jira.jql import JqlError
from kt_jira.sandbox.jira.search_api import (
    SearchError,
    field_list,
    int_param,
    issue_item,
    matching,
)
from kt_jira.sandbox.jira.state import JiraSandboxSettings, JiraState, User

JsonDict = dict[str, Any]
# DC caps a search page at jira.search.views.default.max (1000 by default), without an error.
DC_MAX_RESULTS = 1000


def authenticated(request: Request, settings: JiraSandboxSettings) -> bool:
    """Cloud: Basic ``email:api_token``. Data Center: ``Bearer <PAT>`` only; a PAT is not a
    Basic password there, and Basic with anything else is refused too."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if settings.flavor == "datacenter":
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), settings.pat)
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(token, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(decoded, f"{settings.email}:{settings.api_token}")


def dc_user_json(user: User, base: str) -> JsonDict:
    """A Data Center user: ``name`` and ``key``, never an ``accountId``."""
    out: JsonDict = {
        "self": f"{base}/rest/api/2/user?username={user.name}",
        "key": user.key,
        "name": user.name,
        "displayName": user.display_name,
        "active": True,
        "timeZone": "Etc/UTC",
    }
    if user.email:
        out["emailAddress"] = user.email
    return out


def to_v2(value: Any, state: JiraState, base: str) -> Any:
    """Rewrite a Cloud-shaped answer into Data Center's v2 shape (links, user objects)."""
    if isinstance(value, str):
        return value.replace("/rest/api/3/", "/rest/api/2/")
    if isinstance(value, list):
        return [to_v2(item, state, base) for item in value]
    if not isinstance(value, dict):
        return value
    if "accountId" in value and "displayName" in value:
        user = state.users.get(str(value["accountId"]))
        if user is not None:
            extra = {k: v for k, v in value.items() if k in ("locale", "groups")}
            return {**dc_user_json(user, base), **extra}
        return {k: to_v2(v, state, base) for k, v in value.items() if k != "accountId"}
    return {key: to_v2(item, state, base) for key, item in value.items()}


def as_v2_response(response: Response, state: JiraState, base: str) -> Response:
    """The same answer in the v2 representation (error bodies are the same on both)."""
    if not isinstance(response, JSONResponse) or not response.body:
        return response
    payload = to_v2(json.loads(bytes(response.body)), state, base)
    headers = {
        k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")
    }
    return JSONResponse(payload, response.status_code, headers=headers)


async def search_v2(call: RestCall) -> Response:
    """``GET|POST /rest/api/2/search``: ``startAt``/``maxResults``/``total`` paging, and
    ``*navigable`` fields by default (Cloud's enhanced search defaults to ``id`` only)."""
    if call.request.method == "GET":
        params: JsonDict = dict(call.request.query_params)
    elif isinstance(call.body, dict):
        params = call.body
    else:
        return errors(400, "The request body must be a JSON object.")
    try:
        jql = params.get("jql")
        if jql is not None and not isinstance(jql, str):
            raise SearchError("'jql' must be a string.")
        raw_fields = params.get("fields")
        fields = field_list(raw_fields) if raw_fields is not None else ["*navigable"]
        start = int_param(params.get("startAt"), "startAt", 0)
        size = min(int_param(params.get("maxResults"), "maxResults", 50), DC_MAX_RESULTS)
        matches = matching(call.state, jql or "")
    except (JqlError, SearchError) as exc:
        return errors(400, str(exc))
    page = matches[start : start + size]
    issues = [issue_item(call.state, issue, [*fields, "key"], call.base) for issue in page]
    return JSONResponse(
        {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(matches),
            "issues": issues,
        }
    )
