"""Acceptance: escalations in, exactly one well-formed Jira Cloud issue each, from the real
``kt-jira serve`` process. Assertions read the sandbox's final state, never what was sent."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any

import pytest

from kt_jira.render.sanitise import correlation_label
from kt_jira.sandbox import KeeptrustsSender, envelope, escalation_payload
from tests.acceptance.conftest import World
from tests.acceptance.harness import (
    CONSOLE_URL,
    JiraSite,
    adf_links,
    adf_table_value,
    adf_text,
    eventually,
)

pytestmark = pytest.mark.slow

ACTIONS = ("block", "escalate", "redact", "log")
MAPPING = {
    "block": ("Bug", "Highest"),
    "escalate": ("Task", "High"),
    "redact": ("Task", "Medium"),
    "log": ("Task", "Low"),
}
POLICIES = ("content_safety", "HIPAA Compliance", "pii-detector", "human-oversight", "audit.log")
LABEL_CHARS = re.compile(r"[^\s]{1,255}\Z")


def assert_one_issue_each(site: JiraSite, escalation_ids: list[str]) -> None:
    counts = site.count_by_escalation(escalation_ids)
    wrong = {eid: n for eid, n in counts.items() if n != 1}
    assert not wrong, f"escalations without exactly one issue: {wrong}"
    assert len(site.issues()) == len(escalation_ids), "issues that belong to no escalation"


def policy_label(policy: str) -> str:
    """The label a person expects for a policy: lower case, dashes for anything else."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_.:-]", "-", policy.lower())).strip("-")


async def test_happy_path_one_issue_per_escalation_with_the_guides_mapping(world: World) -> None:
    """20 escalations over every action and several policies, flat and enveloped, become exactly
    one issue each with the guide's type and priority, the five real custom fields, sanitised
    labels, a due date and an ADF description that names the escalation and links the console."""
    site = world.jira()
    bridge = await world.bridge(site)
    payloads: dict[str, dict[str, Any]] = {}
    for n in range(20):
        payloads[f"esc_acc_{n:03d}"] = escalation_payload(
            f"esc_acc_{n:03d}",
            policy_name=POLICIES[n % len(POLICIES)],
            action=ACTIONS[n % len(ACTIONS)],
            model=("gpt-4o", "claude-sonnet-4", "llama-3.1-70b")[n % 3],
            gateway_id=f"gw_{('prod_east', 'prod_west')[n % 2]}",
            severity=("critical", "high", "medium", "low")[n % 4],
        )
    async with KeeptrustsSender(
        bridge.webhook_url, secret=world.secrets.webhook, base_delay=0.05
    ) as sender:
        results = await asyncio.gather(
            *(
                sender.send(envelope("escalation.created", p) if i % 2 else p)
                for i, p in enumerate(payloads.values())
            )
        )
    assert [r.status for r in results] == [202] * 20, [r.attempts for r in results]

    ids = list(payloads)
    await eventually(lambda: assert_one_issue_each(site, ids), timeout=60)

    real = site.real_field_ids()
    for eid, payload in payloads.items():
        (issue,) = site.issues_for(eid)
        view = site.view(issue)
        issue_type, priority = MAPPING[payload["action"]]
        assert (view["project"], view["issue_type"], view["priority"]) == (
            "AIGOV",
            issue_type,
            priority,
        ), eid
        by_name = view["fields_by_name"]
        console = f"{CONSOLE_URL}/escalations/{eid}"
        assert by_name["Escalation ID"] == eid
        assert by_name["Policy Name"] == payload["policy_name"]
        assert by_name["Model"] == payload["model"]
        assert by_name["Gateway ID"] == payload["gateway_id"]
        assert by_name["Console URL"] == console
        fields = view["fields"]
        for name, fid in real.items():
            assert fields.get(fid) == by_name[name], f"{eid}: {name} not on its real id {fid}"
        custom = {fid for fid in fields if fid.startswith("customfield_")}
        assert custom == set(real.values()), (
            f"{eid}: decoy fields set: {custom - set(real.values())}"
        )
        assert set(issue.labels) == {
            "ai-governance",
            "keeptrusts",
            policy_label(payload["policy_name"]),
            correlation_label(eid),
        }, eid
        assert all(LABEL_CHARS.match(label) for label in issue.labels), issue.labels
        due = date.fromisoformat(str(fields["duedate"]))
        occurred = date.fromisoformat(payload["timestamp"][:10])
        assert occurred <= due <= occurred + timedelta(days=8), eid  # the SLAs span 1 h to 1 w
        summary = str(fields["summary"])
        assert payload["policy_name"] in summary
        assert "\n" not in summary
        assert len(summary) <= 255
        description = fields["description"]
        assert description["type"] == "doc"
        assert description["version"] == 1
        assert eid in adf_text(description)
        assert console in adf_links(description)
    assert site.sandbox.contract_violations == []


