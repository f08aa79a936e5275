"""Pure: which custom fields the config needs, of which type, on which create screens, and what
``kt-jira setup jira`` must do so each is there, with the words for every step.

``wanted_fields`` reads the config only; ``plan`` compares it with what the caller read from
Jira (the fields by name, each target's create screen). Jira allows duplicate field names, so
everything is found by exact name first and only a name nobody has is created. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from kt_jira.config.models import Content
from kt_jira.jira.models import FieldInfo
from kt_jira.tickets.rules import DEFAULT_ISSUE_TYPE, DEFAULT_RULES

CF_TYPE = "com.atlassian.jira.plugin.system.customfieldtypes:"
DESCRIPTION = "Created by kt-jira"


@dataclass(frozen=True, kw_only=True)
class FieldKind:
    """A custom field type: its keys for ``POST /field`` and its name in Jira's admin pages."""

    key: str  #: how lines name it: text, url, labels
    type_key: str
    searcher_key: str
    cloud_label: str  #: as Jira Cloud's "Create custom field" lists it
    dc_label: str  #: as Data Center's "Add custom field" lists it


def _kind(key: str, type_name: str, searcher: str, cloud: str, dc: str) -> FieldKind:
    return FieldKind(
        key=key,
        type_key=CF_TYPE + type_name,
        searcher_key=CF_TYPE + searcher,
        cloud_label=cloud,
        dc_label=dc,
    )


TEXT = _kind(
    "text", "textfield", "textsearcher", "Short text (plain text only)", "Text Field (single line)"
)
URL = _kind("url", "url", "exacttextsearcher", "URL", "URL Field")
# A rule field given a list of templates holds several values; a text field takes one, so it
# becomes a labels field (its values are made label-safe, as the draft does for labels).
LABELS = _kind("labels", "labels", "labelsearcher", "Labels", "Labels")
# When rules disagree: a labels field also takes one value, and the console link is a URL.
_PRECEDENCE = (TEXT, LABELS, URL)


class Target(NamedTuple):
    """A project and issue type whose create screen must carry a field."""

    project: str
    issue_type: str

    def __str__(self) -> str:
        return f"{self.project} {self.issue_type}"


@dataclass(frozen=True, kw_only=True)
class WantedField:
    name: str
    kind: FieldKind
    targets: tuple[Target, ...]


def wanted_fields(content: Content) -> list[WantedField]:
    """Every field the rules' drafts carry by name (the ``jira.fields`` concepts and each
    rule's ``set.fields``), with its type and the targets that need it, in config order.

    A concept named ``null`` is left out, and so is a rule field whose templates are all empty
    (the rule drops it). Values are templates, so only ``console_url`` is known to be a URL."""
    concepts = {c: n for c, n in content.fields.model_dump().items() if isinstance(n, str)}
    link = concepts.get("console_url")
    kinds: dict[str, FieldKind] = {}
    targets: dict[str, dict[Target, None]] = {}
    for rule in content.rules or DEFAULT_RULES:
        target = Target(
            rule.set.project or content.project, rule.set.issue_type or DEFAULT_ISSUE_TYPE
        )
        fields = {name: URL if name == link else TEXT for name in concepts.values()}
        for name, template in rule.set.fields.items():
            sources = [template] if isinstance(template, str) else template
            if not any(source.strip() for source in sources):
                fields.pop(name, None)
            elif name != link:
                fields[name] = TEXT if isinstance(template, str) else LABELS
        for name, kind in fields.items():
            known = kinds.get(name, kind)
            kinds[name] = max(known, kind, key=_PRECEDENCE.index)
            targets.setdefault(name, {})[target] = None
    return [WantedField(name=n, kind=kinds[n], targets=tuple(targets[n])) for n in kinds]


@dataclass(frozen=True, kw_only=True)
class CreateScreen:
    """The create screen of one or more targets, as read from Jira.

    ``screen_id`` (and ``tab_id``, its first tab) is known only through the admin API on Cloud;
    without it (Data Center, or no admin permission) the screen is known by createmeta alone
    and changes to it are made by hand. A team-managed project has no shared screens at all."""

    key: str  #: the screen id, or the target when only createmeta shows it
    name: str
    field_ids: frozenset[str]
    screen_id: str | None = None
    tab_id: str | None = None
    tab_name: str = ""
    team_managed: bool = False

    @property
    def label(self) -> str:
        return f"screen '{self.name}'" if self.screen_id is not None else self.name


def createmeta_screen(target: Target, field_ids: frozenset[str], *, team: bool) -> CreateScreen:
    """A create screen known only through createmeta."""
    name = f"the create screen of {target.project}'s {target.issue_type} issues"
    return CreateScreen(key=str(target), name=name, field_ids=field_ids, team_managed=team)


@dataclass(frozen=True, kw_only=True)
class FieldStep:
    """What one field needs: the field to use (None: create it), the screens that have it,
    those to add it to, and what only a person can do."""

    wanted: WantedField
    field_id: str | None
    present_on: tuple[CreateScreen, ...] = ()
    add_to: tuple[CreateScreen, ...] = ()
    by_hand: tuple[str, ...] = ()

    @property
    def create(self) -> bool:
        return self.field_id is None and bool(self.add_to)

    @property
    def done(self) -> bool:
        return not self.add_to and not self.by_hand


