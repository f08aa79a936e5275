"""Comments in the site's format (``comment_body``: ADF on Cloud, wiki markup on Data Center),
and comments posted once: before repeating a comment whose answer was lost (a timeout after
Jira committed it), look for it among the issue's comments.

A comment is recognised by its first words (``headline``), which callers make unique per
ticket and purpose (``First response SLA breached``; a batch's count). Bodies are read as
plain text: ADF text nodes joined on Cloud, the wiki string on Data Center.
"""

from __future__ import annotations

from typing import Any

from kt_jira.jira.client import JiraClient
from kt_jira.render.adf import to_adf
from kt_jira.render.nodes import Document
from kt_jira.render.wiki import to_wiki


def comment_body(doc: Document, flavor: str) -> dict[str, Any] | str:
    """``doc`` as a comment body for a site of ``flavor`` (``jira.flavor``)."""
    return to_adf(doc) if flavor == "cloud" else to_wiki(doc)


async def already_posted(jira: JiraClient, issue_id: str, headline: str) -> bool:
    """Whether a comment starting with ``headline`` is on the issue."""
    wanted = headline.strip()
    return any(
        plain_text(c.get("body")).lstrip().startswith(wanted) for c in await jira.comments(issue_id)
    )


def plain_text(body: Any) -> str:
    """The words of a comment body: ADF text nodes joined, or the wiki string itself."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        own = body.get("text") if body.get("type") == "text" else ""
        inner = "".join(plain_text(child) for child in body.get("content") or ())
        return f"{own or ''}{inner}"
    if isinstance(body, list):
        return "".join(plain_text(item) for item in body)
    return ""
