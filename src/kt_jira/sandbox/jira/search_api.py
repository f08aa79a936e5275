"""The enhanced search endpoint (`/rest/api/3/search/jql`): parameters, eventual consistency,
`nextPageToken` paging without `total`, and `reconcileIssues`. No I/O.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

from kt_jira.sandbox.jira.jql import JqlError, parse
from kt_jira.sandbox.jira.search import Compiler
from kt_jira.sandbox.jira.state import JiraState, SandboxIssue
from kt_jira.sandbox.jira.views import issue_fields, select_fields

JsonDict = dict[str, Any]
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
SORTABLE = ("created", "updated", "key", "id", "priority", "summary", "status", "resolved")
EXPIRED_PAGE = "The provided next page token is invalid or expired."


class SearchError(ValueError):
    """A 400 from search; ``str()`` is the error message."""


def _fingerprint(jql: str) -> str:
    return hashlib.sha256(jql.encode()).hexdigest()[:16]


def encode_token(jql: str, offset: int) -> str:
    raw = json.dumps({"q": _fingerprint(jql), "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(jql: str, token: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = data["o"]
        if data["q"] != _fingerprint(jql) or not isinstance(offset, int) or offset < 0:
            raise ValueError(token)
    except (ValueError, KeyError, TypeError) as exc:
        raise SearchError(EXPIRED_PAGE) from exc
    return offset


def field_list(raw: object) -> list[str]:
    if raw is None:
        return ["id"]
    if isinstance(raw, str):
        return [f.strip() for f in raw.split(",") if f.strip()]
    if isinstance(raw, list) and all(isinstance(f, str) for f in raw):
        return list(raw)
    raise SearchError("'fields' must be a list of field ids.")


def int_param(raw: object, name: str, default: int) -> int:
    if raw is None:
        return default
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise SearchError(f"'{name}' must be an integer.") from exc
    if value < 0:
        raise SearchError(f"'{name}' must not be negative.")
    return value


def search(state: JiraState, params: JsonDict, base: str) -> JsonDict:
    """Run one page of a search. Raises `SearchError` / `JqlError` for a 400."""
    jql = params.get("jql")
    if jql is not None and not isinstance(jql, str):
        raise SearchError("'jql' must be a string.")
    jql = jql or ""
    fields = field_list(params.get("fields"))
    max_results = int_param(params.get("maxResults"), "maxResults", 50)
    id_only = all(f in ("id", "key") for f in fields)
    page_size = max(1, min(max_results, 5000 if id_only else 100))
    token = params.get("nextPageToken")
    offset = decode_token(jql, token) if isinstance(token, str) and token else 0
    reconcile = params.get("reconcileIssues") or []
    if not isinstance(reconcile, list) or len(reconcile) > 50:
        raise SearchError("'reconcileIssues' accepts at most 50 issue ids.")
    strong = {str(r) for r in reconcile}
    matches = matching(state, jql, strong)
    page = matches[offset : offset + page_size]
    issues = [issue_item(state, issue, fields, base) for issue in page]
    out: JsonDict = {"issues": issues, "isLast": offset + len(page) >= len(matches)}
    if not out["isLast"]:
        out["nextPageToken"] = encode_token(jql, offset + len(page))
    return out


def matching(state: JiraState, jql: str, strong: set[str] | None = None) -> list[SandboxIssue]:
    """The issues the index holds for ``jql``, sorted; ``strong`` ids are read-after-write."""
    query = parse(jql)
    if query.where is None:
        raise JqlError(UNBOUNDED)
    now = state.clock()
    predicate = Compiler(state, now).compile(query.where)
    keys = [sort_key(state, name) for name, _ in query.order_by]
    matches: list[SandboxIssue] = []
    for issue in state.issues.values():
        seen = issue if issue.id in (strong or ()) else issue.as_of(now - state.search_lag)
        if seen is not None and predicate(seen):
            matches.append(issue)
    matches.sort(key=lambda i: int(i.id), reverse=True)  # default: newest first
    for (_, descending), key in reversed(list(zip(query.order_by, keys, strict=True))):
        matches.sort(key=key, reverse=descending)
    return matches


def issue_item(state: JiraState, issue: SandboxIssue, fields: list[str], base: str) -> JsonDict:
    """One search hit: ``id`` only, unless other fields were asked for."""
    item: JsonDict = {"id": issue.id}
    wanted = [f for f in fields if f != "id"]
    if wanted:
        item["key"] = issue.key
        item["self"] = f"{base}/rest/api/3/issue/{issue.id}"
        item["fields"] = select_fields(issue_fields(state, issue, base), wanted)
    return item


def sort_key(state: JiraState, name: str) -> Callable[[SandboxIssue], tuple[object, ...]]:
    field_name = name.lower()
    if field_name not in SORTABLE:
        return custom_sort_key(state, name)

    def key(i: SandboxIssue) -> tuple[object, ...]:
        if field_name == "key":
            return (i.project_key, int(i.key.rsplit("-", 1)[1]))
        if field_name == "id":
            return (int(i.id),)
        if field_name == "priority":
            return (-int(i.values.get("priority", "3")),)
        if field_name == "summary":
            return (str(i.values.get("summary", "")),)
        if field_name == "status":
            return (state.workflow(i).status(i.status_id).name,)
        return ({"created": i.created, "updated": i.updated}.get(field_name, i.resolved or 0.0),)

    return key


def custom_sort_key(state: JiraState, name: str) -> Callable[[SandboxIssue], tuple[object, ...]]:
    """Sort by a searchable custom field named ``name``, empty values first; several fields of
    that name (per-project copies) count as one, as in search. ``cf[N]`` is not supported."""
    ids = [f.id for f in state.site.fields_named(name) if f.is_custom and f.searchable]
    if not ids:
        raise JqlError(f"Not able to sort using field '{name}'.")
    return lambda i: (next((str(i.values[f]) for f in ids if i.values.get(f)), ""),)
