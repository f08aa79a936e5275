"""The JQL pack: the queries it holds, how config values are quoted, several projects, both SLA
modes; and that every query is JQL, for a grammar of Atlassian's documented syntax and for the
bridge's own sandbox Jira."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kt_jira.config.loader import settings_from_dict
from kt_jira.config.models import Settings
from kt_jira.reports.jql import Query, jql_pack, jsm_duration, tightest_resolution, top_priorities
from kt_jira.sandbox.jira.jql import Bool, Clause, Empty, Function, Literal, Node, Not, parse
from tests.support.jql_grammar import parse_jql

BASE = 'project = AIGOV AND labels = "ai-governance"'
JSM = {"sla": {"mode": "jsm"}}
# Each tries to end its string and add a clause, or to break the query onto a second line.
HOSTILE = [
    'x" OR project = Y OR labels = "z',
    'back\\slash\\" OR 1 = 1',
    "two\nlines\r\nand a\u2028separator\u2029too",
    "order by key -- and",
    "'single' (parens) [brackets] ~ != , ; *",
    "noncharacter \ufffe and \ufdd0",
    "é emoji 👩‍👩‍👧 שלום",
]


def pack(**config: Any) -> dict[str, Query]:
    return {q.name: q for q in jql_pack(settings_from_dict(config))}


def clauses(node: Node | None) -> list[Clause]:
    """Every terminal clause of a sandbox parse tree, left to right."""
    if node is None:
        return []
    if isinstance(node, Clause):
        return [node]
    if isinstance(node, Not):
        return clauses(node.inner)
    assert isinstance(node, Bool)
    return [c for part in node.parts for c in clauses(part)]


def values(clause: Clause) -> list[str]:
    items = clause.value if isinstance(clause.value, tuple) else (clause.value,)
    out: list[str] = []
    for item in items:
        if isinstance(item, Literal):
            out.append(item.text)
        elif isinstance(item, Function):
            out.append(f"{item.name}({', '.join(item.args)})")
        elif isinstance(item, Empty):
            out.append("EMPTY")
    return out


def shape(jql: str) -> list[tuple[str, str, list[str]]]:
    """(field, operator, values) of each clause, as the sandbox's parser reads them."""
    return [(c.field, c.op, values(c)) for c in clauses(parse(jql).where)]


def assert_is_jql(query: Query) -> None:
    """One line, with a one-line explanation, that the sandbox Jira's parser accepts (the
    documented grammar is checked apart, as it needs lark)."""
    assert query.jql.splitlines() == [query.jql], query.jql
    assert query.explanation.splitlines() == [query.explanation], query.explanation
    parse(query.jql)


# -- what the pack holds --------------------------------------------------------------------------


def test_the_default_pack_holds_the_guides_queries_and_the_bridges() -> None:
    """Without config: open, all, recent, critical, breaches, breached-open, at-risk, false
    positives, last day and Stories, in that order, on AIGOV and the ai-governance label."""
    queries = pack()
    assert list(queries) == [
        "open",
        "all",
        "recent",
        "critical",
        "sla-breaches",
        "breached-open",
        "at-risk",
        "false-positives",
        "last-day",
        "stories",
    ]
    jql = {name: q.jql for name, q in queries.items()}
    assert jql["open"] == f"{BASE} AND statusCategory != Done ORDER BY priority DESC, created ASC"
    assert jql["all"] == f"{BASE} ORDER BY priority DESC, created DESC"
    assert jql["recent"] == f"{BASE} AND created >= -30d ORDER BY created DESC"
    assert jql["critical"] == (
        f'{BASE} AND priority = "Highest" AND statusCategory != Done ORDER BY created ASC'
    )
    assert jql["sla-breaches"] == (
        f'{BASE} AND labels = "sla-breached" ORDER BY priority DESC, created DESC'
    )
    assert jql["breached-open"] == (
        f'{BASE} AND labels = "sla-breached" AND statusCategory != Done '
        "ORDER BY priority DESC, created ASC"
    )
    assert jql["at-risk"] == (
        f'{BASE} AND labels = "sla-at-risk" AND labels != "sla-breached" AND '
        "statusCategory != Done ORDER BY priority DESC, created ASC"
    )
    assert jql["false-positives"] == (
        f'{BASE} AND resolution = "False Positive" AND resolved >= -30d '
        'ORDER BY "Policy Name" ASC, resolved DESC'
    )
    assert jql["last-day"] == f"{BASE} AND created >= -1d ORDER BY created DESC"
    assert jql["stories"] == (
        'project = AIGOV AND issuetype = "Story" AND labels = "ai-policy-tuning" '
        "ORDER BY created DESC"
    )
    for query in queries.values():
        assert_is_jql(query)


