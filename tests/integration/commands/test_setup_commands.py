"""``kt-jira setup``: idempotent webhook registration in the sandboxes, never printing a secret."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from kt_jira.cli import app
from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, KeeptrustsSandbox
from kt_jira.sandbox.server import serve_app_in_thread

KT_SECRET = "whsec_registration-secret-kt-0123456789"
JIRA_SECRET = "jira-admin-webhook-secret-9876543210"
PUBLIC = "https://kt-jira.example.com"


@dataclass
class Sites:
    keeptrusts: KeeptrustsSandbox
    jira: JiraSandbox
    config: Path


def write_config(path: Path, *, kt_url: str, jira_url: str, jira: JiraSandbox) -> Path:
    flavor = jira.settings.flavor
    auth = (
        "  pat: env:TEST_JIRA_PAT\n"
        if flavor == "datacenter"
        else f"  email: {jira.settings.email}\n  api_token: env:TEST_JIRA_TOKEN\n"
    )
    path.write_text(
        "database_url: sqlite:///unused.db\n"
        "keeptrusts:\n"
        f"  api_url: {kt_url}\n"
        "  api_token: env:TEST_KT_TOKEN\n"
        "  webhook: {secrets: [env:TEST_KT_SECRET]}\n"
        "jira:\n"
        f"  url: {jira_url}\n"
        f"  flavor: {flavor}\n"
        f"{auth}"
        "  project: AIGOV\n"
        "  webhook_secret: env:TEST_JIRA_SECRET\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(params=["cloud", "datacenter"])
def sites(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Sites]:
    keeptrusts = KeeptrustsSandbox()
    jira = JiraSandbox(JiraSandboxSettings(flavor=request.param, projects=("AIGOV", "SEC")))
    monkeypatch.setenv("TEST_KT_TOKEN", keeptrusts.settings.api_token)
    monkeypatch.setenv("TEST_KT_SECRET", KT_SECRET)
    monkeypatch.setenv("TEST_JIRA_TOKEN", jira.settings.api_token)
    monkeypatch.setenv("TEST_JIRA_PAT", jira.settings.pat)
    monkeypatch.setenv("TEST_JIRA_SECRET", JIRA_SECRET)
    with serve_app_in_thread(keeptrusts.app) as kt_url, serve_app_in_thread(jira.app) as jira_url:
        config = write_config(
            tmp_path / "kt-jira.yaml", kt_url=kt_url, jira_url=jira_url, jira=jira
        )
        yield Sites(keeptrusts, jira, config)


def run(*args: str) -> tuple[int, str]:
    """Run the CLI; returns the exit code and everything it wrote (stdout and stderr)."""
    saved = structlog.get_config()
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        # The CLI points structlog at the runner's stderr, which closes after the call.
        structlog.configure(**saved)
    text = result.stdout + result.stderr
    assert KT_SECRET not in text
    assert JIRA_SECRET not in text
    return result.exit_code, text


def test_keeptrusts_registration_is_created_once(sites: Sites) -> None:
    """Run twice: one registration with the bridge's URL, both events and the config's secret."""
    code, first = run("setup", "keeptrusts", "--config", str(sites.config), "--url", PUBLIC)
    assert code == 0, first
    assert "Keeptrusts webhook created" in first
    assert f"{PUBLIC}/webhooks/keeptrusts" in first
    code, second = run("setup", "keeptrusts", "-c", str(sites.config), "--url", PUBLIC + "/")
    assert code == 0, second
    assert "Keeptrusts webhook already present" in second
    [hook] = sites.keeptrusts.webhooks.values()
    assert hook["url"] == f"{PUBLIC}/webhooks/keeptrusts"
    assert hook["events"] == ["escalation.created", "escalation.resolved"]
    assert hook["enabled"] is True
    assert hook["secret"] == KT_SECRET


def test_a_disabled_or_replaced_keeptrusts_registration_is_updated(sites: Sites) -> None:
    """A registration that lost its events or was disabled is re-created; --replace forces it."""
    run("setup", "keeptrusts", "-c", str(sites.config), "--url", PUBLIC)
    [hook] = sites.keeptrusts.webhooks.values()
    hook.update(enabled=False, secret="stale")
    code, text = run("setup", "keeptrusts", "-c", str(sites.config), "--url", PUBLIC)
    assert code == 0, text
    assert "Keeptrusts webhook updated" in text
    [hook] = sites.keeptrusts.webhooks.values()
    assert (hook["enabled"], hook["secret"]) == (True, KT_SECRET)
    hook["secret"] = "rotated-elsewhere"
    code, text = run("setup", "keeptrusts", "-c", str(sites.config), "--url", PUBLIC, "--replace")
    assert "Keeptrusts webhook updated" in text
    [hook] = sites.keeptrusts.webhooks.values()
    assert hook["secret"] == KT_SECRET


def test_jira_admin_webhook_is_created_once_with_secret_and_jql(sites: Sites) -> None:
    """Run twice: one admin webhook for /webhooks/jira, filtered to the project, signed."""
    code, first = run("setup", "jira-webhook", "-c", str(sites.config), "--url", PUBLIC)
    assert code == 0, first
    assert "Jira webhook created" in first
    code, second = run("setup", "jira-webhook", "-c", str(sites.config), "--url", PUBLIC)
    assert code == 0, second
    assert "Jira webhook already present" in second
    [hook] = sites.jira.admin_webhooks.hooks.values()
    assert hook.url == f"{PUBLIC}/webhooks/jira"
    assert hook.events == ("jira:issue_updated", "jira:issue_deleted", "comment_created")
    assert hook.jql == "project = AIGOV"
    assert hook.secret == JIRA_SECRET
    assert hook.flavor == sites.jira.settings.flavor
    assert hook.exclude_body is False


def test_jira_admin_webhook_with_other_projects_is_updated_in_place(sites: Sites) -> None:
    """A different project filter updates the one registration (same id), keeping it signed."""
    run("setup", "jira-webhook", "-c", str(sites.config), "--url", PUBLIC)
    [before] = sites.jira.admin_webhooks.hooks.values()
    code, text = run(
        "setup", "jira-webhook", "-c", str(sites.config), "--url", PUBLIC,
        "--project", "SEC", "--project", "AIGOV",
    )  # fmt: skip
    assert code == 0, text
    assert "Jira webhook updated" in text
    [after] = sites.jira.admin_webhooks.hooks.values()
    assert after.id == before.id
    assert after.jql == "project in (SEC, AIGOV)"
    assert after.secret == JIRA_SECRET


def test_setup_refuses_a_relative_url_and_missing_secrets(
    sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad --url or an unset secret is a clear error (exit 2) and registers nothing."""
    code, text = run("setup", "keeptrusts", "-c", str(sites.config), "--url", "kt-jira.local")
    assert code == 2
    assert "--url must be the bridge's public http(s) base URL" in text
    config = sites.config.read_text().replace("  webhook_secret: env:TEST_JIRA_SECRET\n", "")
    sites.config.write_text(config)
    code, text = run("setup", "jira-webhook", "-c", str(sites.config), "--url", PUBLIC)
    assert code == 2
    assert "jira.webhook_secret is not set" in text
    assert sites.keeptrusts.webhooks == {}
    assert sites.jira.admin_webhooks.hooks == {}


def test_setup_takes_server_public_url_when_no_url_is_given(sites: Sites) -> None:
    """Without --url the registration uses server.public_url; with neither it says what to do."""
    code, text = run("setup", "jira-webhook", "-c", str(sites.config))
    assert code == 2
    assert "pass --url" in text
    assert "server.public_url" in text
    sites.config.write_text(sites.config.read_text() + f"server: {{public_url: '{PUBLIC}'}}\n")
    code, text = run("setup", "keeptrusts", "-c", str(sites.config))
    assert code == 0, text
    [hook] = sites.keeptrusts.webhooks.values()
    assert hook["url"] == f"{PUBLIC}/webhooks/keeptrusts"
