"""Check an issue draft against what the Jira project accepts, then build the create body.

Field names resolve to the site's ids by EXACT name among the fields on the create screen, so
look-alike decoys never match; a draft that cannot fit fails here with a ``DraftError`` that says
which screen or rule to fix, instead of a 400 from Jira at 3 a.m. Metadata is cached and
refreshed once before a failure is believed.
"""

from __future__ import annotations

import asyncio
import difflib
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kt_jira.config.models import JiraSettings
from kt_jira.errors import DraftError
from kt_jira.jira.client import JiraClient
from kt_jira.jira.correlation import check_marker
from kt_jira.jira.models import CreateField, FieldInfo, IssueTypeInfo
from kt_jira.jira.search import find_by_label
from kt_jira.jira.values import RenderDoc, component_values, convert_value, user_value
from kt_jira.render.adf import to_adf
from kt_jira.render.wiki import to_wiki
from kt_jira.tickets.draft import IssueDraft

__all__ = ["JiraMetadata", "find_by_label"]

T = TypeVar("T")
# A failed lookup re-reads metadata older than this before it is believed (a field may just
# have been added to the screen), without re-reading on every failing job of a backlog. Short,
# because `kt-jira jobs replay` right after fixing the screen must see the fix.
REFRESH_MIN_AGE_SECONDS = 1.0
LABEL_LIMIT = 255
SUMMARY_LIMIT = 255
_SET_BY_JIRA = frozenset({"project", "issuetype"})


