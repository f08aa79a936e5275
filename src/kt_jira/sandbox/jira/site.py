"""The simulated Jira site's catalogue: fields, issue types, priorities, resolutions, projects.

Ids are realistic but deliberately not the guide's (customfield_10100..10104), and decoy fields
with look-alike names sit before the real ones, so a client that hard-codes ids, matches names
loosely or ignores the create screen picks the wrong field. Pure data; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CF_TYPE = "com.atlassian.jira.plugin.system.customfieldtypes:"
TEXTFIELD = CF_TYPE + "textfield"
TEXTAREA = CF_TYPE + "textarea"
URLFIELD = CF_TYPE + "url"

JsonDict = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class FieldDef:
    """One entry of `GET /rest/api/3/field`."""

    id: str
    name: str
    schema_type: str
    system: str | None = None
    custom: str | None = None
    items: str | None = None
    orderable: bool = True
    searchable: bool = True
    clause_names: tuple[str, ...] = ()

    @property
    def is_custom(self) -> bool:
        return self.custom is not None

    @property
    def custom_id(self) -> int | None:
        return int(self.id.removeprefix("customfield_")) if self.custom else None

    @property
    def kind(self) -> str:
        """'textfield', 'textarea', 'url' for custom fields; the system name otherwise."""
        if self.custom is not None:
            return self.custom.removeprefix(CF_TYPE)
        return self.system or self.id

    def schema(self) -> JsonDict:
        out: JsonDict = {"type": self.schema_type}
        if self.items:
            out["items"] = self.items
        if self.custom is not None:
            out["custom"] = self.custom
            out["customId"] = self.custom_id
        else:
            out["system"] = self.system or self.id
        return out

    def details(self) -> JsonDict:
        """The FieldDetails object."""
        clauses = list(self.clause_names)
        if self.custom_id is not None:
            clauses = [f"cf[{self.custom_id}]", self.name]
        out: JsonDict = {
            "id": self.id,
            "key": self.id,
            "name": self.name,
            "untranslatedName": self.name,
            "custom": self.is_custom,
            "orderable": self.orderable,
            "navigable": True,
            "searchable": self.searchable,
            "clauseNames": clauses,
            "schema": self.schema(),
        }
        return out


def _system(
    fid: str, name: str, stype: str, *, items: str | None = None, clauses: tuple[str, ...] = ()
) -> FieldDef:
    return FieldDef(
        id=fid,
        name=name,
        schema_type=stype,
        system=fid,
        items=items,
        clause_names=clauses or (fid,),
    )


def _custom(num: int, name: str, kind: str) -> FieldDef:
    return FieldDef(id=f"customfield_{num}", name=name, schema_type="string", custom=kind)


SYSTEM_FIELDS: tuple[FieldDef, ...] = (
    _system("summary", "Summary", "string"),
    _system("description", "Description", "string"),
    _system("issuetype", "Issue Type", "issuetype", clauses=("issuetype", "type")),
    _system("project", "Project", "project"),
    _system("priority", "Priority", "priority"),
    _system("labels", "Labels", "array", items="string"),
    _system("duedate", "Due date", "date", clauses=("due", "duedate")),
    _system("reporter", "Reporter", "user"),
    _system("assignee", "Assignee", "user"),
    _system("components", "Components", "array", items="component", clauses=("component",)),
    _system("resolution", "Resolution", "resolution"),
    _system("resolutiondate", "Resolved", "datetime", clauses=("resolutiondate", "resolved")),
    _system("status", "Status", "status"),
    _system("created", "Created", "datetime", clauses=("created", "createdDate")),
    _system("updated", "Updated", "datetime", clauses=("updated", "updatedDate")),
    _system("creator", "Creator", "user"),
    _system("comment", "Comment", "comments-page"),
    _system("issuelinks", "Linked Issues", "array", items="issuelinks", clauses=("issueLink",)),
)

# Decoys first: a client that takes the first name match, or matches case-insensitively, or
# by prefix, lands on one of these.
CUSTOM_FIELDS: tuple[FieldDef, ...] = (
    _custom(10290, "Escalation Id", TEXTFIELD),
    _custom(10291, "Escalation ID (legacy)", TEXTFIELD),
    _custom(10299, "Policy Name", TEXTFIELD),
    _custom(10430, "Model Version", TEXTFIELD),
    _custom(10431, "Escalation ID", TEXTFIELD),
    _custom(10432, "Policy Name", TEXTFIELD),
    _custom(10433, "Model", TEXTFIELD),
    _custom(10434, "Gateway ID", TEXTFIELD),
    _custom(10435, "Console URL", URLFIELD),
    _custom(10436, "Investigation Notes", TEXTAREA),
)

# What the default create screen of every project and issue type holds.
DEFAULT_SCREEN_FIELDS: tuple[str, ...] = (
    "summary",
    "issuetype",
    "project",
    "description",
    "priority",
    "labels",
    "duedate",
    "reporter",
    "assignee",
    "components",
    "customfield_10430",
    "customfield_10431",
    "customfield_10432",
    "customfield_10433",
    "customfield_10434",
    "customfield_10435",
    "customfield_10436",
)
NEW_FIELD_IDS = 10500  # fields created through the API are numbered from here
REQUIRED_ON_CREATE = frozenset({"summary", "issuetype", "project"})


@dataclass(frozen=True)
class Named:
    """An id/name pair: issue type, priority, resolution, component."""

    id: str
    name: str
    description: str = ""


ISSUE_TYPES: tuple[Named, ...] = (
    Named("10004", "Bug", "A problem: here, a policy that blocked a legitimate request."),
    Named("10002", "Task", "A genuine violation that needs review."),
    Named("10001", "Story", "A policy improvement."),
)
PRIORITIES: tuple[Named, ...] = (
    Named("1", "Highest"),
    Named("2", "High"),
    Named("3", "Medium"),
    Named("4", "Low"),
    Named("5", "Lowest"),
)
DEFAULT_PRIORITY_ID = "3"
RESOLUTIONS: tuple[Named, ...] = (
    Named("10000", "Done", "Work has been completed on this issue."),
    Named("10001", "Won't Do", "This issue won't be actioned."),
    Named("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
    Named("10003", "Cannot Reproduce", "This issue couldn't be reproduced."),
    Named("10004", "False Positive", "The policy fired on a legitimate request."),
)
COMPONENTS: tuple[Named, ...] = (Named("10100", "Gateway"), Named("10101", "Policy"))


@dataclass
class Screen:
    """A screen with one tab, ``tab_id`` "Field Tab" (mutable: tests edit it). A create
    screen's ``fields`` are what createmeta lists for its project and issue type."""

    fields: list[str] = field(default_factory=lambda: list(DEFAULT_SCREEN_FIELDS))
    priority_ids: list[str] = field(default_factory=lambda: [p.id for p in PRIORITIES])
    id: int = 0
    name: str = ""
    tab_id: int = 0


