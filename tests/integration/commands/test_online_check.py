"""``kt-jira check-config --online`` against the sandbox Jira: every project, issue type,
priority, component and field a rule uses is checked on its create screen, each problem
named with its rule and its fix; the CLI exits 2 when there is any."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import Result
from typer.testing import CliRunner

from kt_jira.cli import app
from kt_jira.commands.online import check_online
from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import JiraSettings, Settings
from kt_jira.config.secrets import SecretRef
from kt_jira.jira import JiraClient, MemoryPauseStore
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, serve_app
from kt_jira.sandbox.server import serve_app_in_thread

RULES: list[dict[str, Any]] = [
    {
        "name": "compliance-block",
        "match": {"action": "block", "category": "Compliance"},
        "set": {"project": "COMPLY", "issue_type": "Bug", "priority": "Highest"},
    },
    {
        "name": "urgent-escalate",
        "match": {"action": "escalate"},
        "set": {"issue_type": "Task", "priority": "Urgent", "components": ["Gateway", "Billing"]},
    },
    {"name": "epic-redact", "match": {"action": "redact"}, "set": {"issue_type": "Epic"}},
    {"name": "ghost", "match": {"action": "log", "severity": "low"}, "set": {"project": "GHOST"}},
    {"name": "risk", "match": {"action": "log"}, "set": {"fields": {"Risk Score": "3"}}},
    {"name": "fallback", "set": {"issue_type": "Task", "priority": "Low"}},
]


def _jira(sandbox: JiraSandbox, url: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"url": url, "flavor": sandbox.settings.flavor}
    if sandbox.settings.flavor == "datacenter":
        values["pat"] = SecretRef.literal(sandbox.settings.pat)
    else:
        values["email"] = sandbox.settings.email
        values["api_token"] = SecretRef.literal(sandbox.settings.api_token)
    return values | overrides


@contextlib.asynccontextmanager
async def comply_site(flavor: str = "cloud") -> AsyncIterator[tuple[JiraSandbox, str]]:
    """AIGOV and COMPLY, with 'Policy Name' taken off COMPLY's Bug create screen."""
    sandbox = JiraSandbox(JiraSandboxSettings(flavor=flavor, projects=("AIGOV", "COMPLY")))
    sandbox.remove_field_from_screen("COMPLY", "Policy Name", issue_type="Bug")
    async with serve_app(sandbox.app) as url:
        yield sandbox, url


async def _check(settings: Settings) -> list[str]:
    async with JiraClient(settings.jira, pause=MemoryPauseStore()) as jira:
        report = await check_online(settings, jira)
    return [str(p) for p in report.problems]


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
async def test_every_rule_problem_is_named_with_its_rule_and_fix(flavor: str) -> None:
    """One run lists each problem of each rule: a field off one project's screen, a priority
    and a component the screen does not offer, a missing issue type, project and field."""
    async with comply_site(flavor) as (sandbox, url):
        settings = settings_from_dict({"jira": _jira(sandbox, url), "rules": RULES})
        problems = await _check(settings)
    expected = [
        (
            "rule 'compliance-block': field 'Policy Name' (customfield_10299, customfield_10432) "
            "is not on the COMPLY Bug create screen; add it to the screen in Project settings → "
            "Screens"
        ),
        "rule 'urgent-escalate': priority 'Urgent' is not allowed on the AIGOV Task create screen",
        "rule 'urgent-escalate': component 'Billing' is not offered on the AIGOV Task create",
        "rule 'epic-redact': issue type 'Epic' does not exist in project AIGOV",
        "rule 'ghost': project GHOST does not exist or the bot account cannot see it",
        "rule 'risk': no Jira field is named exactly 'Risk Score'",
    ]
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), problem
    assert not any("fallback" in p for p in problems)


async def test_the_default_rules_fit_a_well_configured_site() -> None:
    """With no rules the guide's defaults are checked, and a standard site has no problem."""
    async with comply_site() as (sandbox, url):
        sandbox.add_field_to_screen("COMPLY", "customfield_10432", issue_type="Bug")
        settings = Settings(jira=JiraSettings(**_jira(sandbox, url)))
        async with JiraClient(settings.jira, pause=MemoryPauseStore()) as jira:
            report = await check_online(settings, jira)
    assert (report.problems, report.rules, report.projects) == ([], 6, ("AIGOV",))
    assert report.user == "kt-jira bot"
    assert sandbox.issues == []  # the check only reads


