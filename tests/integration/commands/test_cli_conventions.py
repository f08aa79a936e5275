"""Command-line conventions, as a user meets them in a real process: ``--version``, the config
from ``KT_JIRA_CONFIG``, one line (not a traceback) for a database that is not migrated, and
``jobs list --format json``, ``jobs show`` and ``jobs replay --dry-run``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kt_jira import __version__, jobs
from kt_jira.store import open_store
from tests.integration.reconcile.test_cli import kt_jira


async def test_version_and_an_unmigrated_database(tmp_path: Path) -> None:
    code, text = await kt_jira("--version", env={})
    assert (code, text.strip()) == (0, __version__)
    config = tmp_path / "kt-jira.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'new.db'}\n", encoding="utf-8")
    code, text = await kt_jira("jobs", "list", env={"KT_JIRA_CONFIG": str(config)})
    assert code == 2
    assert "Traceback" not in text
    assert "run `kt-jira migrate --config FILE`" in text
    assert len(text.strip().splitlines()) <= 2  # one message (the console may wrap it once)


async def test_jobs_show_list_json_and_replay_dry_run(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'kt.db'}"
    now = datetime.now(UTC)
    async with open_store(database) as store:
        await store.db.migrate()
        await store.queue.enqueue(jobs.create_issue("esc_cli_dead", run_at=now), now=now)
        [job] = await store.queue.claim(worker_id="w", now=now, lease=timedelta(minutes=1))
        await store.queue.fail(job.id, worker_id="w", now=now, error="PermanentError: no field")
    env = {"KT_JIRA_CONFIG": str(tmp_path / "kt-jira.yaml")}
    (tmp_path / "kt-jira.yaml").write_text(f"database_url: {database}\n", encoding="utf-8")

    code, text = await kt_jira("jobs", "list", "--format", "json", env=env)
    assert code == 0, text
    [listed] = json.loads(text)
    assert (listed["id"], listed["status"], listed["kind"]) == (job.id, "dead", "create_issue")
    code, text = await kt_jira("jobs", "show", str(job.id), env=env)
    assert code == 0, text
    assert json.loads(text)["last_error"] == "PermanentError: no field"
    code, text = await kt_jira("jobs", "show", "999", env=env)
    assert code == 2
    assert "no job 999" in text

    code, text = await kt_jira("jobs", "replay", "--dry-run", env=env)
    assert code == 0, text
    assert f"would replay {job.id}" in text
    async with open_store(database) as store:
        still = await store.queue.get(job.id)
        assert still is not None
        assert still.status.value == "dead"  # the dry run changed nothing
    code, text = await kt_jira("jobs", "replay", env=env)  # not a terminal: no question
    assert code == 0, text
    assert "requeued 1 job(s)" in text


async def test_prune_counts_deletes_and_refuses_a_cutoff_inside_reconcile_window(
    tmp_path: Path,
) -> None:
    """``prune --dry-run`` counts and keeps, ``prune`` deletes an old finished job and keeps a
    fresh one; a cutoff shorter than reconcile.since is refused in one line."""
    database = f"sqlite:///{tmp_path / 'kt.db'}"
    now = datetime.now(UTC)
    old = now - timedelta(days=120)
    async with open_store(database) as store:
        await store.db.migrate()
        for eid, at in (("esc_prune_old", old), ("esc_prune_new", now)):
            await store.queue.enqueue(jobs.create_issue(eid, run_at=at), now=at)
            [job] = await store.queue.claim(worker_id="w", now=at, lease=timedelta(minutes=1))
            await store.queue.finish(job.id, worker_id="w", now=at)
    config = tmp_path / "kt-jira.yaml"
    config.write_text(f"database_url: {database}\nreconcile: {{since: 30d}}\n", encoding="utf-8")
    env = {"KT_JIRA_CONFIG": str(config)}

    code, text = await kt_jira("prune", "--older-than", "14d", env=env)
    assert code == 2
    assert "shorter than 30d" in text
    code, text = await kt_jira("prune", "--dry-run", "--format", "json", env=env)
    assert code == 0, text
    assert json.loads(text)["jobs"] == 1
    code, text = await kt_jira("prune", env=env)
    assert code == 0, text
    assert "deleted:" in text
    async with open_store(database) as store:
        left = [job.job_key for job in await store.queue.list()]
    assert left == ["create_issue:esc_prune_new"]


def test_the_config_is_found_in_the_working_directory_by_default(tmp_path: Path) -> None:
    """Without --config or KT_JIRA_CONFIG, ./kt-jira.yaml is used; --config still wins; with
    none of them the error names all three ways."""
    (tmp_path / "kt-jira.yaml").write_text(
        f"database_url: sqlite:///{tmp_path / 'kt.db'}\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k != "KT_JIRA_CONFIG"} | {"COLUMNS": "200"}

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "kt_jira", *args]
        return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)

    assert run("migrate", cwd=tmp_path).returncode == 0
    listed = run("jobs", "list", "--format", "json", cwd=tmp_path)
    assert (listed.returncode, listed.stdout.strip()) == (0, "[]")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    missing = run("jobs", "list", cwd=elsewhere)
    assert missing.returncode == 2
    assert "--config" in missing.stderr
    assert "KT_JIRA_CONFIG" in missing.stderr
    wrong = run("jobs", "list", "--config", str(elsewhere / "none.yaml"), cwd=tmp_path)
    assert wrong.returncode == 2  # the explicit path is used, not ./kt-jira.yaml
