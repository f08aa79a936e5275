"""Command-line conventions, as a user meets them in a real process: ``--version``, the config
from ``KT_JIRA_CONFIG``, one line (not a traceback) for a database that is not migrated, and
``jobs list --format json``, ``jobs show`` and ``jobs replay --dry-run``."""

from __future__ import annotations

import json
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