def plan(
    wanted: Sequence[WantedField],
    fields: Sequence[FieldInfo],
    screens: Mapping[Target, CreateScreen | str],
) -> list[FieldStep]:
    """One step per wanted field. ``screens`` holds each target's create screen, or why it
    could not be read (an unknown project or issue type: a problem to fix by hand)."""
    steps: list[FieldStep] = []
    for field in wanted:
        found = [f for f in fields if f.name == field.name]
        seen = {s.key: s for t in field.targets if isinstance(s := screens.get(t), CreateScreen)}
        unusable = [f"{t}: {why}" for t in field.targets if isinstance(why := screens.get(t), str)]
        present, missing, by_hand = _placement(field, found, list(seen.values()))
        by_hand += unusable
        shared = [s for s in missing if not s.team_managed]
        chosen = _choose(field, found, present)
        if shared and found and chosen is None:
            ids = ", ".join(f.id for f in found)
            by_hand.append(
                f"{len(found)} fields are named '{field.name}' ({ids}) and none of them is on "
                f"{_names(shared)}: put the right one there by hand, or rename the others"
            )
            shared = []
        steps.append(
            FieldStep(
                wanted=field,
                field_id=chosen,
                present_on=tuple(present),
                add_to=tuple(shared),
                by_hand=tuple(by_hand),
            )
        )
    return steps


def _placement(
    field: WantedField, found: list[FieldInfo], screens: list[CreateScreen]
) -> tuple[list[CreateScreen], list[CreateScreen], list[str]]:
    """The screens that have the field, those that lack it, and problems with either."""
    present: list[CreateScreen] = []
    missing: list[CreateScreen] = []
    problems: list[str] = []
    for screen in screens:
        on = [f.id for f in found if f.id in screen.field_ids]
        (present if on else missing).append(screen)
        if len(on) > 1:
            problems.append(
                f"{len(on)} fields named '{field.name}' are on {screen.label} ({', '.join(on)}): "
                "take all but one off the screen, or rename them"
            )
        if screen.team_managed and not on:
            problems.append(team_text(field, screen))
    return present, missing, problems


def _choose(field: WantedField, found: list[FieldInfo], present: list[CreateScreen]) -> str | None:
    """The existing field to use: the one already on a screen, the only one of its name, or
    the only one of the wanted type; None when none (or no single one) fits."""
    for screen in present:
        on = [f.id for f in found if f.id in screen.field_ids]
        if len(on) == 1:
            return on[0]
    typed = [f for f in found if f.schema_custom == field.kind.type_key]
    for candidates in (found, typed):
        if len(candidates) == 1:
            return candidates[0].id
    return None


def _names(screens: Sequence[CreateScreen]) -> str:
    """The screens for a sentence; one known only through createmeta says where to look."""
    text = " and ".join(s.label for s in screens)
    if any(s.screen_id is None for s in screens):
        which = "screen that is" if len(screens) == 1 else "screens those are"
        text += f" (Project settings → Screens shows which {which})"
    return text


def exit_code(steps: Sequence[FieldStep], *, applied: bool) -> int:
    """1 when anything is left for a person; else 0 when every field is (now) where it must
    be, or 3 after a dry run that found what ``--create-fields`` would do."""
    by_screen = any(s.screen_id is None for step in steps for s in step.add_to)
    if by_screen or any(step.by_hand for step in steps):
        return 1
    return 0 if applied or all(step.done for step in steps) else 3


# -- the words of each step -------------------------------------------------------------------


def admin_path(flavor: str) -> str:
    if flavor == "datacenter":
        return "Administration (⚙) → Issues"
    return "Settings (⚙) → Issues"


def create_text(step: FieldStep, flavor: str) -> str:
    """How a person creates the field and puts it on its screens."""
    kind = step.wanted.kind
    label = kind.dc_label if flavor == "datacenter" else kind.cloud_label
    verb = "Add custom field" if flavor == "datacenter" else "Create custom field"
    text = f"{admin_path(flavor)} → Custom fields → {verb} → {label} → name '{step.wanted.name}'"
    return text + (f" → associate it with {_names(step.add_to)}" if step.add_to else "")


def add_text(name: str, field_id: str | None, screen: CreateScreen, flavor: str) -> str:
    """How a person puts an existing field on a screen."""
    field = f"'{name}'" + (f" ({field_id})" if field_id else "")
    return f"{admin_path(flavor)} → Screens → {_names([screen])} → Configure → add field {field}"


def team_text(field: WantedField, screen: CreateScreen) -> str:
    project, _, issue_type = screen.key.partition(" ")
    return (
        f"project {project} is team-managed, so its fields are its own: Project settings → "
        f"Issue types → {issue_type} → add a {field.kind.cloud_label} field named '{field.name}'"
    )
