"""``kt-jira setup jira`` against the strict sandbox Jira over loopback: missing fields are
created with their types and put on the create screens the rules use (Cloud, every request
held to Atlassian's contract), once; Data Center and a bot without Administer Jira get the
exact steps to do by hand, and a non-zero exit until they are done."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kt_jira.commands.doctor_sites import jira_checks
from kt_jira.commands.field_setup import PERMISSION, setup_jira_fields
from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.jira import JiraClient
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app
from kt_jira.sandbox.jira.site import Screen
from kt_jira.sandbox.server import serve_app_in_thread
from tests.integration.commands.test_setup_commands import run
from tests.support.running import checked_jira, sandbox_validator

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
CONFIG = Path("kt-jira.yaml")
BUG_SCREEN = "screen 'AIGOV: Bug Create Screen'"
TASK_SCREEN = "screen 'AIGOV: Task Create Screen'"
CONCEPTS = ("Escalation ID", "Policy Name", "Model", "Gateway ID", "Console URL")
RULES: list[dict[str, Any]] = [
    {
        "name": "blocks",
        "match": {"action": "block"},
        "set": {"issue_type": "Bug", "priority": "Highest", "fields": {"Reviewer Team": "blue"}},
    },
    {"name": "rest", "set": {"issue_type": "Task", "priority": "Low"}},
]


def config(sandbox: JiraSandbox, url: str) -> dict[str, Any]:
    """The bridge's config for ``sandbox``: Basic email:token on Cloud, a PAT on DC."""
    jira: dict[str, Any] = {"url": url, "flavor": sandbox.settings.flavor, "project": "AIGOV"}
    if sandbox.settings.flavor == "datacenter":
        jira["pat"] = SecretRef.literal(sandbox.settings.pat)
    else:
        jira["email"] = sandbox.settings.email
        jira["api_token"] = SecretRef.literal(sandbox.settings.api_token)
    return {"jira": jira, "rules": RULES}


async def setup(settings: Settings, *, apply: bool) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = await setup_jira_fields(settings, apply=apply, echo=lines.append)
    return code, lines


def screens(sandbox: JiraSandbox) -> tuple[Screen, Screen]:
    """AIGOV's Bug and Task create screens."""
    project = sandbox.state.site.projects["AIGOV"]
    return project.screens["10004"], project.screens["10002"]


def named(sandbox: JiraSandbox, name: str) -> list[Any]:
    return [f for f in sandbox.state.site.fields if f.name == name]


def snapshot(sandbox: JiraSandbox) -> str:
    """Every field and every screen's fields, to compare a site before and after."""
    site = sandbox.state.site
    layout = {s.id: s.fields for p in site.projects.values() for s in p.all_screens()}
    return json.dumps([[f.details() for f in site.fields], layout], sort_keys=True)


async def field_check(settings: Settings) -> Any:
    """doctor's 'jira fields' check of ``settings``."""
    checks = await jira_checks(settings, config=CONFIG, public_url=None)
    return next(c for c in checks if c.name == "jira fields")


async def test_missing_fields_are_created_with_their_types_on_the_create_screens() -> None:
    """A site without Console URL and Reviewer Team: both are created (a URL and a text
    field, searchable), Console URL goes on the Bug and Task create screens and the Bug rule's
    Reviewer Team on Bug's only; doctor's field check then passes."""
    async with checked_jira() as (sandbox, url):
        sandbox.delete_field("Console URL")
        settings = settings_from_dict(config(sandbox, url))
        before = await field_check(settings)
        code, lines = await setup(settings, apply=True)
        after = await field_check(settings)
    assert not before.ok
    assert code == 0, lines
    assert after.ok, after.detail
    assert lines[-1] == "every field is on its create screens"
    assert "created field Console URL (customfield_10500, url)" in lines
    assert "created field Reviewer Team (customfield_10501, text)" in lines
    assert f"added Console URL to {BUG_SCREEN} (tab Field Tab)" in lines
    assert f"added Console URL to {TASK_SCREEN} (tab Field Tab)" in lines
    assert f"added Reviewer Team to {BUG_SCREEN} (tab Field Tab)" in lines
    assert sum(line.startswith(("created", "added")) for line in lines) == 5
    [link], [team] = named(sandbox, "Console URL"), named(sandbox, "Reviewer Team")
    assert (link.custom, link.searchable) == (CF + "url", True)
    assert (team.custom, team.searchable) == (CF + "textfield", True)
    bug, task = screens(sandbox)
    assert {link.id, team.id} <= set(bug.fields)
    assert link.id in task.fields
    assert team.id not in task.fields
    assert link.id not in sandbox.state.site.projects["AIGOV"].default_screen.fields


