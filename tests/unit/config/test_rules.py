"""The rules part of the config is checked when the file loads: errors name the rule, the key,
the template line and the file line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kt_jira.config.loader import load_settings, settings_from_dict
from kt_jira.config.models import RuleMatch
from kt_jira.errors import ConfigError


def load(tmp_path: Path, text: str) -> object:
    """Load ``text`` as a config file."""
    path = tmp_path / "kt-jira.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ={})


RULES_HEAD = "jira: {project: AIGOV}\nrules:\n  - name: first\n    match: {action: block}\n"


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("set: {sla_resolution: 1 hour}", "set.sla_resolution: '1 hour' is not a duration"),
        ("match: {policy: ['re:(x']}", "match.policy: 're:(x' is not a valid regex"),
        ("match: {model: ['gpt-[4']}", "match.model: 'gpt-[4' has a '['"),
        ("match: {action: []}", "match.action is an empty list"),
        ("set: {project: aigov}", "set.project 'aigov' is not a Jira project key"),
        ("set: {summary: '{{ x '}", "set.summary: template line 1: unexpected end of template"),
        ('set: {description: "a\\n{% if %}"}', "set.description: template line 2"),
        ("set: {labels: ['{{ x | nofilter }}']}", "set.labels[0]: template line 1: No filter"),
        ("set: {fields: {Team: '{% for %}'}}", "set.fields['Team']: template line 1"),
        ("set: {components: ['']}", "set.components has an empty entry"),
        ("set: {group_by: [policy, colour]}", "set.group_by takes a list of policy, action"),
        ("set: {group_by: []}", "set.group_by takes a list of"),
        ("set: {group_by: [model, model]}", "set.group_by names a key twice"),
        ("set: {group_window: 1h}", "set.group_window needs set.group_by"),
        ("set: {group_by: [policy], group_window: soon}", "set.group_window: 'soon' is not a"),
        ("set: {group_by: [policy], group_window: 0m}", "set.group_window must be longer than 0"),
    ],
)
def test_bad_rules_fail_to_load_naming_rule_and_line(
    tmp_path: Path, rule: str, fragment: str
) -> None:
    """Each kind of bad rule stops the load with the rule's name, the problem and its line."""
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, RULES_HEAD + f"  - name: second\n    {rule}\n")
    message = str(caught.value)
    assert "rule 'second'" in message
    assert fragment in message
    assert "line 5" in message


def test_unknown_match_or_set_keys_name_the_line(tmp_path: Path) -> None:
    """A misspelt match or set key is an unknown key, with its path and line."""
    with pytest.raises(ConfigError, match=r"rules\.0\.match\.polcy: unknown key .*line 4"):
        load(tmp_path, "rules:\n  - name: x\n    match:\n      polcy: [x]\n")
    with pytest.raises(ConfigError, match=r"rules\.0\.set\.asignee: unknown key"):
        load(tmp_path, "rules:\n  - name: x\n    set: {asignee: me}\n")


def test_global_templates_are_compiled_at_load(tmp_path: Path) -> None:
    """templates.summary and templates.description must compile, or the load fails."""
    with pytest.raises(ConfigError, match=r"templates: .*description: template line 3"):
        load(tmp_path, 'templates:\n  description: "a\\nb\\n{{ }}"\n')


def test_bad_category_patterns_fail(tmp_path: Path) -> None:
    """A categories key that is not a usable pattern fails the load."""
    with pytest.raises(ConfigError, match=r"categories: .*not a valid regex"):
        load(tmp_path, "categories:\n  're:[': Compliance\n")


def test_single_values_are_lists_of_one() -> None:
    """A match key may be a single value instead of a list."""
    assert RuleMatch.model_validate({"action": "block"}).action == ["block"]


def test_all_new_keys_load() -> None:
    """Every match and set key, templates and categories load together."""
    settings = settings_from_dict(
        {
            "categories": {"*pii*": "Data protection", "re:^sox": "Compliance"},
            "templates": {"summary": "{{ rule }}", "description": "# {{ category }}"},
            "rules": [
                {
                    "name": "all",
                    "match": {
                        "action": ["block"],
                        "severity": ["high"],
                        "category": ["Compliance"],
                        "policy": ["re:^sox", "*hipaa*"],
                        "model": ["gpt-*"],
                        "gateway_id": ["gw_*"],
                        "org_id": ["org_1"],
                    },
                    "set": {
                        "project": "COMPLY",
                        "issue_type": "Bug",
                        "priority": "Highest",
                        "sla_first_response": "15m",
                        "sla_resolution": "2h",
                        "labels": ["x"],
                        "components": ["Policy"],
                        "assignee": "acc",
                        "watchers": ["w"],
                        "fields": {"Team": "t", "Tags": ["a", "b"]},
                        "summary": "s",
                        "description": "d",
                    },
                }
            ],
        }
    )
    assert settings.rules[0].set.fields == {"Team": "t", "Tags": ["a", "b"]}


def test_storm_settings_default_and_switch_off(tmp_path: Path) -> None:
    """The runaway guard defaults to 50 tickets in 10 minutes; 0 or null turns it off; a bad
    window fails the load naming the key."""
    default = settings_from_dict({})
    assert (default.storm.max_tickets_per_policy, default.storm.window) == (50, "10m")
    assert default.storm.enabled
    assert not settings_from_dict({"storm": {"max_tickets_per_policy": 0}}).storm.enabled
    assert not settings_from_dict({"storm": {"max_tickets_per_policy": None}}).storm.enabled
    with pytest.raises(ConfigError, match=r"storm\.window"):
        load(tmp_path, "storm: {window: 0s}\n")