def test_titles_and_explanations_say_what_each_query_finds() -> None:
    """Each query has a title and a one-line explanation; the guide's four say they are."""
    queries = pack()
    assert all(q.title and q.explanation for q in queries.values())
    for name in ("open", "recent", "sla-breaches", "false-positives"):
        assert "the guide's" in queries[name].explanation
    assert "Created vs. Resolved" in queries["all"].explanation
    assert "Pie chart" in queries["all"].explanation


def test_the_bridge_label_and_the_loop_settings_come_from_the_config() -> None:
    """reconcile.jira_label narrows every ticket query; the Stories query uses the loop's
    project, issue type and labels."""
    queries = pack(
        reconcile={"jira_label": "ai-gov"},
        feedback={
            "false_positive": {
                "project": "TUNE",
                "issue_type": "Improvement",
                "labels": ["ai-policy-tuning", "kt"],
                "resolution": "Not a problem",
            }
        },
    )
    assert queries["open"].jql.startswith('project = AIGOV AND labels = "ai-gov" AND ')
    assert 'resolution = "Not a problem"' in queries["false-positives"].jql
    assert queries["stories"].jql == (
        'project = TUNE AND issuetype = "Improvement" AND labels in ("ai-policy-tuning", "kt") '
        "ORDER BY created DESC"
    )


def test_stories_without_labels_are_found_by_their_summary_phrase() -> None:
    """Without feedback labels the Stories are searched by the summary's phrase, quoted inside
    the string so that Jira matches the words together."""
    stories = pack(feedback={"false_positive": {"labels": []}})["stories"]
    assert stories.jql.endswith('AND summary ~ "\\"Policy improvement\\"" ORDER BY created DESC')
    assert shape(stories.jql)[-1] == ("summary", "~", ['"Policy improvement"'])
    assert_is_jql(stories)


def test_false_positives_without_a_policy_field_sort_by_date() -> None:
    """jira.fields.policy_name null: the false positives are listed newest first."""
    query = pack(jira={"fields": {"policy_name": None}})["false-positives"]
    assert query.jql.endswith("ORDER BY resolved DESC")
    assert "newest first" in query.explanation


# -- several projects and reserved words ----------------------------------------------------------


def test_tickets_are_searched_in_every_project_rules_route_to() -> None:
    """Rules that route elsewhere widen every ticket query to ``project in (...)``, each key
    once, in the config's order; the Stories stay in the loop's project."""
    routed = [
        {"name": "hipaa", "match": {"policy": "hipaa*"}, "set": {"project": "COMPLY"}},
        {"name": "safety", "match": {"action": "block"}, "set": {"project": "SAFETY"}},
        {"name": "again", "match": {"action": "redact"}, "set": {"project": "COMPLY"}},
    ]
    queries = pack(rules=routed)
    tickets = [q for name, q in queries.items() if name != "stories"]
    assert all(
        q.jql.startswith('project in (AIGOV, COMPLY, SAFETY) AND labels = "ai-governance"')
        for q in tickets
    )
    assert queries["stories"].jql.startswith("project = AIGOV AND ")
    assert shape(queries["all"].jql)[0] == ("project", "in", ["AIGOV", "COMPLY", "SAFETY"])
    for query in queries.values():
        assert_is_jql(query)


@pytest.mark.parametrize("key", ["OR", "AND", "IN", "IS", "NOT", "EMPTY", "ORDER", "BY", "CF"])
def test_project_keys_that_are_reserved_words_are_quoted(key: str) -> None:
    """A project key such as OR would end the clause unquoted; it is written "OR"."""
    queries = pack(jira={"project": key}, rules=[{"name": "r", "set": {"project": "AIGOV"}}])
    assert queries["open"].jql.startswith(f'project in ("{key}", AIGOV) AND ')
    assert shape(queries["open"].jql)[0] == ("project", "in", [key, "AIGOV"])
    for query in queries.values():
        assert_is_jql(query)


