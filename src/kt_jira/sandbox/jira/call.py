"""The call object REST handlers of the simulated Jira receive, and Jira-style error bodies.

The app authenticates, rate limits and parses before a handler runs; handlers only see this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kt_jira.sandbox.faults import Faults
from kt_jira.sandbox.jira.state import JiraState

JsonDict = dict[str, Any]
NO_ISSUE = "Issue does not exist or you do not have permission to see it."


@dataclass
class RestCall:
    """One authenticated request: parsed JSON body, base URL for links, acting account."""

    request: Request
    body: object
    base: str
    actor: str
    state: JiraState
    faults: Faults

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)


Handler = Callable[[RestCall], Awaitable[Response]]


def errors(status: int, *messages: str, **fields: str) -> JSONResponse:
    return JSONResponse({"errorMessages": list(messages), "errors": fields}, status_code=status)


def page(call: RestCall, items: list[JsonDict], key: str) -> Response:
    try:
        start = int(call.query("startAt") or 0)
        size = int(call.query("maxResults") or 50)
    except ValueError:
        return errors(400, "Parameters 'startAt' and 'maxResults' must be integers.")
    if size > 200:
        return errors(400, "Parameter 'maxResults' must not exceed the limit '200'")
    if start < 0 or size < 0:
        return errors(400, "Parameters 'startAt' and 'maxResults' must not be negative.")
    body: JsonDict = {
        key: items[start : start + size],
        "maxResults": size,
        "startAt": start,
        "total": len(items),
    }
    if key == "values":  # a PageBean (DC createmeta, Cloud /resolution/search) says isLast too
        body["isLast"] = start + size >= len(items)
    return JSONResponse(body)
