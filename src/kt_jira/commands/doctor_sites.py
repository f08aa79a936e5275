"""The remote half of ``kt-jira doctor``: what Jira and Keeptrusts must offer the bridge.

Jira: login (``/myself``), then ``check-config --online``'s checks of every rule grouped by what
they are about, a path from the initial status to a done one, and the admin webhook.
Keeptrusts: the API token, and the webhook for the bridge's URL. It only reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kt_jira.commands.doctor import Check, skip
from kt_jira.commands.online import OnlineReport, Problem, check_online
from kt_jira.commands.setup import (
    JIRA_PATH,
    KEEPTRUSTS_PATH,
    bridge_url,
    keeptrusts_hook_ok,
)
from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError, KtJiraError, PermanentError
from kt_jira.jira import JiraClient, MemoryPauseStore
from kt_jira.keeptrusts import KeeptrustsClient
from kt_jira.render.sanitise import jql_string, project_jql

__all__ = ["jira_checks", "keeptrusts_checks"]

# Rule checks by the aspects of ``online.Problem`` they gather: what passing means, the fix.
_RULE_CHECKS: tuple[tuple[str, frozenset[str], str, str], ...] = (
    (
        "jira project",
        frozenset({"project"}),
        "{projects}: exists and the bot account may create issues there",
        "fix jira.project (or the rule's set.project), or grant the bot account 'Browse "
        "projects' and 'Create issues' in that project's permission scheme",
    ),
    (
        "jira issue types and priorities",
        frozenset({"issue_type", "priority"}),
        "every issue type and priority of the {rules} rule(s) is on its create screen",
        "use an issue type and a priority the project offers (the rule's set.issue_type, "
        "set.priority), or add them to the project's issue type and priority schemes",
    ),
    (
        "jira fields",
        frozenset({"fields"}),
        "every field the {rules} rule(s) set is on its create screen, found by name",
        "put each field on the project's create screen (Project settings → Screens; `kt-jira "
        "setup jira --create-fields` does it, or says how), or name it exactly as Jira does "
        "under jira.fields or the rule's set.fields",
    ),
)
_OTHER = "jira other rule settings"
_OTHER_PASSED = "the labels, components, assignee and marker of the {rules} rule(s) fit"
_AFTER_LOGIN = (*(c[0] for c in _RULE_CHECKS), _OTHER, "jira workflow", "jira webhook")
_TODO_CATEGORY = 2  # statusCategory id of "To Do" (key "new"), the same on every site


async def jira_checks(settings: Settings, *, config: Path, public_url: str | None) -> list[Check]:
    """Login, the rules against the create screens, the workflow and the admin webhook."""
    async with contextlib.AsyncExitStack() as stack:
        try:
            jira = await stack.enter_async_context(
                JiraClient(settings.jira, pause=MemoryPauseStore())
            )
        except KtJiraError as exc:  # no credentials, or (Cloud OAuth) no cloud id for jira.url
            failed, why = _not_opened(exc, settings)
            return [failed, *(skip(n, why) for n in _AFTER_LOGIN)]
        login = await _login(jira, settings)
        if not login.ok:
            return [login, *(skip(n, "Jira login failed (see above)") for n in _AFTER_LOGIN)]
        report = await check_online(settings, jira)
        checks = [login, *_rule_checks(report, config)]
        project = settings.jira.project
        if any(p.message.startswith(f"project {project} ") for p in report.problems):
            checks.append(skip("jira workflow", f"project {project} is not usable (above)"))
        else:
            checks.append(await _workflow(jira, settings))
        checks.append(await _jira_webhook(jira, config, public_url))
        return checks


def _not_opened(exc: KtJiraError, settings: Settings) -> tuple[Check, str]:
    """The failed login when the client could not even open, and why the rest is skipped."""
    if isinstance(exc, ConfigError):
        failed = Check(name="jira auth", ok=False, detail=str(exc), fix="set the Jira credentials")
        return failed, "no Jira credentials"
    fix = f"check jira.url ({settings.jira.url}) and that this host can reach it"
    failed = Check(name="jira auth", ok=False, detail=str(exc), fix=fix)
    return failed, "Jira could not be reached (see above)"


async def _login(jira: JiraClient, settings: Settings) -> Check:
    url = settings.jira.url
    try:
        me = await jira.myself()
    except PermanentError as exc:
        if exc.status != 401:
            fix = "check jira.url and the bot account (is it active, may it use the REST API?)"
            if settings.jira.oauth is not None:
                fix = "check jira.url, jira.oauth.token_url and the service account"
            return Check(name="jira auth", ok=False, detail=str(exc), fix=fix)
        said = str(exc).split("; ")[0]
        return Check(name="jira auth", ok=False, detail=f"{url}: {said}", fix=_login_fix(settings))
    except KtJiraError as exc:
        fix = "check jira.url and that this host can reach Jira"
        return Check(name="jira auth", ok=False, detail=f"cannot use {url}: {exc}", fix=fix)
    who = me.display_name or me.account_id
    return Check(name="jira auth", ok=True, detail=f"logged in at {url} as {who}")


def _login_fix(settings: Settings) -> str:
    """What to do about a 401, for the way the bridge logs in."""
    if settings.jira.oauth is not None:
        return (
            "the service account's OAuth 2.0 credential was refused, or its token may not use "
            "Jira: create a new credential (Cloud: admin.atlassian.com → Directory → Service "
            "accounts → Create credentials → OAuth 2.0; Data Center: the service account in "
            "Jira administration), set jira.oauth.client_id and jira.oauth.client_secret, and "
            "give it the scopes the bridge needs (jira.oauth.scopes)"
        )
    if settings.jira.flavor == "datacenter":
        return (
            "the personal access token is wrong or expired: create a new one (your Jira "
            "profile → Personal Access Tokens) and set jira.pat"
        )
    return (
        "the API token is wrong or expired: create a new one at id.atlassian.com → "
        f"Security → API tokens (signed in as {settings.jira.email}) and set jira.api_token"
    )


def _rule_checks(report: OnlineReport, config: Path) -> list[Check]:
    """``check-config --online``'s problems, one check per group of aspects."""
    checks: list[Check] = []
    grouped: set[str] = set()
    for name, aspects, passed, fix in _RULE_CHECKS:
        grouped |= aspects
        found = [p for p in report.problems if p.aspect in aspects]
        checks.append(_rule_check(name, found, passed, fix, report))
    rest = [p for p in report.problems if p.aspect not in grouped]
    again = f"fix each setting named; `kt-jira check-config --online --config {config}` lists them"
    checks.append(_rule_check(_OTHER, rest, _OTHER_PASSED, again, report))
    return checks


