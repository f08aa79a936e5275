"""``kt-jira reconcile`` as a user runs it: a real process, the sandboxes on loopback."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from kt_jira.sandbox import JiraSandbox, JiraSandboxSettings, KeeptrustsSandbox, serve_app
from kt_jira.store import open_store

KT_SECRET = "cli-reconcile-webhook-secret"


async def kt_jira(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kt_jira",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200", **env},
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return int(process.returncode or 0), output.decode()


async def test_dry_run_then_real_run_from_the_command_line(
    database_url: str, tmp_path: Path
) -> None:
    """--dry-run prints the plan and stores nothing; the real run stores and enqueues it."""
    jira = JiraSandbox(JiraSandboxSettings(search_lag=0.0))
    keeptrusts = KeeptrustsSandbox()
    keeptrusts.add_escalation("esc_cli_lost")
    keeptrusts.take_outbox()  # the webhook never arrives
    env = {
        "KT_TEST_KT_TOKEN": keeptrusts.settings.api_token,
        "KT_TEST_JIRA_TOKEN": jira.settings.api_token,
        "KT_TEST_SECRET": KT_SECRET,
    }
    async with serve_app(jira.app) as jira_url, serve_app(keeptrusts.app) as kt_url:
        config = tmp_path / "kt-jira.yaml"
        config.write_text(
            f"database_url: {database_url}\n"
            f"keeptrusts: {{api_url: '{kt_url}', api_token: env:KT_TEST_KT_TOKEN,\n"
            "             webhook: {secrets: [env:KT_TEST_SECRET]}}\n"
            f"jira: {{url: '{jira_url}', email: {jira.settings.email},"
            " api_token: env:KT_TEST_JIRA_TOKEN}\n",
            encoding="utf-8",
        )
        code, text = await kt_jira("migrate", "--config", str(config), env=env)
        assert code == 0, text

        code, dry = await kt_jira("reconcile", "--config", str(config), "--dry-run", env=env)
        assert code == 3, dry  # drift found: cron can alert on it
        assert "dry run: nothing written" in dry
        assert "esc_cli_lost" in dry
        assert "would do" in dry
        async with open_store(database_url) as store:
            assert await store.escalations.get("esc_cli_lost") is None
            assert await store.queue.list() == []

        code, real = await kt_jira("reconcile", "--config", str(config), "--since", "1d", env=env)
        assert code == 0, real
        assert "open in Keeptrusts, never received" in real
        async with open_store(database_url) as store:
            assert await store.escalations.get("esc_cli_lost") is not None
            assert [j.job_key for j in await store.queue.list()] == ["create_issue:esc_cli_lost"]
        # Repaired (its create is queued): a dry run now finds no drift and exits 0.
        code, again = await kt_jira("reconcile", "--config", str(config), "--dry-run", env=env)
        assert code == 0, again
    assert KT_SECRET not in dry + real
    assert keeptrusts.settings.api_token not in dry + real