# -- SLA modes ------------------------------------------------------------------------------------


def test_computed_sla_queries_use_the_bridges_labels() -> None:
    """sla.mode computed: breaches and warnings are the labels the bridge adds."""
    queries = pack(sla={"breach_label": "late!", "at_risk_label": "nearly-late", "at_risk": 0.8})
    assert 'labels = "late!"' in queries["sla-breaches"].jql
    assert 'labels = "nearly-late" AND labels != "late!"' in queries["at-risk"].jql
    assert "80%" in queries["at-risk"].explanation
    assert "breached()" not in " ".join(q.jql for q in queries.values())


def test_jsm_sla_queries_use_service_managements_fields() -> None:
    """sla.mode jsm: the guide's ``"Time to resolution" = breached()``, either target for
    the open ones, and remaining() on the resolution SLA for those at risk."""
    queries = pack(**JSM)
    assert queries["sla-breaches"].jql == (
        f'{BASE} AND "Time to resolution" = breached() ORDER BY priority DESC, created DESC'
    )
    assert (
        '("Time to first response" = breached() OR "Time to resolution" = breached()) AND '
        "statusCategory != Done" in queries["breached-open"].jql
    )
    # The guide's defaults: the tightest resolution target is 1h; warn in its last 25 %.
    assert queries["at-risk"].jql == (
        f'{BASE} AND "Time to resolution" = running() AND "Time to resolution" != breached() '
        'AND "Time to resolution" < remaining("15m") ORDER BY priority DESC, created ASC'
    )
    assert "labels = " not in queries["sla-breaches"].jql.removeprefix(BASE)
    for query in queries.values():
        assert_is_jql(query)


def test_jsm_field_names_are_quoted_whatever_they_hold() -> None:
    """SLA names from sla.jsm_fields are field references: quoted, escaped, one line."""
    queries = pack(
        sla={"mode": "jsm", "jsm_fields": {"first_response": 'TTFR "v2"', "resolution": "a\\b"}}
    )
    assert '"a\\\\b" = breached()' in queries["sla-breaches"].jql
    fields = [c[0] for c in shape(queries["breached-open"].jql)]
    assert 'TTFR "v2"' in fields
    assert "a\\b" in fields
    for query in queries.values():
        assert_is_jql(query)


@pytest.mark.parametrize("mode", ["computed", "jsm"])
def test_no_at_risk_query_without_warnings(mode: str) -> None:
    """sla.at_risk null turns warnings off, so the pack has no at-risk query."""
    assert "at-risk" not in pack(sla={"mode": mode, "at_risk": None})


def test_the_jsm_warning_window_follows_the_tightest_rule() -> None:
    """The remaining() window is the at-risk share of the shortest resolution target."""
    rules = [
        {"name": "slow", "set": {"sla_resolution": "3d"}},
        {"name": "fast", "match": {"action": "block"}, "set": {"sla_resolution": "2h"}},
    ]
    settings = settings_from_dict({"rules": rules, "sla": {"mode": "jsm", "at_risk": 0.5}})
    assert tightest_resolution(settings) == timedelta(hours=2)
    at_risk = next(q for q in jql_pack(settings) if q.name == "at-risk")
    assert 'remaining("1h")' in at_risk.jql


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(minutes=15), "15m"),
        (timedelta(hours=2), "2h"),
        (timedelta(minutes=90), "1h 30m"),
        (timedelta(seconds=1), "1m"),
        (timedelta(seconds=61), "2m"),
        (timedelta(days=1), "24h"),
    ],
)
def test_jsm_durations_are_whole_minutes(span: timedelta, text: str) -> None:
    """Durations are written as Jira writes them, rounded up to the minute."""
    assert jsm_duration(span) == text


# -- priorities -----------------------------------------------------------------------------------