def _rule_check(
    name: str, found: Sequence[Problem], passed: str, fix: str, report: OnlineReport
) -> Check:
    if found:
        return Check(name=name, ok=False, detail="; ".join(str(p) for p in found), fix=fix)
    detail = passed.format(projects=", ".join(report.projects), rules=report.rules)
    return Check(name=name, ok=True, detail=detail)


async def _workflow(jira: JiraClient, settings: Settings) -> Check:
    """A path from the initial status to a done one, read from the transitions of existing
    tickets (Jira lists transitions only on an issue, and this check must not create one):
    one bridge ticket per status reached, breadth first, at most ``max_transition_hops``."""
    name, project = "jira workflow", settings.jira.project
    scope = f"{project_jql([project])} AND labels = {jql_string(settings.reconcile.jira_label)}"
    try:
        start = await _ticket_in(jira, f"{scope} AND statusCategory = {_TODO_CATEGORY}")
        if start is None:
            return skip(
                name,
                f"no ticket of the bridge in {project} is in a to-do status, so there are no "
                "transitions to read (Jira shows them only on an issue); run doctor again "
                "after the first ticket",
            )
        key, status_id, status_name = start
        paths = {status_id: [status_name]}
        todo, blind = [(key, status_id)], []
        for _hop in range(settings.sync.max_transition_hops):
            reached: list[tuple[str, str]] = []
            for issue, at in todo:
                for step in await jira.transitions(issue):
                    if step.to_id in paths:
                        continue
                    paths[step.to_id] = [*paths[at], step.to_name]
                    if step.done:
                        path = " → ".join(paths[step.to_id])
                        detail = f"{path} (read from tickets, starting at {key})"
                        return Check(name=name, ok=True, detail=detail)
                    found = await _ticket_in(jira, f"{scope} AND status = {step.to_id}")
                    if found is None:
                        blind.append(step.to_name)
                    else:
                        reached.append((found[0], step.to_id))
            todo = reached
    except KtJiraError as exc:
        return Check(name=name, ok=False, detail=f"cannot read the transitions: {exc}")
    hops = settings.sync.max_transition_hops
    if blind:
        unseen = ", ".join(dict.fromkeys(blind))
        return skip(
            name,
            f"no done status seen within {hops} transition(s) of {status_name}; no ticket is in "
            f"{unseen} to look further from",
        )
    return Check(
        name=name,
        ok=False,
        detail=f"no done status is reachable from {status_name} within {hops} transition(s)",
        fix="add a transition to a status in the Done category to the project's workflow (or "
        "raise sync.max_transition_hops); until then a resolution in Keeptrusts only labels the "
        f"ticket {settings.sync.resolved_upstream_label}",
    )


