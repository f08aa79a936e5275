"""The test grammar of JQL (tests/support/jql.lark) itself: it takes the documentation's
examples and refuses what Jira refuses, so "parses" in the pack's tests means something."""

from __future__ import annotations

import pytest

from tests.support.jql_grammar import JqlSyntaxError, is_valid_jql, parse_jql

VALID = [
    "",
    "project = AIGOV",
    'project = "New office" and status = "open"',
    'project in (JRA,CONF) and fixVersion = "3.14"',
    "reporter not in (Jack,Jill,John) and assignee not in (Jack,Jill,John)",
    "duedate < now() or duedate is empty",
    "not assignee = jsmith",
    "NOT (reporter = jsmith OR assignee = jsmith)",
    "labels is not EMPTY AND resolution = null",
    'summary ~ "\\"Jira Software\\"" AND description !~ \'windows\'',
    'cf[10042] = esc_1 AND "Policy Name" ~ pii',
    "created >= -30d AND updated < 2026-01-31 ORDER BY priority DESC, created",
    'status WAS "In Progress" BEFORE "2011/02/02"',
    'status WAS NOT IN (Resolved, Closed) DURING ("2010/01/01", "2011/01/01") BY jsmith',
    "assignee CHANGED FROM jsmith TO EMPTY AFTER -2w",
    '"Time to resolution" = breached() AND "Time to first response" != everBreached()',
    '"Time to resolution" < remaining("2h") AND "Time to resolution" > elapsed("1h 30m")',
    'assignee in membersOf("jira-administrators")',
    "labels = \"x\\u2028y\\ufffe\" AND labels != 'it\\'s'",
    "ORDER BY created DESC",
]

INVALID = [
    "project = ",
    "project = AIGOV AND",
    "project = AIGOV ORDER BY",
    "project AIGOV",
    "project = OR",  # a reserved word, unquoted
    "and = x",
    "labels = select",
    "labels = a b",  # a space in an unquoted value
    "labels = a.b",  # reserved ("." passes Jira's parser; its docs reserve it)
    "labels = a+b",
    'labels = "open',  # no closing quote
    'labels = "a"b"',  # a quote not escaped
    'labels = "a\\qb"',  # no such escape
    'labels = "a\nb"',  # a raw line break in quotes (stricter than Jira's parser)
    'labels = "a\x01b"',  # a control character
    'labels = "a\ufffeb"',  # a noncharacter, raw
    "labels is x",  # IS takes EMPTY only
    "labels in x",  # IN takes a list or a function
    "created > EMPTY",
    "status = Open ORDER BY created SIDEWAYS",
    "(status = Open",
    "status = Open)",
    "cf[abc] = x",
    "status changed to",
]


@pytest.mark.parametrize("jql", VALID)
def test_the_documented_examples_are_jql(jql: str) -> None:
    """Queries in the shape of Atlassian's own examples parse."""
    parse_jql(jql)


@pytest.mark.parametrize("jql", INVALID)
def test_what_jira_refuses_is_not_jql(jql: str) -> None:
    """Dangling operators, unquoted reserved words and characters, broken strings and misused
    operators are refused."""
    assert not is_valid_jql(jql)


def test_a_reserved_word_error_says_where_and_what_to_do() -> None:
    """The reserved-word check names the word, the place and the fix."""
    with pytest.raises(JqlSyntaxError, match=r"'OR' is a reserved word and must be quoted"):
        parse_jql("project = OR")


def test_keywords_are_whole_words() -> None:
    """Unquoted values that start with a keyword (``andrew``, ``order-1``) are values."""
    assert is_valid_jql("assignee = andrew AND labels = order-1 AND labels = isabel")
