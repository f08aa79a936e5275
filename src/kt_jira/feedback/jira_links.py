"""What the loop reads of Jira's issue links: the configured link type by name, and the issues
a Story is linked to already (so a retry never sends a link twice).

Reads only, through ``JiraClient``; the Story's own issue is read by id, never through search,
which lags. Nothing here writes to Jira or to the store.
"""

from __future__ import annotations

from kt_jira.errors import PermanentError
from kt_jira.jira import JiraClient

ROLES = ("inwardIssue", "outwardIssue")


async def link_type_named(jira: JiraClient, wanted: str) -> str:
    """The site's own name of the link type called ``wanted`` (case-insensitive), or a
    ``PermanentError`` naming ``feedback.false_positive.link_type`` and the site's types."""
    types = await jira.issue_link_types()
    match = next((t for t in types if t.name.casefold() == wanted.casefold()), None)
    if match is None:
        names = ", ".join(t.name for t in types) or "none"
        raise PermanentError(
            f"feedback.false_positive.link_type is {wanted!r}, but this Jira site has no issue "
            f"link type of that name (it has: {names}); set one of those, or add the type in "
            "Jira settings → Issues → Issue linking"
        )
    return match.name


async def linked_to(jira: JiraClient, issue_id: str, link_type: str) -> set[str]:
    """Ids and keys of every issue linked to ``issue_id`` by a link of ``link_type``."""
    data = await jira.get_issue(issue_id, fields=["issuelinks"])
    fields = data.get("fields") if isinstance(data, dict) else None
    links = (fields or {}).get("issuelinks") if isinstance(fields, dict) else None
    found: set[str] = set()
    for link in links if isinstance(links, list) else []:
        kind = (link.get("type") or {}).get("name", "") if isinstance(link, dict) else ""
        if not kind or str(kind).casefold() != link_type.casefold():
            continue
        for role in ROLES:
            other = link.get(role)
            if isinstance(other, dict):
                found |= {str(other.get("id", "")), str(other.get("key", ""))}
    return found - {""}