HOSTILE = {
    "wiki-link": "[x|http://evil]",
    "wiki-color": "{color:red}x{color}",
    "wiki-heading": "h1. Big",
    "emoji": "🔥 toxic 🤖 policy 👩‍💻",
    "rtl": "سياسة الخصوصية \u202eevil\u202c",
    "long": "p" * 150 + " " + "q" * 149,
    "newlines": "first line\nsecond line\r\nthird",
    "quotes": 'say "hi" \\ back\\slash',
    "jinja": "{{ 7*7 }} {% if 1 %}x{% endif %}",
}


async def test_hostile_policy_names_stay_inert_text(world: World) -> None:
    """Policy names full of wiki markup, emoji, RTL, newlines, quotes, backslashes, Jinja and 300
    characters each give one valid issue: label-safe labels, a one-line summary within 255, and
    the name as plain text in the ADF description (no link, no evaluation)."""
    site = world.jira()
    bridge = await world.bridge(site)
    ids = {name: f"esc_hostile_{name.replace('-', '_')}" for name in HOSTILE}
    async with KeeptrustsSender(
        bridge.webhook_url, secret=world.secrets.webhook, base_delay=0.05
    ) as sender:
        results = await asyncio.gather(
            *(
                sender.send(escalation_payload(ids[name], policy_name=policy, action="block"))
                for name, policy in HOSTILE.items()
            )
        )
    assert [r.status for r in results] == [202] * len(HOSTILE), [r.attempts for r in results]

    await eventually(lambda: assert_one_issue_each(site, list(ids.values())), timeout=60)

    for name, policy in HOSTILE.items():
        (issue,) = site.issues_for(ids[name])
        view = site.view(issue)
        fields = view["fields"]
        for label in issue.labels:
            assert LABEL_CHARS.match(label), f"{name}: bad label {label!r}"
        for one_line in (str(fields["summary"]), str(view["fields_by_name"]["Policy Name"])):
            assert len(one_line) <= 255, name
            assert "\n" not in one_line, name
            assert "\r" not in one_line, name
        description = fields["description"]
        expected = policy.replace("\r\n", "\n")
        assert adf_table_value(description, "Policy") == expected, name
        assert adf_links(description) == [f"{CONSOLE_URL}/escalations/{ids[name]}"], name
        kinds = {node for node in _types(description)}
        assert kinds <= {
            "doc",
            "heading",
            "paragraph",
            "text",
            "hardBreak",
            "table",
            "tableRow",
            "tableHeader",
            "tableCell",
            "orderedList",
            "listItem",
        }, f"{name}: unexpected ADF nodes {kinds}"
    (jinja,) = site.issues_for(ids["jinja"])
    assert "{{ 7*7 }}" in str(site.view(jinja)["fields"]["summary"])
    assert site.sandbox.contract_violations == []


def _types(node: object) -> list[str]:
    if not isinstance(node, dict):
        return []
    out = [str(node.get("type"))]
    for child in node.get("content") or []:
        out += _types(child)
    return out
