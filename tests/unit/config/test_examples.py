"""Every example config and every YAML and JSON example in the docs loads and means what the
docs say, so they cannot drift from the code."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from kt_jira.commands.check_config import offline_problems
from kt_jira.commands.preview import build_preview, load_escalation, preview_json
from kt_jira.config.loader import load_settings, settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.events.keeptrusts import Escalation
from kt_jira.tickets.rules import decide
from kt_jira.tickets.templates import DEFAULT_DESCRIPTION, DEFAULT_SUMMARY

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CONFIGURATION = ROOT / "docs" / "configuration.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
RECEIVED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def blocks(path: Path, language: str) -> list[str]:
    """The fenced blocks of ``language`` in a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [body for lang, body in FENCE.findall(text) if lang == language]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_load_and_pass_the_offline_checks(path: Path) -> None:
    """Each file in examples/ loads and has no rule or template problem."""
    settings = load_settings(path, environ={})
    assert offline_problems(settings) == []


def test_routing_example_routes_as_its_comments_say() -> None:
    """routing.yaml: safety blocks to SAFETY (1 h), compliance blocks to COMPLY (2 h),
    redactions as low-priority tasks with a component and an assignee."""
    settings = load_settings(ROOT / "examples" / "routing.yaml", environ={})

    def route(policy: str, action: str) -> Any:
        escalation = Escalation(escalation_id="e", policy_name=policy, action=action)
        return decide(escalation, settings.content, received_at=RECEIVED)

    safety = route("toxicity-filter", "block")
    assert (safety.rule.name, safety.draft.project) == ("safety-blocks", "SAFETY")
    assert safety.deadlines.resolution_due == RECEIVED + timedelta(hours=1)
    comply = route("gdpr-export-guard", "block")
    assert (comply.draft.project, comply.draft.priority) == ("COMPLY", "Highest")
    assert comply.deadlines.resolution_due == RECEIVED + timedelta(hours=2)
    redaction = route("pii-detector", "redact")
    assert (redaction.draft.project, redaction.draft.issue_type) == ("AIGOV", "Task")
    assert redaction.draft.priority == "Low"
    assert redaction.draft.components == ("Policy",)
    assert redaction.draft.assignee == "5d53f3cbc6b9320d9ea5bdc2"
    assert redaction.draft.fields["Investigation Notes"].startswith("Redacted on gateway")  # type: ignore[union-attr]
    other = route("audit-log", "log")
    assert other.rule.name == "everything-else"


@pytest.mark.parametrize("index", range(len(blocks(CONFIGURATION, "yaml"))))
def test_configuration_yaml_blocks_load_cleanly(index: int) -> None:
    """Each YAML block of docs/configuration.md is a config that loads and passes the checks."""
    data = yaml.safe_load(blocks(CONFIGURATION, "yaml")[index])
    settings = settings_from_dict(data)
    assert offline_problems(settings) == []


def test_documented_default_templates_are_the_defaults() -> None:
    """The built-in templates printed in the docs are exactly the code's defaults."""
    [block] = [b for b in blocks(CONFIGURATION, "yaml") if b.startswith("# The built-in")]
    templates = yaml.safe_load(block)["templates"]
    assert templates == {"summary": DEFAULT_SUMMARY, "description": DEFAULT_DESCRIPTION}
    assert Settings().templates.summary == DEFAULT_SUMMARY


async def test_configuration_json_blocks_are_real() -> None:
    """The documented event parses, and the documented preview JSON is what preview prints for
    it (the body is shortened in the docs: its fields must agree)."""
    event, shown = (json.loads(b) for b in blocks(CONFIGURATION, "json"))
    escalation = load_escalation(json.dumps(event).encode())
    actual = preview_json(
        await build_preview(escalation, Settings(), flavor="cloud", received_at=RECEIVED)
    )
    documented_body = shown.pop("request")["body"]["fields"]
    actual_body = actual.pop("request")["body"]["fields"]
    assert shown == actual
    assert {k: actual_body[k] for k in documented_body} == documented_body


@pytest.mark.parametrize(
    "path", [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"], ids=lambda p: p.name
)
def test_config_blocks_in_every_doc_load(path: Path) -> None:
    """Every YAML block in the docs is a config that loads: an unknown or misspelt key fails
    here (fence anything that is not a config as another language)."""
    for block in blocks(path, "yaml"):
        data = yaml.safe_load(block)
        assert isinstance(data, dict), f"{path.name}: a yaml block is not a config"
        assert data, f"{path.name}: an empty yaml block"
        settings_from_dict(data)