class _Cache(Generic[T]):
    """Values by key with an age; one loader runs per key at a time (no stampede)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, T]] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]], *, max_age: float) -> T:
        async with self._locks.setdefault(key, asyncio.Lock()):
            entry = self._entries.get(key)
            if entry is not None and self._clock() - entry[0] < max_age:
                return entry[1]
            value = await load()
            self._entries[key] = (self._clock(), value)
            return value

    def clear(self) -> None:
        self._entries.clear()


@dataclass(frozen=True, kw_only=True)
class _Screen:
    project: str
    issue_type: IssueTypeInfo
    fields: dict[str, CreateField]

    @property
    def where(self) -> str:
        return f"{self.project} {self.issue_type.name} create screen"

    def system(self, field_id: str, label: str) -> CreateField:
        meta = self.fields.get(field_id)
        if meta is None:
            raise DraftError(
                f"field '{label}' ({field_id}) is not on the {self.where}; add it to the screen "
                "in Project settings → Screens"
            )
        return meta


class JiraMetadata:
    """Cached field and create metadata of one Jira site, and the drafts checked against it."""

    def __init__(
        self,
        client: JiraClient,
        settings: JiraSettings | None = None,
        *,
        render: RenderDoc | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.settings = settings or client.settings
        # Cloud v3 takes ADF documents; Data Center v2 takes wiki-markup strings.
        default: RenderDoc = to_adf if self.settings.flavor == "cloud" else to_wiki
        self._render = render or default
        self._ttl = self.settings.metadata_cache_seconds
        self._fields: _Cache[list[FieldInfo]] = _Cache(clock)
        self._types: _Cache[list[IssueTypeInfo]] = _Cache(clock)
        self._screens: _Cache[list[CreateField]] = _Cache(clock)

    def invalidate(self) -> None:
        """Forget everything cached (after an admin changed fields or screens)."""
        for cache in (self._fields, self._types, self._screens):
            cache.clear()

    async def build_create_body(self, draft: IssueDraft) -> dict[str, Any]:
        """The ``POST /issue`` body for ``draft``, or a ``DraftError`` saying what to fix."""
        return await self._with_refresh(lambda max_age: self._build(draft, max_age))

    async def field_id(self, project: str, issue_type: str, name: str) -> str:
        """The id of the field named exactly ``name`` on the create screen of the issue type."""

        async def resolve(max_age: float) -> str:
            screen = await self._screen(project, issue_type, max_age)
            return self._resolve(name, await self._all_fields(max_age), screen).field_id

        return await self._with_refresh(resolve)

    async def fields_named(self, name: str) -> list[FieldInfo]:
        """Every field of the site named exactly ``name`` (names repeat across projects)."""
        return [f for f in await self._all_fields(self._ttl) if f.name == name]

    async def _with_refresh(self, attempt: Callable[[float], Awaitable[T]]) -> T:
        try:
            return await attempt(self._ttl)
        except DraftError:
            fresher = min(self._ttl, REFRESH_MIN_AGE_SECONDS)
            if fresher >= self._ttl:
                raise  # everything was at most that old already
            return await attempt(fresher)

    async def _all_fields(self, max_age: float) -> list[FieldInfo]:
        return await self._fields.get("*", self.client.fields, max_age=max_age)

    async def _screen(self, project: str, issue_type: str, max_age: float) -> _Screen:
        types = await self._types.get(
            project, lambda: self.client.create_issue_types(project), max_age=max_age
        )
        matches = [t for t in types if t.name.casefold() == issue_type.casefold()]
        if not matches:
            names = ", ".join(t.name for t in types) or "none the bot account may create"
            raise DraftError(
                f"issue type '{issue_type}' does not exist in project {project} (it has: "
                f"{names}); create it or change the rule"
            )
        chosen = next((t for t in matches if not t.subtask), matches[0])
        fields = await self._screens.get(
            (project, chosen.id),
            lambda: self.client.create_fields(project, chosen.id),
            max_age=max_age,
        )
        return _Screen(project=project, issue_type=chosen, fields={f.field_id: f for f in fields})

    def _resolve(self, name: str, all_fields: list[FieldInfo], screen: _Screen) -> CreateField:
        candidates = [f for f in all_fields if f.name == name]
        on_screen = [f for f in candidates if f.id in screen.fields]
        if len(on_screen) == 1:
            meta = screen.fields[on_screen[0].id]
            if meta.name != name:
                raise DraftError(
                    f"field '{name}' ({meta.field_id}) is called '{meta.name}' on the "
                    f"{screen.where}; the field list and the create metadata disagree, so "
                    "rename the field in Jira or fix jira.fields"
                )
            return meta
        if on_screen:
            ids = ", ".join(f.id for f in on_screen)
            raise DraftError(
                f"field name '{name}' is ambiguous on the {screen.where} ({ids}); rename all "
                "but one in Jira settings → Issues → Custom fields, or remove the others from "
                "the screen"
            )
        if candidates:
            ids = ", ".join(f.id for f in candidates)
            raise DraftError(
                f"field '{name}' ({ids}) is not on the {screen.where}; add it to the screen in "
                "Project settings → Screens"
            )
        names = [f.name for f in all_fields]
        close = [n for n in names if n.casefold() == name.casefold()]
        close += difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = ", ".join(f"'{n}'" for n in dict.fromkeys(close))
        raise DraftError(
            f"no Jira field is named exactly '{name}'"
            + (f" (closest: {hint})" if hint else "")
            + "; fix the name in jira.fields or the rule, or create the field in Jira"
        )

    async def _build(self, draft: IssueDraft, max_age: float) -> dict[str, Any]:
        check_marker(draft, self.settings)
        screen = await self._screen(draft.project, draft.issue_type, max_age)
        fields: dict[str, Any] = {
            "project": {"key": draft.project},
            "issuetype": {"id": screen.issue_type.id},
        }
        screen.system("summary", "Summary")
        if not draft.summary.strip() or len(draft.summary) > SUMMARY_LIMIT:
            raise DraftError(
                f"the summary must have 1 to {SUMMARY_LIMIT} characters, not "
                f"{len(draft.summary)}; shorten the rule's summary template"
            )
        fields["summary"] = draft.summary
        screen.system("description", "Description")
        fields["description"] = self._render(draft.description)
        # The correlation label is left off only when another marker is configured without it.
        labels = _labels(draft, marker=self.settings.correlation.add_label)
        if labels:
            screen.system("labels", "Labels")
            fields["labels"] = labels
        if draft.priority:
            fields["priority"] = _priority(screen, draft.priority)
        if draft.components:
            meta = screen.system("components", "Components")
            fields["components"] = component_values(
                meta, draft.components, where=screen.where, rule=draft.rule
            )
        if draft.assignee:
            screen.system("assignee", "Assignee")
            fields["assignee"] = user_value(draft.assignee, flavor=self.settings.flavor)
        if draft.due_date is not None:
            screen.system("duedate", "Due date")
            fields["duedate"] = draft.due_date.isoformat()
        if draft.fields:
            all_fields = await self._all_fields(max_age)
            for name, value in draft.fields.items():
                meta = self._resolve(name, all_fields, screen)
                where = f"field '{name}' ({meta.field_id})"
                if meta.field_id in fields:
                    raise DraftError(f"{where} is already set by the draft; remove it from fields")
                fields[meta.field_id] = convert_value(
                    meta, value, render=self._render, flavor=self.settings.flavor, where=where
                )
        _check_required(screen, fields)
        return {"fields": fields}


def _labels(draft: IssueDraft, *, marker: bool = True) -> list[str]:
    extra = draft.correlation_label if marker else ""
    labels = list(dict.fromkeys(x for x in (*draft.labels, extra) if x))
    for label in labels:
        if any(ch.isspace() for ch in label) or len(label) > LABEL_LIMIT:
            raise DraftError(
                f"label '{label[:80]}' is not valid in Jira (no spaces, at most {LABEL_LIMIT} "
                "characters); fix the rule's labels"
            )
    return labels


def _priority(screen: _Screen, wanted: str) -> dict[str, str]:
    meta = screen.system("priority", "Priority")
    if not meta.allowed_values:  # the site does not list them: let Jira match by name
        return {"name": wanted}
    for allowed in meta.allowed_values:
        if allowed.label.casefold() == wanted.casefold():
            return {"id": allowed.id} if allowed.id else {"name": allowed.label}
    names = ", ".join(v.label for v in meta.allowed_values)
    raise DraftError(
        f"priority '{wanted}' is not allowed on the {screen.where} (allowed: {names}); change "
        "the rule's priority or the project's priority scheme"
    )


def _check_required(screen: _Screen, fields: dict[str, Any]) -> None:
    missing = [
        meta
        for meta in screen.fields.values()
        if meta.required
        and not meta.has_default_value
        and meta.field_id not in fields
        and meta.field_id not in _SET_BY_JIRA
    ]
    if missing:
        named = ", ".join(f"'{m.name}' ({m.field_id})" for m in missing)
        raise DraftError(
            f"the {screen.where} requires {named}, which the rule does not set; set it in the "
            "rule's fields or make it optional in Jira"
        )