async def test_a_second_run_changes_nothing_and_says_already_present() -> None:
    """Run twice: the second run creates and adds nothing, says each field and each screen
    placement is already present, and leaves the site exactly as it was."""
    async with checked_jira() as (sandbox, url):
        sandbox.delete_field("Console URL")
        settings = settings_from_dict(config(sandbox, url))
        await setup(settings, apply=True)
        before = snapshot(sandbox)
        code, lines = await setup(settings, apply=True)
        assert snapshot(sandbox) == before
    assert code == 0, lines
    assert not [line for line in lines if line.startswith(("created", "added", "would"))]
    for name in (*CONCEPTS, "Reviewer Team"):
        assert any(line.startswith(f"field {name} already present (") for line in lines)
        assert f"{name} already present on {BUG_SCREEN}" in lines
    assert f"Console URL already present on {TASK_SCREEN}" in lines
    assert sandbox.stats.count("POST /rest/api/3/field") == 2  # the first run's two


async def test_a_field_that_exists_off_a_screen_is_only_added() -> None:
    """Gateway ID exists but is off the Task create screen: it is added there, nothing else is
    created, and Policy Name's look-alike decoy (off every screen) is left alone."""
    async with checked_jira() as (sandbox, url):
        sandbox.remove_field_from_screen("AIGOV", "Gateway ID", issue_type="Task")
        settings = settings_from_dict(config(sandbox, url) | {"rules": RULES[1:]})
        count = len(sandbox.state.site.fields)
        code, lines = await setup(settings, apply=True)
        assert len(sandbox.state.site.fields) == count
    assert code == 0, lines
    assert "field Gateway ID already present (customfield_10434)" in lines
    assert f"added Gateway ID to {TASK_SCREEN} (tab Field Tab)" in lines
    assert "field Policy Name already present (customfield_10432)" in lines
    assert not [line for line in lines if line.startswith("created")]
    _bug, task = screens(sandbox)
    assert "customfield_10434" in task.fields
    assert "customfield_10299" not in task.fields


async def test_a_dry_run_says_what_it_would_do_and_changes_nothing() -> None:
    """Without apply (setup jira alone, or --dry-run) the plan is printed, nothing changes,
    and the exit code 3 says --create-fields has work to do."""
    async with checked_jira() as (sandbox, url):
        sandbox.delete_field("Console URL")
        before = snapshot(sandbox)
        code, lines = await setup(settings_from_dict(config(sandbox, url)), apply=False)
        assert snapshot(sandbox) == before
    assert code == 3
    assert "would create field Console URL (url)" in lines
    assert "would create field Reviewer Team (text)" in lines
    assert f"would add Console URL to {TASK_SCREEN} (tab Field Tab)" in lines
    assert lines[-1] == "run again with --create-fields to make these changes"


