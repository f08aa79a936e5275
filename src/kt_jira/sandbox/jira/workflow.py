"""Workflows of the simulated Jira: statuses, their categories and the transitions between them.

A workflow is a data table, replaceable per project, so tests can model a site whose
transition ids, names or resolution screens differ from the guide's. Pure data; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]

CATEGORIES: dict[str, JsonDict] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}


@dataclass(frozen=True)
class Status:
    """A workflow status and its category key (`new`, `indeterminate` or `done`)."""

    id: str
    name: str
    category: str


@dataclass(frozen=True, kw_only=True)
class Transition:
    """A transition from any of ``sources`` (empty: global, from every status) to ``to``.

    ``screen`` lists the fields its screen holds; only those may be set when transitioning.
    ``sets_resolution`` is a post-function default; ``clears_resolution`` reopens.
    """

    id: str
    name: str
    to: str
    sources: tuple[str, ...] = ()
    screen: tuple[str, ...] = ()
    sets_resolution: str | None = None
    clears_resolution: bool = False

    @property
    def has_screen(self) -> bool:
        return bool(self.screen)


@dataclass(frozen=True, kw_only=True)
class Workflow:
    """Statuses (the first is initial) and transitions."""

    name: str
    statuses: tuple[Status, ...]
    transitions: tuple[Transition, ...]

    @property
    def initial(self) -> Status:
        return self.statuses[0]

    def status(self, status_id: str) -> Status:
        return next(s for s in self.statuses if s.id == status_id)

    def find_status(self, id_or_name: str) -> Status | None:
        wanted = id_or_name.lower()
        return next(
            (s for s in self.statuses if s.id == id_or_name or s.name.lower() == wanted), None
        )

    def available(self, status_id: str) -> list[Transition]:
        """Transitions that can be taken from ``status_id``, in table order."""
        return [t for t in self.transitions if not t.sources or status_id in t.sources]


@dataclass
class WorkflowRegistry:
    """Which workflow each project uses (default: the guide's)."""

    default: Workflow = field(default_factory=lambda: guide_workflow())
    by_project: dict[str, Workflow] = field(default_factory=dict)

    def for_project(self, key: str) -> Workflow:
        return self.by_project.get(key, self.default)

    def all_statuses(self) -> list[Status]:
        seen: dict[str, Status] = {}
        for wf in (self.default, *self.by_project.values()):
            for status in wf.statuses:
                seen.setdefault(status.id, status)
        return list(seen.values())


def guide_workflow() -> Workflow:
    """Open → In Progress → Under Review → Resolved → Closed; In Progress → False Positive → Closed;
    In Progress ⇄ Waiting for customer (in progress too: where SLA clocks pause).

    Resolve and Mark False Positive have a screen with Resolution; Close has none, so setting a
    resolution there is rejected as on a real site. Reopen (global from done) clears it.
    """
    statuses = (
        Status("10000", "Open", "new"),
        Status("3", "In Progress", "indeterminate"),
        Status("10001", "Under Review", "indeterminate"),
        Status("5", "Resolved", "done"),
        Status("6", "Closed", "done"),
        Status("10002", "False Positive", "done"),
        Status("10003", "Waiting for customer", "indeterminate"),
    )
    transitions = (
        Transition(id="11", name="Start Progress", to="3", sources=("10000",)),
        Transition(id="21", name="Submit for Review", to="10001", sources=("3",)),
        Transition(
            id="31",
            name="Resolve",
            to="5",
            sources=("10001",),
            screen=("resolution", "comment"),
            sets_resolution="Done",
        ),
        Transition(
            id="51",
            name="Mark False Positive",
            to="10002",
            sources=("3",),
            screen=("resolution", "comment"),
            sets_resolution="False Positive",
        ),
        Transition(id="41", name="Close", to="6", sources=("5", "10002")),
        Transition(
            id="71", name="Reopen", to="10000", sources=("5", "6", "10002"), clears_resolution=True
        ),
        Transition(id="61", name="Wait for Customer", to="10003", sources=("3",)),
        Transition(id="81", name="Back to In Progress", to="3", sources=("10003",)),
    )
    return Workflow(name="AI Governance Workflow", statuses=statuses, transitions=transitions)


def status_json(status: Status, base: str) -> JsonDict:
    """The status object as it appears in issue fields and transition targets."""
    category = CATEGORIES[status.category]
    return {
        "self": f"{base}/rest/api/3/status/{status.id}",
        "description": "",
        "iconUrl": f"{base}/images/icons/statuses/generic.png",
        "name": status.name,
        "id": status.id,
        "statusCategory": {
            "self": f"{base}/rest/api/3/statuscategory/{category['id']}",
            **category,
        },
    }