def test_critical_tickets_are_at_the_priorities_rules_give_critical_or_blocked_ones() -> None:
    """The guide's rules give blocks Highest; configured rules give their own names."""
    assert top_priorities(Settings()) == ["Highest"]
    rules = [
        {"name": "crit", "match": {"severity": ["CRITICAL"]}, "set": {"priority": "P1"}},
        {"name": "block", "match": {"action": "block"}, "set": {"priority": 'Sev "0"'}},
        {"name": "other", "match": {"action": "log"}, "set": {"priority": "P4"}},
    ]
    settings = settings_from_dict({"rules": rules})
    assert top_priorities(settings) == ["P1", 'Sev "0"']
    critical = next(q for q in jql_pack(settings) if q.name == "critical")
    assert 'priority in ("P1", "Sev \\"0\\"")' in critical.jql
    assert ("priority", "in", ["P1", 'Sev "0"']) in shape(critical.jql)
    assert_is_jql(critical)
    no_critical = settings_from_dict({"rules": [rules[2]]})
    assert top_priorities(no_critical) == ["Highest"]


# -- hostile values -------------------------------------------------------------------------------


def hostile_config(value: str, mode: str) -> dict[str, Any]:
    return {
        "jira": {"project": value, "fields": {"policy_name": value}},
        "reconcile": {"jira_label": value},
        "sla": {"mode": mode, "jsm_fields": {"resolution": value}},
        "feedback": {"false_positive": {"resolution": value, "issue_type": value}},
        "rules": [{"name": "r", "match": {"severity": "critical"}, "set": {"priority": value}}],
    }


def kept(value: str) -> str:
    """What a JQL string can hold of ``value``: jql_string drops control characters."""
    return "".join(ch for ch in value if ch in "\n\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160))


def assert_one_value_each(value: str, mode: str) -> None:
    """Each config value is exactly one value of its own clause, in every query."""
    queries = {q.name: q for q in jql_pack(settings_from_dict(hostile_config(value, mode)))}
    for query in queries.values():
        assert_is_jql(query)
    text = kept(value)
    assert shape(queries["all"].jql) == [("project", "=", [text]), ("labels", "=", [text])]
    assert shape(queries["false-positives"].jql)[2] == ("resolution", "=", [text])
    assert parse(queries["false-positives"].jql).order_by[0] == (text, False)
    assert ("priority", "=", [text]) in shape(queries["critical"].jql)
    assert ("issuetype", "=", [text]) in shape(queries["stories"].jql)
    if mode == "jsm":
        assert (text, "=", ["breached()"]) in shape(queries["sla-breaches"].jql)


@pytest.mark.parametrize("mode", ["computed", "jsm"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_names_stay_one_quoted_value(value: str, mode: str) -> None:
    """A project key, label, field name, resolution, issue type or priority that tries to
    close its string and add clauses stays one value of one clause, on one line."""
    assert_one_value_each(value, mode)


config_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
).filter(str.strip)


@given(config_text, st.sampled_from(["computed", "jsm"]))
def test_any_name_gives_valid_single_line_jql(value: str, mode: str) -> None:
    """Whatever text the config holds, every query is one line of valid JQL in which that
    text is exactly one value."""
    assert_one_value_each(value, mode)


# -- the documented grammar -----------------------------------------------------------------------

CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "jsm": JSM,
    "several projects": {
        "rules": [
            {"name": "a", "match": {"action": "block"}, "set": {"project": "COMPLY"}},
            {"name": "b", "set": {"project": "OR"}},
        ]
    },
    "no warnings, no labels": {
        "sla": {"at_risk": None},
        "feedback": {"false_positive": {"labels": []}},
        "jira": {"fields": {"policy_name": None}},
    },
    **{f"hostile {i} computed": hostile_config(v, "computed") for i, v in enumerate(HOSTILE)},
    **{f"hostile {i} jsm": hostile_config(v, "jsm") for i, v in enumerate(HOSTILE)},
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=list(CONFIGS))
def test_every_query_parses_with_the_documented_jql_grammar(config: dict[str, Any]) -> None:
    """Every query of the pack is JQL by tests/support/jql.lark, Atlassian's documented syntax."""
    for query in jql_pack(settings_from_dict(config)):
        parse_jql(query.jql)


@given(config_text, st.sampled_from(["computed", "jsm"]))
def test_any_name_gives_jql_by_the_documented_grammar(value: str, mode: str) -> None:
    """Whatever text the config holds, the documented grammar accepts every query."""
    for query in jql_pack(settings_from_dict(hostile_config(value, mode))):
        parse_jql(query.jql)