async def test_paginated_scheme_and_screen_listings_are_followed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One item per page: the scheme mapping's default entry (Task's) is on a later page and
    must still be found, so Console URL reaches the Task screen."""
    monkeypatch.setattr(JiraClient, "page_size", 1)
    async with checked_jira() as (sandbox, url):
        sandbox.delete_field("Console URL")
        code, lines = await setup(settings_from_dict(config(sandbox, url)), apply=True)
    assert code == 0, lines
    assert f"added Console URL to {TASK_SCREEN} (tab Field Tab)" in lines
    assert sandbox.stats.count("GET /rest/api/3/issuetypescreenscheme/mapping") >= 3


async def test_a_bot_without_administer_jira_gets_one_line_and_the_steps_by_hand() -> None:
    """The admin calls answer 403: one line says what permission is missing and how to go on,
    each change is printed as a step by hand, nothing is created, and the exit code is 1."""
    async with checked_jira(admin=False) as (sandbox, url):
        sandbox.delete_field("Console URL")
        before = snapshot(sandbox)
        code, lines = await setup(settings_from_dict(config(sandbox, url)), apply=True)
        assert snapshot(sandbox) == before
    assert code == 1
    assert lines[0] == PERMISSION
    assert "'Administer Jira' global permission" in PERMISSION
    assert (
        "by hand: Settings (⚙) → Issues → Custom fields → Create custom field → URL → name "
        "'Console URL' → associate it with the create screen of AIGOV's Bug issues and the "
        "create screen of AIGOV's Task issues (Project settings → Screens shows which screens "
        "those are)"
    ) in lines
    assert "field Model already present (customfield_10433)" in lines
    assert sandbox.stats.count("POST /rest/api/3/field") == 0


async def test_a_team_managed_project_gets_steps_by_hand() -> None:
    """A team-managed project has no shared screens: its missing field is a step by hand in
    its own settings, and no global field is created for it."""
    async with checked_jira() as (sandbox, url):
        sandbox.state.site.projects["AIGOV"].team_managed = True
        settings = settings_from_dict(config(sandbox, url) | {"rules": RULES[:1]})
        code, lines = await setup(settings, apply=True)
    assert code == 1
    assert (
        "by hand: project AIGOV is team-managed, so its fields are its own: Project settings → "
        "Issue types → Bug → add a Short text (plain text only) field named 'Reviewer Team'"
    ) in lines
    assert "field Model already present (customfield_10433)" in lines
    assert not named(sandbox, "Reviewer Team")


async def test_data_center_creates_fields_and_prints_the_screen_steps_until_done() -> None:
    """DC creates the fields through its REST API but has no call that finds a create screen:
    each placement is a step by hand and the exit code is 1; once a person has done them, a
    run says every field is in place and exits 0."""
    sandbox = JiraSandbox(JiraSandboxSettings(flavor="datacenter"))
    sandbox.delete_field("Console URL")
    async with serve_app(sandbox.app) as url:
        settings = settings_from_dict(config(sandbox, url))
        code, lines = await setup(settings, apply=True)
        [link], [team] = named(sandbox, "Console URL"), named(sandbox, "Reviewer Team")
        bug, task = screens(sandbox)
        assert link.id not in bug.fields
        bug.fields += [link.id, team.id]
        task.fields.append(link.id)
        again, after = await setup(settings, apply=True)
    assert code == 1
    assert f"created field Console URL ({link.id}, url)" in lines
    assert (
        "by hand: Administration (⚙) → Issues → Screens → the create screen of AIGOV's Task "
        "issues (Project settings → Screens shows which screen that is) → Configure → add "
        f"field 'Console URL' ({link.id})"
    ) in lines
    assert lines[-1] == "steps are left to do by hand (above); run this again afterwards to check"
    assert again == 0, after
    assert "Console URL already present on the create screen of AIGOV's Task issues" in after
    assert len(named(sandbox, "Console URL")) == 1


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture(params=["cloud", "datacenter"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[JiraSandbox, Path]]:
    """A sandbox without Console URL, served in a thread, and a config file for it."""
    validator = sandbox_validator() if request.param == "cloud" else None
    sandbox = JiraSandbox(JiraSandboxSettings(flavor=request.param, request_validator=validator))
    sandbox.delete_field("Console URL")
    with serve_app_in_thread(sandbox.app) as url:
        values = config(sandbox, url)
        secret = "pat" if request.param == "datacenter" else "api_token"
        values["jira"][secret] = f"inline:{values['jira'][secret].reveal()}"
        path = tmp_path / "kt-jira.yaml"
        path.write_text(json.dumps(values), encoding="utf-8")
        yield sandbox, path
    assert sandbox.contract_violations == []


def test_the_cli_checks_first_and_changes_with_create_fields(
    served: tuple[JiraSandbox, Path],
) -> None:
    """`setup jira` alone and with --dry-run only say what they would do; --create-fields
    creates the field (Cloud: and places it, exit 0; DC: the screen steps by hand, exit 1)."""
    sandbox, path = served
    cloud = sandbox.settings.flavor == "cloud"
    for extra in ((), ("--create-fields", "--dry-run")):
        code, text = run("setup", "jira", "--config", str(path), *extra)
        assert code == (3 if cloud else 1), text
        assert "would create field Console URL (url)" in text
    assert not named(sandbox, "Console URL")
    code, text = run("setup", "jira", "-c", str(path), "--create-fields")
    assert code == (0 if cloud else 1), text
    assert "created field Console URL (customfield_10500, url)" in text
    assert ("added Console URL to screen" in text) is cloud
    assert ("by hand: Administration (⚙) → Issues → Screens" in text) is not cloud