async def test_bad_credentials_are_one_clear_problem() -> None:
    """A wrong token stops the check at login with Jira's 401 and what to check."""
    async with comply_site() as (sandbox, url):
        jira = _jira(sandbox, url, api_token=SecretRef.literal("wrong"))
        problems = await _check(Settings(jira=JiraSettings(**jira)))
    [problem] = problems
    assert "cannot use Jira at" in problem
    assert "401" in problem
    assert "jira.api_token" in problem


async def test_correlation_marker_problems_are_found_online() -> None:
    """A field marker on a field without a search template is reported before any retry."""
    async with comply_site() as (sandbox, url):
        sandbox.set_field_searchable("customfield_10431", False)
        jira = _jira(sandbox, url, correlation={"marker": "field"})
        problems = await _check(Settings(jira=JiraSettings(**jira)))
    [problem] = problems
    assert problem.startswith("jira.correlation (marker: field) in project AIGOV: field")
    assert "no search template" in problem


@pytest.fixture
def served_comply(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[JiraSandbox, str]]:
    sandbox = JiraSandbox(JiraSandboxSettings(projects=("AIGOV", "COMPLY")))
    sandbox.remove_field_from_screen("COMPLY", "Policy Name", issue_type="Bug")
    monkeypatch.setenv("TEST_JIRA_TOKEN", sandbox.settings.api_token)
    monkeypatch.setenv("TEST_KT_SECRET", "whsec-online-check-0123456789")
    with serve_app_in_thread(sandbox.app) as url:
        yield sandbox, url


def _invoke(*args: str) -> Result:
    """Run the CLI in-process; it points structlog at the runner's stderr, which is closed
    afterwards, so the previous logging configuration is put back for later tests."""
    saved = structlog.get_config()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        structlog.configure(**saved)


def _config(path: Path, url: str, email: str, *, comply: bool) -> Path:
    rules = (
        "rules:\n"
        "  - name: compliance-block\n"
        "    match: {action: block, category: Compliance}\n"
        "    set: {project: COMPLY, issue_type: Bug, priority: Highest}\n"
        "  - name: everything-else\n"
        "    set: {issue_type: Task, priority: Low}\n"
        if comply
        else "rules: []\n"
    )
    path.write_text(
        "database_url: sqlite:///unused.db\n"
        "keeptrusts:\n"
        "  webhook: {secrets: [env:TEST_KT_SECRET]}\n"
        "jira:\n"
        f"  url: {url}\n"
        f"  email: {email}\n"
        "  api_token: env:TEST_JIRA_TOKEN\n"
        "  project: AIGOV\n" + rules,
        encoding="utf-8",
    )
    return path


def test_cli_online_exits_2_naming_the_rule_and_the_fix(
    served_comply: tuple[JiraSandbox, str], tmp_path: Path
) -> None:
    """`check-config --online` prints the rule, the screen and the fix, and exits 2."""
    sandbox, url = served_comply
    config = _config(tmp_path / "kt-jira.yaml", url, sandbox.settings.email, comply=True)
    result = _invoke("check-config", "--online", "--config", str(config))
    text = result.stdout + result.stderr
    assert result.exit_code == 2, text
    assert "rule 'compliance-block': field 'Policy Name'" in text
    assert "COMPLY Bug create screen" in text
    assert "Project settings → Screens" in text
    assert sandbox.settings.api_token not in text


def test_cli_online_passes_on_a_fitting_site(
    served_comply: tuple[JiraSandbox, str], tmp_path: Path
) -> None:
    """The default rules on AIGOV fit: exit 0 and who the bot is; without --online no call."""
    sandbox, url = served_comply
    config = _config(tmp_path / "kt-jira.yaml", url, sandbox.settings.email, comply=False)
    result = _invoke("check-config", "--online", "--config", str(config))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "logged in as kt-jira bot" in result.stdout
    before = sandbox.stats_json()
    assert _invoke("check-config", "--config", str(config)).exit_code == 0
    assert sandbox.stats_json() == before
