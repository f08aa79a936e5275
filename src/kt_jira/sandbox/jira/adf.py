"""What Jira Cloud's v3 API checks in Atlassian Document Format values, and the exact errors.

Deliberately a structural check, not the full schema: tests plug the published ADF JSON schema
in through `JiraSandboxSettings.request_validator`. No I/O.
"""

from __future__ import annotations

from typing import Any

NOT_A_DOCUMENT = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
UNSUPPORTED_CONTENT = (
    "We can't create this issue for you right now, it could be due to unsupported content "
    "added to text fields. Please try removing special characters or a specific content type "
    "and try again."
)
MAX_TEXT = 32_767
TOO_LONG = "The entered text is too long. It exceeds the allowed limit of {limit:,} characters."

# Nodes allowed directly under `doc` (inline nodes such as `text` are not).
BLOCK_NODES = frozenset(
    {
        "paragraph",
        "heading",
        "bulletList",
        "orderedList",
        "taskList",
        "decisionList",
        "codeBlock",
        "blockquote",
        "rule",
        "panel",
        "table",
        "mediaSingle",
        "mediaGroup",
        "expand",
        "blockCard",
        "embedCard",
        "extension",
        "bodiedExtension",
        "layoutSection",
    }
)


def adf_error(value: object, *, limit: int = MAX_TEXT) -> str | None:
    """The message Jira gives for ``value`` as a v3 rich-text field, or None when it is fine."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return NOT_A_DOCUMENT
    if (
        value.get("type") != "doc"
        or value.get("version") != 1
        or not isinstance(value.get("content"), list)
        or set(value) - {"type", "version", "content"}
    ):
        return UNSUPPORTED_CONTENT
    for node in value["content"]:
        if not isinstance(node, dict) or node.get("type") not in BLOCK_NODES:
            return UNSUPPORTED_CONTENT
        if not _well_formed(node):
            return UNSUPPORTED_CONTENT
    if len(adf_text(value)) > limit:
        return TOO_LONG.format(limit=limit)
    return None


def _well_formed(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    if not isinstance(kind, str) or kind == "doc":
        return False
    if kind == "text":
        text = node.get("text")
        return isinstance(text, str) and text != "" and "content" not in node
    content = node.get("content", [])
    if not isinstance(content, list):
        return False
    return all(isinstance(child, dict) and _well_formed(child) for child in content)


def adf_text(value: object) -> str:
    """The plain text of an ADF tree (paragraphs separated by newlines), for search and length."""
    if not isinstance(value, dict):
        return ""
    if value.get("type") == "text":
        text = value.get("text")
        return text if isinstance(text, str) else ""
    if value.get("type") == "hardBreak":
        return "\n"
    content = value.get("content")
    if not isinstance(content, list):
        return ""
    parts = [adf_text(child) for child in content]
    joiner = "" if value.get("type") in ("paragraph", "heading", "text") else "\n"
    return joiner.join(parts)
