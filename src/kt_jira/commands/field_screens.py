"""Read the create screen of every project and issue type a field must be on; it only reads.

On Cloud, as an admin: the project's issue type screen scheme, the screen scheme of the issue
type (or the ``default`` entry), that scheme's create screen (else its default one), then the
screen's name, its tabs and the fields on every tab. Data Center has none of the scheme calls,
and a bot without *Administer Jira* is refused them (403): then createmeta shows what each
create screen holds, and putting a field there is a step for a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kt_jira.commands.field_plan import CreateScreen, Target, createmeta_screen
from kt_jira.errors import PermanentError
from kt_jira.jira import IssueTypeInfo, JiraClient

__all__ = ["ScreensRead", "read_screens"]


@dataclass(frozen=True, kw_only=True)
class ScreensRead:
    """Each target's create screen (or why there is none); ``refused``: Jira refused the
    scheme calls because the account lacks *Administer Jira*."""

    screens: dict[Target, CreateScreen | str]
    refused: bool = False


async def read_screens(jira: JiraClient, targets: Iterable[Target]) -> ScreensRead:
    """The create screens of ``targets``, grouped by project (each read once)."""
    by_project: dict[str, list[str]] = {}
    for target in targets:
        by_project.setdefault(target.project, []).append(target.issue_type)
    screens: dict[Target, CreateScreen | str] = {}
    refused = False
    for project, names in by_project.items():
        type_ids = await _issue_types(jira, project, names, screens)
        if not type_ids:
            continue
        team = False
        if jira.settings.flavor == "cloud" and not refused:
            try:
                found = await _scheme_screens(jira, project, type_ids)
            except PermanentError as exc:
                if exc.status != 403:
                    raise
                refused = True
            else:
                if found is not None:
                    screens.update(found)
                    continue
                team = True  # no scheme: a team-managed project
        for name, type_id in type_ids.items():
            target = Target(project, name)
            on_screen = frozenset(f.field_id for f in await jira.create_fields(project, type_id))
            screens[target] = createmeta_screen(target, on_screen, team=team)
    return ScreensRead(screens=screens, refused=refused)


async def _issue_types(
    jira: JiraClient, project: str, names: list[str], screens: dict[Target, CreateScreen | str]
) -> dict[str, str]:
    """Issue type name -> id for the names the project has; the others go to ``screens`` as
    the reason there is no screen to read."""
    try:
        types = await jira.create_issue_types(project)
    except PermanentError as exc:
        if exc.status not in (403, 404):
            raise
        why = (
            f"project {project} does not exist or the bot account cannot create issues there; "
            "fix jira.project or the rule's set.project (kt-jira check-config --online)"
        )
        screens.update({Target(project, name): why for name in names})
        return {}
    found: dict[str, str] = {}
    for name in names:
        chosen = _issue_type(types, name)
        if chosen is None:
            screens[Target(project, name)] = (
                f"project {project} has no issue type '{name}'; fix the rule's set.issue_type"
            )
        else:
            found[name] = chosen.id
    return found


def _issue_type(types: list[IssueTypeInfo], name: str) -> IssueTypeInfo | None:
    """By name, ignoring case, a standard type before a sub-task (as drafts resolve it)."""
    matches = [t for t in types if t.name.casefold() == name.casefold()]
    return next((t for t in matches if not t.subtask), matches[0] if matches else None)


async def _scheme_screens(
    jira: JiraClient, project: str, type_ids: Mapping[str, str]
) -> dict[Target, CreateScreen | str] | None:
    """Each issue type's create screen through the schemes; None for a team-managed project."""
    scheme = await jira.issue_type_screen_scheme(await jira.project_id(project))
    if scheme is None:
        return None
    by_type = await jira.screen_scheme_by_issue_type(scheme.id)
    chosen = {name: by_type.get(tid) or by_type.get("default") for name, tid in type_ids.items()}
    wanted = sorted({s for s in chosen.values() if s})
    schemes = {s.id: s for s in await jira.screen_schemes(wanted)} if wanted else {}
    screen_ids = {
        name: schemes[sid].create_screen if sid in schemes else None for name, sid in chosen.items()
    }
    ids = sorted({s for s in screen_ids.values() if s})
    names = {ref.id: ref.name for ref in await jira.screens(ids)} if ids else {}
    read: dict[str, CreateScreen | str] = {}
    out: dict[Target, CreateScreen | str] = {}
    for name, screen_id in screen_ids.items():
        if screen_id is None:
            out[Target(project, name)] = (
                f"the issue type screen scheme '{scheme.name}' gives {name} no create screen; "
                "fix the scheme in Settings → Issues → Issue type screen schemes"
            )
            continue
        if screen_id not in read:
            read[screen_id] = await _screen(jira, screen_id, names.get(screen_id))
        out[Target(project, name)] = read[screen_id]
    return out


async def _screen(jira: JiraClient, screen_id: str, name: str | None) -> CreateScreen | str:
    """The screen with the fields of every tab; fields are added to its first tab."""
    tabs = await jira.screen_tabs(screen_id)
    title = name or f"screen {screen_id}"
    if not tabs:
        return (
            f"screen '{title}' has no tab to put fields on; add one in Settings → Issues → Screens"
        )
    on_screen: set[str] = set()
    for tab in tabs:
        on_screen.update(f.id for f in await jira.screen_tab_fields(screen_id, tab.id))
    return CreateScreen(
        key=screen_id,
        name=title,
        field_ids=frozenset(on_screen),
        screen_id=screen_id,
        tab_id=tabs[0].id,
        tab_name=tabs[0].name,
    )