TAB_NAME = "Field Tab"
# Task has no entry of its own in a project's issue type screen scheme: it takes the
# ``default`` entry, as every type without one does in Jira.
DEFAULT_MAPPED_TYPE = "10002"


@dataclass(frozen=True)
class ScreenScheme:
    """Which screen each operation shows; one per issue type of a project here."""

    id: int
    name: str
    screens: dict[str, int]  #: default, create, edit, view -> screen id


@dataclass
class Project:
    """A company-managed project with its create screens and issue counter.

    Jira's chain, as the admin endpoints walk it: the project's issue type screen scheme
    (``scheme_id``) maps each issue type (or ``default``) to a screen scheme (``mapping``),
    whose ``create`` screen (else its ``default`` one) is ``screens[type id]``. The other
    operations show ``default_screen``. A team-managed project has no schemes at all."""

    id: str
    key: str
    name: str
    issue_type_ids: list[str] = field(default_factory=lambda: [t.id for t in ISSUE_TYPES])
    screens: dict[str, Screen] = field(default_factory=dict)
    counter: int = 0
    team_managed: bool = False
    default_screen: Screen = field(default_factory=Screen)
    mapping: dict[str, ScreenScheme] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Ids unique across projects: screens 1000+, screen schemes 2000+, 10 per project.
        base = 10 * (int(self.id) - 10000)
        self.default_screen.id = 1000 + base
        self.default_screen.name = f"{self.key}: Default Screen"
        self.default_screen.tab_id = 10 * self.default_screen.id + 1
        for index, type_id in enumerate(self.issue_type_ids, start=1):
            screen = self.screens.setdefault(type_id, Screen())
            type_name = next((t.name for t in ISSUE_TYPES if t.id == type_id), type_id)
            screen.id, screen.tab_id = 1000 + base + index, 10 * (1000 + base + index) + 1
            screen.name = f"{self.key}: {type_name} Create Screen"
            own = type_id != DEFAULT_MAPPED_TYPE
            screens = {"default": self.default_screen.id, "create": screen.id}
            scheme = ScreenScheme(
                2000 + base + index,
                f"{self.key}: {type_name} Screen Scheme",
                screens if own else {"default": screen.id},
            )
            self.mapping[type_id if own else "default"] = scheme
        if "default" not in self.mapping and self.mapping:  # Jira's mapping always has one
            self.mapping["default"] = next(iter(self.mapping.values()))

    @property
    def scheme_id(self) -> int:
        """The id of the project's issue type screen scheme."""
        return 3000 + int(self.id) - 10000

    def all_screens(self) -> list[Screen]:
        return [self.default_screen, *self.screens.values()]