async def _ticket_in(jira: JiraClient, jql: str) -> tuple[str, str, str] | None:
    """The newest issue ``jql`` finds, as (key, status id, status name)."""
    page = await jira.search(f"{jql} ORDER BY created DESC", fields=["status"], max_results=1)
    for issue in page.issues:
        status = (issue.get("fields") or {}).get("status") or {}
        return str(issue.get("key", "")), str(status.get("id", "")), str(status.get("name", ""))
    return None


async def _jira_webhook(jira: JiraClient, config: Path, public_url: str | None) -> Check:
    name = "jira webhook"
    try:
        hooks = await jira.webhooks()
    except PermanentError as exc:
        if exc.status not in (401, 403):
            return Check(name=name, ok=False, detail=str(exc))
        return skip(
            name,
            "the bot account may not list admin webhooks (that needs 'Administer Jira'); check "
            "Jira settings → System → WebHooks by hand",
        )
    except KtJiraError as exc:
        return Check(name=name, ok=False, detail=str(exc))
    setup = f"kt-jira setup jira-webhook --config {config} --url"
    return _registration(name, hooks, JIRA_PATH, public_url, setup, _jira_hook_ok)


def _jira_hook_ok(hook: dict[str, Any]) -> bool:
    enabled = hook.get("enabled", hook.get("active", True)) not in (False, "false")
    return enabled and "jira:issue_updated" in (hook.get("events") or [])


async def keeptrusts_checks(
    settings: Settings, *, config: Path, public_url: str | None
) -> list[Check]:
    """The API token (by listing the webhooks) and the webhook for the bridge."""
    api_url = settings.keeptrusts.api_url
    try:
        async with KeeptrustsClient(settings.keeptrusts) as api:
            hooks = await api.webhooks()
    except ConfigError as exc:
        failed = Check(
            name="keeptrusts auth",
            ok=False,
            detail=str(exc),
            fix="set keeptrusts.api_token, e.g. env:KEEPTRUSTS_API_TOKEN",
        )
        return [failed, skip("keeptrusts webhook", "no Keeptrusts API token")]
    except PermanentError as exc:
        if exc.status == 403:
            ok = Check(name="keeptrusts auth", ok=True, detail=f"{api_url} accepts the token")
            return [ok, skip("keeptrusts webhook", f"the token may not list webhooks: {exc}")]
        fix = "create a new API token in the Keeptrusts console and set keeptrusts.api_token"
        fix = fix if exc.status == 401 else "check keeptrusts.api_url"
        failed = Check(name="keeptrusts auth", ok=False, detail=str(exc), fix=fix)
        return [failed, skip("keeptrusts webhook", "Keeptrusts refused the token (see above)")]
    except KtJiraError as exc:
        fix = "check keeptrusts.api_url and that this host can reach it"
        failed = Check(name="keeptrusts auth", ok=False, detail=str(exc), fix=fix)
        return [failed, skip("keeptrusts webhook", "Keeptrusts did not answer (see above)")]
    auth = Check(name="keeptrusts auth", ok=True, detail=f"{api_url} accepts the API token")
    setup = f"kt-jira setup keeptrusts --config {config} --url"
    webhook = _registration(
        "keeptrusts webhook", hooks, KEEPTRUSTS_PATH, public_url, setup, keeptrusts_hook_ok
    )
    return [auth, webhook]


def _registration(
    name: str,
    hooks: list[dict[str, Any]],
    path: str,
    public_url: str | None,
    setup: str,
    usable: Any,
) -> Check:
    """Whether one of ``hooks`` points at the bridge's ``path`` and is usable."""
    elsewhere = sorted({str(h.get("url")) for h in hooks if str(h.get("url", "")).endswith(path)})
    seen = f" (registered for {path}: {', '.join(elsewhere)})" if elsewhere else ""
    if not public_url:
        return skip(
            name,
            f"no public URL of the bridge to compare with{seen}; pass --url "
            "https://kt-jira.example.com or set server.public_url",
        )
    try:
        url = bridge_url(public_url, path)
    except ConfigError as exc:
        return Check(name=name, ok=False, detail=str(exc), fix="pass the bridge's base URL")
    same = [h for h in hooks if h.get("url") == url]
    if not same:
        detail = f"none points at {url}{seen}"
        return Check(name=name, ok=False, detail=detail, fix=f"{setup} {public_url}")
    if not any(usable(h) for h in same):
        detail = f"the one for {url} is disabled or lacks events"
        return Check(name=name, ok=False, detail=detail, fix=f"{setup} {public_url} --replace")
    hook_id = same[0].get("id") or str(same[0].get("self", "")).rsplit("/", 1)[-1]
    return Check(name=name, ok=True, detail=f"registered for {url} (id {hook_id})")
