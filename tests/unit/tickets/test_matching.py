"""Rule matching: globs and regexes, every match key, alternatives, order and the reasons given."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kt_jira.config.models import Rule, RuleMatch
from kt_jira.events.keeptrusts import Escalation
from kt_jira.tickets.matching import compile_pattern, matches, pattern_problem, pattern_warning
from kt_jira.tickets.rules import DEFAULT_RULES, choose_category, choose_rule, explain


def esc(**fields: Any) -> Escalation:
    """An escalation with sensible defaults."""
    base: dict[str, Any] = {
        "escalation_id": "esc_1",
        "policy_name": "HIPAA-compliance",
        "action": "block",
        "model": "gpt-4o-mini",
        "gateway_id": "gw_prod_east",
        "org_id": "org_acme",
        "severity": "high",
    }
    base.update(fields)
    return Escalation(**base)


FACTS = {
    "action": "block",
    "severity": "high",
    "category": "Compliance",
    "policy": "HIPAA-compliance",
    "model": "gpt-4o-mini",
    "gateway_id": "gw_prod_east",
    "org_id": "org_acme",
}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*complian*", "HIPAA-Compliance", True),  # globs ignore case
        ("hipaa-*", "HIPAA-compliance", True),
        ("hipaa", "HIPAA-compliance", False),  # a glob matches the whole value
        ("gpt-4?", "gpt-4o", True),
        ("[gc]pt-*", "cpt-1", True),
        ("re:^hipaa", "HIPAA-compliance", True),  # regexes ignore case too
        ("re:compliance", "HIPAA-compliance", True),  # and match anywhere
        ("re:^compliance$", "HIPAA-compliance", False),
        ("re:gpt-4o(-mini)?$", "gpt-4o-mini", True),
    ],
)
def test_patterns(pattern: str, value: str, expected: bool) -> None:
    """Globs match the whole value, re: regexes anywhere; both ignore case."""
    assert matches(pattern, value) is expected


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("re:(unclosed", "not a valid regex"),
        ("re:", "empty regex"),
        ("", "empty pattern"),
        ("gpt-[45", "without its ']'"),
    ],
)
def test_bad_patterns_say_what_to_write(pattern: str, fragment: str) -> None:
    """A pattern that cannot work is refused with a hint; compiling it raises the same text."""
    problem = pattern_problem(pattern)
    assert problem is not None
    assert fragment in problem
    with pytest.raises(ValueError, match=re.escape(problem)):
        compile_pattern(pattern)


def test_pattern_warnings() -> None:
    """Spaces at the ends and match-everything regexes are legal but flagged."""
    assert pattern_warning(" pii*") is not None
    assert pattern_warning("re:.*") is not None
    assert pattern_warning("pii*") is None


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({"action": ["block"]}, True),
        ({"action": ["BLOCK", "escalate"]}, True),  # alternatives; values ignore case
        ({"severity": ["critical", "high"]}, True),
        ({"category": ["compliance"]}, True),
        ({"policy": ["*complian*"]}, True),
        ({"policy": ["re:^gdpr"]}, False),
        ({"model": ["gpt-4o*"]}, True),
        ({"gateway_id": ["gw_prod_*"]}, True),
        ({"org_id": ["org_other"]}, False),
        ({"action": ["block"], "severity": ["low"]}, False),  # every key given must match
        ({"action": "block", "model": "gpt-4o-mini"}, True),  # one value needs no list
    ],
)
def test_every_match_key(match: dict[str, Any], expected: bool) -> None:
    """Each key compares its fact; all given keys must hold, any alternative of a key may."""
    ok, reasons = explain(RuleMatch.model_validate(match), FACTS)
    assert ok is expected
    assert reasons


def test_reasons_name_each_key_that_matched() -> None:
    """The reasons say which key matched which value, by which alternative."""
    match = RuleMatch(action=["escalate", "block"], policy=["re:hipaa"])
    assert explain(match, FACTS) == (
        True,
        ("action 'block' matches 'block'", "policy 'HIPAA-compliance' matches 're:hipaa'"),
    )
    assert explain(RuleMatch(), FACTS) == (
        True,
        ("the rule has no match keys, so it matches everything",),
    )
    assert explain(RuleMatch(model=["claude-*", "llama*"]), FACTS) == (
        False,
        ("model 'gpt-4o-mini' matches none of 'claude-*', 'llama*'",),
    )


def test_first_match_wins_and_skipped_rules_say_why() -> None:
    """Rules are tried in order; the first that matches wins, earlier ones report their miss."""
    rules = (
        Rule(name="critical", match=RuleMatch(severity=["critical"])),
        Rule(name="prod", match=RuleMatch(gateway_id=["gw_prod_*"])),
        Rule(name="all"),
    )
    choice = choose_rule(esc(), "Compliance", rules)
    assert choice.rule.name == "prod"
    assert choice.skipped == (("critical", "severity 'high' matches none of 'critical'"),)


def test_no_rule_matching_falls_back_to_the_default() -> None:
    """When no configured rule matches, the built-in default (Task, Low) applies, and says so."""
    choice = choose_rule(esc(), "Compliance", (Rule(name="x", match=RuleMatch(action=["log"])),))
    assert choice.rule == DEFAULT_RULES[-1]
    assert "no configured rule matched" in choice.reasons[0]


def test_category_sources() -> None:
    """Payload first, then the categories map (globs or regexes), then the action's default."""
    from_payload = choose_category(esc(category="Custom"), {"*": "Mapped"})
    assert (from_payload.name, from_payload.source) == ("Custom", "payload")
    mapped = choose_category(esc(policy_name="sox-42"), {"re:^sox-\\d+$": "Compliance"})
    assert (mapped.name, mapped.source) == ("Compliance", "categories")
    assert "re:^sox" in mapped.reason
    by_action = choose_category(esc(policy_name="zzz", action="redact"), {"*pii*": "X"})
    assert (by_action.name, by_action.source) == ("Data protection", "action")
    builtin = choose_category(esc(policy_name="toxicity-filter"), {})
    assert (builtin.name, builtin.source) == ("Content safety", "categories")
