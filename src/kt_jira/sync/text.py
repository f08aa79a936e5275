"""The comments the bridge leaves on an issue when it syncs a status, as render document trees.

Pure: facts in, ``render.nodes.Document`` out; ``to_adf`` (Cloud) or ``to_wiki`` (Data Center)
turns them into a comment body. Every value from Keeptrusts or Jira enters as text, never
markup, so a reviewer's note cannot inject anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from kt_jira.render.nodes import Document, Inline, Paragraph, Text, paragraph, text


@dataclass(frozen=True, kw_only=True)
class UpstreamResolution:
    """What Keeptrusts said about a closed escalation."""

    escalation_id: str
    outcome: str
    notes: str = ""
    resolved_by: str = ""
    expired: bool = False


def _strong(value: str) -> Text:
    return Text(text=value, marks=frozenset({"strong"}))


def _what(res: UpstreamResolution) -> tuple[Inline, ...]:
    if res.expired:
        return (text("Keeptrusts escalation "), _strong(res.escalation_id), text(" expired"))
    who = res.resolved_by or "a reviewer"
    return (
        text("Keeptrusts escalation "),
        _strong(res.escalation_id),
        text(" was resolved by "),
        _strong(who),
        text(" with outcome "),
        _strong(res.outcome or "resolved"),
    )


def _note(res: UpstreamResolution) -> tuple[Paragraph, ...]:
    return (paragraph(text("Note: "), text(res.notes)),) if res.notes.strip() else ()


def _group(size: int) -> tuple[Paragraph, ...]:
    if size < 2:
        return ()
    return (paragraph(text(f"It was the last open one of the {size} escalations of this group.")),)


def resolved_upstream(res: UpstreamResolution, *, status: str, group: int = 0) -> Document:
    """After the bridge moved the issue to a done status (``group``: the escalations of the
    group it holds, when ``res`` resolved the last of them)."""
    return Document(
        content=(
            paragraph(*_what(res), text(".")),
            *_note(res),
            *_group(group),
            paragraph(text(f"kt-jira moved this issue to {status}.")),
        )
    )


def resolved_headline(res: UpstreamResolution) -> Document:
    """The first paragraph of every resolution comment, alone: what a retry looks for."""
    return Document(content=(paragraph(*_what(res), text(".")),))


def still_open(res: UpstreamResolution, *, open_count: int) -> Document:
    """One escalation of a group closed while others are open: the ticket stays open."""
    noun = "escalation of this group is" if open_count == 1 else "escalations of this group are"
    return Document(
        content=(
            paragraph(*_what(res), text(".")),
            *_note(res),
            paragraph(
                text(f"{open_count} more {noun} still open in Keeptrusts, so the issue stays "),
                text("open; kt-jira moves it to done when the last one is resolved."),
            ),
        )
    )


def no_path_to_done(
    res: UpstreamResolution, *, status: str, label: str, group: int = 0
) -> Document:
    """When the workflow offers no way from the current status to a done status."""
    return Document(
        content=(
            paragraph(*_what(res), text(".")),
            *_note(res),
            *_group(group),
            paragraph(
                text(f"kt-jira found no workflow transition from {status} to a done status, "),
                text(f"so the issue stays where it is and is labelled {label}. "),
                text("Please close it by hand."),
            ),
        )
    )


def reopened_after_resolve(res: UpstreamResolution, *, actor: str) -> Document:
    """When someone reopens an issue whose escalation is closed for good in Keeptrusts."""
    who = actor or "Someone"
    return Document(
        content=(
            paragraph(text(f"{who} reopened this issue, but "), *_what(res), text(".")),
            paragraph(
                text("A Keeptrusts resolution cannot be undone, so the escalation stays "),
                text("closed and changes here no longer reach it. If the request needs a "),
                text("new decision, raise a new escalation in Keeptrusts."),
            ),
        )
    )
