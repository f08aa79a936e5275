"""check-config's offline part: every template renders and every rule can be used and reached;
each problem names the rule that causes it and how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kt_jira.commands.check_config import compile_templates, offline_problems, offline_warnings
from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from tests.unit.tickets.support import invoke


def settings(*rules: dict[str, Any], **extra: Any) -> Settings:
    """Settings holding ``rules``."""
    return settings_from_dict({"rules": list(rules), **extra})


def test_the_defaults_are_clean() -> None:
    """The built-in rules and templates have no problems and no warnings."""
    assert offline_problems(Settings()) == []
    assert offline_warnings(Settings()) == []


def test_templates_are_rendered_against_full_and_sparse_samples() -> None:
    """Unknown names and expressions that fail on empty fields are found before any escalation."""
    problems = compile_templates(
        settings(
            {"name": "typo", "set": {"summary": "{{ escalation.polcy_name }}"}},
            {"name": "sparse", "set": {"labels": ["{{ escalation.policy_name.split('-')[1] }}"]}},
            {"name": "field", "set": {"fields": {"Team": "{{ team }}"}}},
        )
    )
    assert problems == [
        "rules[0] (typo): set.summary: template line 1: 'dict object' has no attribute "
        "'polcy_name'; fix the template (kt-jira check-config lists every template problem)",
        "rules[1] (sparse): set.labels[0]: template line 1: list object has no element 1; fix "
        "the template (kt-jira check-config lists every template problem)",
        "rules[2] (field): set.fields['Team']: template line 1: 'team' is undefined; fix the "
        "template (kt-jira check-config lists every template problem)",
    ]


def test_global_template_problems_are_reported_once() -> None:
    """A broken global template is one problem, not one per rule."""
    config = Settings.model_construct(
        **{**dict(Settings()), "templates": Settings().templates.model_copy(
            update={"description": "{{ nope }}"})}
    )  # fmt: skip
    problems = compile_templates(config)
    assert problems == [
        "templates.description: template line 1: 'nope' is undefined; fix the template "
        "(kt-jira check-config lists every template problem)"
    ]


def test_empty_summary_and_bad_panel_kind() -> None:
    """A summary that renders empty, or an unknown :::kind, is a problem."""
    problems = compile_templates(
        settings({"name": "r", "set": {"summary": "{{ '' }}", "description": ":::tip\nx\n:::"}})
    )
    assert problems[0].startswith("rules[0] (r): set.description: ':::tip' is not a panel kind")
    problems = compile_templates(settings({"name": "r", "set": {"summary": "{{ '' }}"}}))
    assert problems[0] == "rules[0] (r): set.summary: renders empty for esc_check; Jira needs one"


def test_unreachable_duplicate_and_own_fields() -> None:
    """Rules after a catch-all, repeated names and fields the draft sets itself are problems."""
    problems = offline_problems(
        settings(
            {"name": "a", "match": {"action": "block"}, "set": {"fields": {"due date": "x"}}},
            {"name": "everything"},
            {"name": "a", "match": {"action": "log"}},
        )
    )
    assert problems == [
        "rules[0] (a): set.fields['due date'] is set by the draft; use set.sla_resolution",
        "rules[2] (a): the name is also used by rules[0] (a); give each rule its own name so "
        "errors and previews can point at it",
        "rules[2] (a) can never match: rules[1] (everything) before it has no match keys and "
        "matches everything; move this rule above it or remove it",
    ]


def test_constructed_settings_are_checked_like_loaded_ones() -> None:
    """Settings built without validation still get their durations and patterns checked."""
    rule = settings({"name": "x"}).rules[0]
    bad = rule.model_copy(update={"set": rule.set.model_copy(update={"sla_resolution": "soon"})})
    problems = offline_problems(Settings.model_construct(**{**dict(Settings()), "rules": [bad]}))
    assert problems == ["rules[0] (x): set.sla_resolution: 'soon' is not a duration like 15m, "
                        "4h, 7d or 1w"]  # fmt: skip


def test_warnings() -> None:
    """Values Keeptrusts never sends, unknown categories and odd patterns are warned."""
    warnings = offline_warnings(
        settings(
            {
                "name": "w",
                "match": {"action": "blocked", "severity": "urgent", "category": "Nope",
                          "policy": " pii*"},
                "set": {"watchers": ["acc"]},
            }
        )
    )  # fmt: skip
    assert [w.split(":")[1].strip() for w in warnings] == [
        "match.action 'blocked' is not one Keeptrusts sends (block, escalate, redact, log)",
        "match.severity 'urgent' is not one Keeptrusts sends (critical, high, medium, low)",
        "match.category 'Nope' comes from no categories entry or action default; it matches "
        "only when the payload carries it",
        "match.policy",
    ]


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KT_TEST_WEBHOOK_SECRET", "s")


def test_check_config_prints_rule_problems_and_fails(tmp_path: Path, secrets: None) -> None:
    """kt-jira check-config exits 2 and prints each problem with its rule and fix."""
    path = tmp_path / "kt-jira.yaml"
    path.write_text(
        "keeptrusts: {webhook: {secrets: [env:KT_TEST_WEBHOOK_SECRET]}}\n"
        "rules:\n"
        "  - name: catch-all\n"
        "  - name: late\n"
        "    match: {action: block}\n"
        "    set: {summary: '{{ escalation.nope }}'}\n",
        encoding="utf-8",
    )
    result = invoke("check-config", "--config", str(path))
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert (
        "rules[1] (late): set.summary: template line 1: 'dict object' has no attribute 'nope'"
        in text
    )
    assert "rules[1] (late) can never match: rules[0] (catch-all) before it" in text


def test_check_config_passes_a_good_file(tmp_path: Path, secrets: None) -> None:
    """A clean config passes check-config."""
    path = tmp_path / "kt-jira.yaml"
    path.write_text(
        "keeptrusts: {webhook: {secrets: [env:KT_TEST_WEBHOOK_SECRET]}}\n"
        "rules:\n  - name: blocks\n    match: {action: block}\n  - name: rest\n",
        encoding="utf-8",
    )
    result = invoke("check-config", "--config", str(path))
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