def default_fields() -> list[FieldDef]:
    """A fresh, editable copy of the site's field list, in `/field` order."""
    return [*SYSTEM_FIELDS, *CUSTOM_FIELDS]


def find_named(items: tuple[Named, ...], value: object) -> Named | None:
    """Look up by ``{"id": ...}`` or ``{"name": ...}`` (Jira matches names case-insensitively)."""
    if not isinstance(value, dict):
        return None
    if "id" in value:
        return next((i for i in items if i.id == str(value["id"])), None)
    name = value.get("name")
    if isinstance(name, str):
        return next((i for i in items if i.name.lower() == name.lower()), None)
    return None


@dataclass
class Site:
    """The site's mutable catalogue: fields, projects and their screens."""

    fields: list[FieldDef] = field(default_factory=default_fields)
    projects: dict[str, Project] = field(default_factory=dict)

    def add_project(self, key: str, name: str | None = None) -> Project:
        """Create a project with default screens (idempotent by key)."""
        if key not in self.projects:
            pid = str(10000 + len(self.projects))
            self.projects[key] = Project(id=pid, key=key, name=name or f"{key} project")
        return self.projects[key]

    def project(self, id_or_key: object) -> Project | None:
        """A project by key (case-insensitive) or numeric id."""
        if not isinstance(id_or_key, str | int) or isinstance(id_or_key, bool):
            return None
        wanted = str(id_or_key)
        return next(
            (p for p in self.projects.values() if p.id == wanted or p.key == wanted.upper()), None
        )

    def field(self, field_id: str) -> FieldDef | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def screen(self, screen_id: str) -> Screen | None:
        """Any project's screen by id (a create screen or a default screen)."""
        screens = (s for p in self.projects.values() for s in p.all_screens())
        return next((s for s in screens if str(s.id) == screen_id), None)

    def add_custom_field(self, name: str, kind: str, *, searchable: bool) -> FieldDef:
        """A new custom field with the next free id, on no screen yet (as Jira creates it)."""
        ids = [f.custom_id or 0 for f in self.fields]
        array = kind == CF_TYPE + "labels"
        created = FieldDef(
            id=f"customfield_{max([*ids, NEW_FIELD_IDS - 1]) + 1}",
            name=name,
            schema_type="array" if array else "string",
            custom=kind,
            items="string" if array else None,
            searchable=searchable,
        )
        self.fields.append(created)
        return created

    def fields_named(self, name: str) -> list[FieldDef]:
        """Every field whose name or clause name matches (JQL: case-insensitive)."""
        wanted = name.lower()
        return [
            f
            for f in self.fields
            if f.name.lower() == wanted or wanted in (c.lower() for c in f.clause_names)
        ]
