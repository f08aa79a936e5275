"""``kt-jira sla ls`` as a user runs it (a real process) on a database the bridge filled."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.integration.reconcile.test_cli import kt_jira
from tests.support.clock import ManualClock
from tests.support.sync import HarnessFactory


async def test_sla_ls_shows_each_tickets_targets(
    make_harness: HarnessFactory, database_url: str, tmp_path: Path
) -> None:
    clock = ManualClock()
    harness = await make_harness(clock=clock)
    late = await harness.ticket("esc_ls_late", action="block")  # 15 min / 1 h
    handled = await harness.ticket("esc_ls_handled", action="block")
    slow = await harness.ticket("esc_ls_slow", action="escalate")  # 1 h / 4 h
    harness.jira.comment_issue(handled.key, "On it")
    for status in ("In Progress", "Under Review", "Resolved"):
        harness.jira.transition_issue(handled.key, status)
    await harness.settle()
    config = tmp_path / "kt-jira.yaml"
    config.write_text(f"database_url: {database_url}\n", encoding="utf-8")

    async def ls(*flags: str, minutes: int) -> list[dict[str, object]]:
        at = (clock.now + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S%z")
        args = ("sla", "ls", "--config", str(config), "--format", "json", "--at", at, *flags)
        code, text = await kt_jira(*args, env={})
        assert code == 0, text
        return list(json.loads(text))

    everything = {row["issue_key"]: row for row in await ls(minutes=50)}
    assert set(everything) == {late.key, handled.key, slow.key}
    assert everything[late.key]["first_response"]["state"] == "breached"  # type: ignore[index]
    assert everything[handled.key]["resolution"]["state"] == "met"  # type: ignore[index]
    assert everything[slow.key]["first_response"]["state"] == "at_risk"  # type: ignore[index]

    assert [row["issue_key"] for row in await ls("--breached", minutes=50)] == [late.key]
    # 50 minutes in: the late ticket's 1-hour resolution is at risk too (past 75 %).
    assert [row["issue_key"] for row in await ls("--at-risk", minutes=50)] == [late.key, slow.key]
    assert [row["issue_key"] for row in await ls("--at-risk", minutes=30)] == []

    code, text = await kt_jira("sla", "ls", "--config", str(config), env={})
    assert code == 0, text
    header, *lines = text.splitlines()
    assert header.split("\t")[:3] == ["issue", "escalation", "policy"]
    assert len(lines) == 3
