"""Walk every page of a JQL search, and find issues by the bridge's correlation label.

Search is eventually consistent: an empty answer right after a create proves nothing, so callers
wait out the consistency delay before trusting absence. Results are re-checked client-side.
Works on both flavours: ``JiraClient.search`` hides Cloud's tokens and Data Center's offsets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kt_jira.jira.client import JiraClient
from kt_jira.render.sanitise import jql_string

LABEL_SEARCH_FIELDS = ("labels", "created", "summary", "status")
LABEL_SEARCH_PAGE_SIZE = 50


async def search_all(
    client: JiraClient,
    jql: str,
    *,
    fields: Sequence[str],
    page_size: int = LABEL_SEARCH_PAGE_SIZE,
) -> list[dict[str, Any]]:
    """Every issue ``jql`` finds, each once, in the order Jira returns them."""
    found: list[dict[str, Any]] = []
    seen_tokens: set[str] = set()
    seen_ids: set[str] = set()
    token: str | None = None
    while True:
        page = await client.search(jql, fields=fields, max_results=page_size, next_page_token=token)
        for issue in page.issues:
            # Pages can shift while we read them: keep each issue once.
            if str(issue.get("id")) not in seen_ids:
                seen_ids.add(str(issue.get("id")))
                found.append(issue)
        token = page.next_page_token
        # A token seen before would loop forever: treat it as the end.
        if page.is_last or token is None or token in seen_tokens:
            return found
        seen_tokens.add(token)


async def find_by_label(client: JiraClient, *, project: str, label: str) -> list[dict[str, Any]]:
    """Every issue in ``project`` whose labels contain ``label`` exactly, oldest first."""
    jql = f"project = {jql_string(project)} AND labels = {jql_string(label)} ORDER BY created ASC"
    issues = await search_all(client, jql, fields=LABEL_SEARCH_FIELDS)
    return [issue for issue in issues if label in labels_of(issue)]


def labels_of(issue: dict[str, Any]) -> list[str]:
    labels = (issue.get("fields") or {}).get("labels") or []
    return [str(label) for label in labels] if isinstance(labels, list) else []
