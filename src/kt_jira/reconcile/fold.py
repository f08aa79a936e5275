"""Close a duplicate ticket: walk its workflow to a done status, say which ticket it duplicates.

Workflows differ per site, and Jira shows only the transitions available from the current
status, so the walk looks them up at every step. A done status with a plain name (Done,
Resolved, Closed) wins at once; otherwise the walk moves forward (in progress before back to
new) to a status it has not seen, and takes any done status (say, "False Positive") only when
nothing else is left. The resolution is set only when the transition's screen offers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kt_jira.errors import PermanentError
from kt_jira.jira import JiraClient
from kt_jira.jira.models import Transition
from kt_jira.render.adf import to_adf
from kt_jira.render.nodes import Document, paragraph, text
from kt_jira.render.wiki import to_wiki

MAX_STEPS = 6
PLAIN_DONE = ("done", "resolved", "closed", "duplicate")
_FORWARD = {"indeterminate": 0, "new": 1}


@dataclass(frozen=True, kw_only=True)
class Folded:
    issue_key: str
    status: str  #: the done status it ended in
    resolution: str  #: the resolution set, or "" when the screen had none to offer
    steps: int


def comment_text(*, keep_key: str, escalation_id: str) -> str:
    return (
        f"Duplicate of {keep_key}: both tickets carry the correlation marker of Keeptrusts "
        f"escalation {escalation_id}. kt-jira reconcile closed this one; follow {keep_key}."
    )


async def fold_duplicate(
    jira: JiraClient,
    *,
    issue_key: str,
    keep_key: str,
    escalation_id: str,
    resolution: str = "Duplicate",
) -> Folded:
    """Move ``issue_key`` to a done status (resolution ``resolution`` when offered) and comment
    that it duplicates ``keep_key``. ``PermanentError`` when no path to done can be found."""
    note = comment_text(keep_key=keep_key, escalation_id=escalation_id)
    body = _comment_body(jira, note)
    visited: set[str] = set()
    for step in range(1, MAX_STEPS + 1):
        transitions = await jira.transitions(issue_key)
        target = _choose(transitions, visited, last=step == MAX_STEPS)
        if target is None:
            break
        visited.add(target.to_id)
        request: dict[str, Any] = {"transition": {"id": target.id}}
        chosen = ""
        if target.done:
            chosen = _resolution(target, resolution)
            if chosen:
                request["fields"] = {"resolution": {"name": chosen}}
            if target.has_comment:
                request["update"] = {"comment": [{"add": {"body": body}}]}
        await jira.transition(issue_key, request)
        if target.done:
            if "update" not in request:
                await jira.add_comment(issue_key, body)
            return Folded(issue_key=issue_key, status=target.to_name, resolution=chosen, steps=step)
    raise PermanentError(
        f"{issue_key}: no workflow path to a done status within {MAX_STEPS} transitions; "
        f"close it by hand as a duplicate of {keep_key}"
    )


def _comment_body(jira: JiraClient, note: str) -> Any:
    doc = Document(content=(paragraph(text(note)),))
    return to_wiki(doc) if jira.settings.flavor == "datacenter" else to_adf(doc)


def _choose(transitions: list[Transition], visited: set[str], *, last: bool) -> Transition | None:
    """A plain done status; else a step forward to an unseen status; else any done status."""
    usable = [t for t in transitions if t.id]
    done = [t for t in usable if t.done]
    plain = [t for t in done if t.to_name.lower() in PLAIN_DONE]
    if plain:
        return plain[0]
    forward = [t for t in usable if t.to_category in _FORWARD and t.to_id not in visited]
    if forward and not last:
        return sorted(forward, key=lambda t: _FORWARD[t.to_category])[0]
    return done[0] if done else None


def _resolution(transition: Transition, wanted: str) -> str:
    """``wanted`` if the screen's resolution field offers it (by name, any case), else ""."""
    return next((name for name in transition.resolutions if name.lower() == wanted.lower()), "")
