"""``kt-jira report`` after a mixed scenario, its numbers held against counts made
independently from the strict Jira sandbox's final state (and Keeptrusts' for policies)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from kt_jira.reports.load import load_report
from tests.integration.reconcile.test_cli import kt_jira
from tests.support.clock import ManualClock
from tests.support.sync import HarnessFactory, SyncHarness

SCENARIO = (  # escalation id, action, policy, model, gateway
    ("esc_r_block_1", "block", "pii-detector", "gpt-4o", "gw_prod"),
    ("esc_r_block_2", "block", "toxicity", "gpt-4o", "gw_prod"),
    ("esc_r_esc_1", "escalate", "pii-detector", "claude-3", "gw_dev"),
    ("esc_r_esc_2", "escalate", "pii-detector", "claude-3", "gw_prod"),
    ("esc_r_redact", "redact", "secrets", "gpt-4o", "gw_dev"),
    ("esc_r_log", "log", "toxicity", "llama-3", "gw_dev"),
)


def bridge_issues(harness: SyncHarness) -> list[dict[str, Any]]:
    """Every ticket the bridge made, as Jira shows it (its label marks them)."""
    label = harness.bridge.settings.reconcile.jira_label
    return [harness.jira.view(i) for i in harness.jira.state.issues.values() if label in i.labels]


def escalation_of(view: dict[str, Any]) -> str:
    [label] = [label for label in view["labels"] if label.startswith("kt-esc-")]
    return label.removeprefix("kt-esc-")


async def test_report_numbers_match_jira(
    make_harness: HarnessFactory, database_url: str, tmp_path: Path
) -> None:
    clock = ManualClock()
    harness = await make_harness(clock=clock, sla={"at_risk": None})
    issues = {}
    for escalation_id, action, policy, model, gateway in SCENARIO:
        issues[escalation_id] = await harness.ticket(
            escalation_id, action=action, policy_name=policy, model=model, gateway_id=gateway
        )
    jira = harness.jira
    jira.comment_issue(issues["esc_r_block_1"].key, "Looking")  # responded and resolved in time
    for status in ("In Progress", "Under Review", "Resolved"):
        jira.transition_issue(issues["esc_r_block_1"].key, status)
    for status in ("In Progress", "False Positive"):  # two false positives of pii-detector
        jira.transition_issue(issues["esc_r_esc_1"].key, status)
    harness.keeptrusts.resolve_in_console("esc_r_esc_2", resolution="false_positive")
    harness.keeptrusts.resolve_in_console("esc_r_redact", resolution="approved")
    await harness.settle()
    clock.advance(minutes=20)  # esc_r_block_2 misses its 15-minute first response
    scan = await harness.bridge.sla.run_locked()
    assert scan is not None
    await harness.settle()

    report = await load_report(
        harness.bridge.store, harness.bridge.settings, since=timedelta(days=1), now=clock.now
    )
    data = report.as_json()

    views = bridge_issues(harness)
    payloads = {
        e: p for e, p in ((e, harness.keeptrusts.escalations[e].payload) for e, *_ in SCENARIO)
    }
    assert data["escalations"] == len(views) == len(SCENARIO)
    assert data["by_priority"] == dict(Counter(v["priority"] for v in views))
    assert data["by_policy"] == dict(
        Counter(payloads[escalation_of(v)]["policy_name"] for v in views)
    )
    assert data["by_action"] == dict(Counter(payloads[escalation_of(v)]["action"] for v in views))
    assert sum(data["by_model"].values()) == len(views)

    done = [v for v in views if v["status_category"] == "done"]
    assert sum(day["resolved"] for day in data["per_day"]) == len(done)
    assert sum(day["created"] for day in data["per_day"]) == len(views)
    fps = Counter(
        payloads[escalation_of(v)]["policy_name"]
        for v in done
        if v["resolution"] == "False Positive"
        or harness.keeptrusts.escalations[escalation_of(v)].resolution == "false_positive"
    )
    assert {
        p: c["false_positives"] for p, c in data["false_positives"].items() if c["false_positives"]
    } == dict(fps)
    assert {p: c["resolved"] for p, c in data["false_positives"].items()} == dict(
        Counter(payloads[escalation_of(v)]["policy_name"] for v in done)
    )
    breached = [v for v in views if harness.bridge.settings.sla.breach_label in v["labels"]]
    first_response = data["sla"]["first_response"]["all"]
    assert first_response["breached"] == len(breached) == 1
    assert data["backlog"] == {"< 1h": len(views) - len(done), "1h-4h": 0, "4h-24h": 0,
                               "1d-7d": 0, "> 7d": 0}  # fmt: skip
    assert data["dead_letters"]["total"] == len(await harness.dead_jobs()) == 0
    assert data["times"]["first_response"]["count"] >= 1

    config = tmp_path / "kt-jira.yaml"
    config.write_text(f"database_url: {database_url}\n", encoding="utf-8")
    code, text = await kt_jira("report", "--config", str(config), "--format", "json", env={})
    assert code == 0, text
    printed = json.loads(text)
    assert printed["by_priority"] == data["by_priority"]  # the real clock: the same tickets
    assert printed["escalations"] == data["escalations"]
    code, table = await kt_jira("report", "--config", str(config), env={})
    assert code == 0, table
    assert f"{len(SCENARIO)} escalations" in table
    code, csv_text = await kt_jira("report", "--config", str(config), "--format", "csv", env={})
    assert code == 0, csv_text
    assert csv_text.splitlines()[0] == "section,key,value"
    assert f"escalations,total,{len(SCENARIO)}" in csv_text.splitlines()


async def test_report_counts_grouped_escalations_apart_from_tickets(
    make_harness: HarnessFactory, database_url: str, tmp_path: Path
) -> None:
    """Three escalations of one group are one ticket and two grouped escalations; the JSON, the
    table and the CSV all say so, and tickets keep counting as ``escalations``."""
    rule = {"name": "grouped", "set": {"group_by": ["policy"]}}
    harness = await make_harness(rules=[rule])
    for n in range(3):
        harness.keeptrusts.add_escalation(f"esc_rg_{n}", policy_name="pii-detector")
    harness.keeptrusts.add_escalation("esc_rg_other", policy_name="toxicity")
    await harness.settle()
    bridge = harness.bridge
    report = await load_report(
        bridge.store, bridge.settings, since=timedelta(days=1), now=bridge.worker.clock()
    )
    data = report.as_json()
    assert (data["escalations"], data["grouped"]) == (2, 2) == (len(bridge_issues(harness)), 2)
    assert data["by_policy"] == {"pii-detector": 1, "toxicity": 1}
    config = tmp_path / "kt-jira.yaml"
    config.write_text(f"database_url: {database_url}\n", encoding="utf-8")
    code, table = await kt_jira("report", "--config", str(config), env={})
    assert code == 0, table
    assert "2 more grouped into an open ticket as comments" in table
    code, csv_text = await kt_jira("report", "--config", str(config), "--format", "csv", env={})
    assert "grouped,total,2" in csv_text.splitlines()
