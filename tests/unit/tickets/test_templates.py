"""Ticket templates: escalation values are text in every output, whatever they contain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kt_jira.config.models import Settings
from kt_jira.errors import ConfigError
from kt_jira.events.keeptrusts import Escalation
from kt_jira.render.adf import to_adf
from kt_jira.render.nodes import (
    Document,
    HardBreak,
    Heading,
    Link,
    OrderedList,
    Paragraph,
    Table,
    Text,
    text,
)
from kt_jira.render.truncate import TRUNCATION_MARKER, text_length
from kt_jira.tickets.rules import decide
from kt_jira.tickets.sla import deadlines
from kt_jira.tickets.templates import (
    DEFAULT_DESCRIPTION,
    DEFAULT_SUMMARY,
    render_document,
    render_text,
    syntax_problem,
    template_context,
)
from tests.support.contracts import validate_adf

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CLOCK = deadlines(
    started_at=NOW, first_response=timedelta(minutes=15), resolution=timedelta(hours=1)
)
CONSOLE = "https://console.keeptrusts.com/escalations/esc_1"


def escalation(**overrides: Any) -> Escalation:
    """A sample escalation with every field set."""
    base: dict[str, Any] = {
        "escalation_id": "esc_1",
        "policy_name": "pii-detector",
        "action": "block",
        "model": "gpt-4o",
        "gateway_id": "gw_1",
        "user_id": "u_1",
        "org_id": "org_1",
        "severity": "high",
        "category": "",
        "occurred_at": NOW,
    }
    base.update(overrides)
    return Escalation(**base)


def context(esc: Escalation | None = None, **overrides: Any) -> dict[str, Any]:
    """The template context for ``esc`` (the sample by default)."""
    values: dict[str, Any] = {
        "category": "Content safety",
        "category_source": "payload",
        "rule": "block",
        "console_url": CONSOLE,
        "deadlines": CLOCK,
        "project": "AIGOV",
        "issue_type": "Bug",
        "priority": "Highest",
    }
    values.update(overrides)
    return template_context(esc or escalation(), **values)


def doc(source: str, esc: Escalation | None = None, **overrides: Any) -> Document:
    """``source`` rendered as a document for ``esc``."""
    return render_document(source, context(esc, **overrides), where="test")


# -- the default templates ------------------------------------------------------------------


def test_default_description_is_the_guides_tree() -> None:
    """The default template gives exactly the guide's table, console link and five steps."""
    rows = [
        ("Policy", "pii-detector"),
        ("Category", "Content safety"),
        ("Action", "block"),
        ("Severity", "high"),
        ("Model", "gpt-4o"),
        ("Gateway", "gw_1"),
        ("User", "u_1"),
        ("Time", NOW.isoformat()),
        ("Escalation ID", "esc_1"),
        ("Resolution due", "2026-11-26T13:00+00:00"),
    ]
    steps = (
        "Open the console link above",
        "Review the event context and conversation history",
        "Determine if the violation is genuine or a false positive",
        "Update this ticket with findings",
        "Resolve the escalation in Keeptrusts",
    )
    expected = Document(
        content=(
            Heading(level=2, content=(text("AI Governance Escalation"),)),
            Table(
                header=((text("Field"),), (text("Value"),)),
                rows=tuple(((text(k),), (text(v),)) for k, v in rows),
            ),
            Paragraph(content=(Link(text="View in Keeptrusts Console", href=CONSOLE),)),
            Heading(level=3, content=(text("Investigation Steps"),)),
            OrderedList(items=tuple((Paragraph(content=(text(s),)),) for s in steps)),
        )
    )
    assert doc(DEFAULT_DESCRIPTION) == expected


def test_default_description_marks_empty_values_and_skips_missing_deadline() -> None:
    """Empty payload fields show as an em dash; without a resolution deadline there is no row."""
    sparse = Escalation(escalation_id="esc_2")
    clock = deadlines(started_at=NOW, first_response=None, resolution=None)
    rendered = doc(DEFAULT_DESCRIPTION, sparse, deadlines=clock, category="")
    table = rendered.content[1]
    assert isinstance(table, Table)
    cells = {row[0][0].text: row[1][0].text for row in table.rows}  # type: ignore[union-attr]
    assert cells["Policy"] == "—"
    assert cells["Time"] == "—"
    assert "Resolution due" not in cells


def test_default_summary() -> None:
    """The default summary is the guide's one line."""
    summary = render_text(DEFAULT_SUMMARY, context(), where="test")
    assert summary == "AI Escalation: pii-detector — block (gpt-4o)"


# -- values stay text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "**x** [a](http://evil)",
        "{{ 7*7 }}",
        "{% raw %}{{ x }}{% endraw %}",
        "# heading\n- item\n| a | b |\n|---|---|",
        "```\ncode\n```",
        ":::error\npanel\n:::",
        "\ue0000\ue001 forged token",
    ],
)
def test_markdown_and_jinja_in_values_stay_literal(hostile: str) -> None:
    """A value that looks like Markdown, Jinja or a token is one text node, exactly as sent
    (less the token characters)."""
    rendered = doc("Policy: **{{ escalation.policy_name }}**", escalation(policy_name=hostile))
    expected = hostile.replace("\ue000", "").replace("\ue001", "")
    strong = Text(text=expected, marks=frozenset({"strong"}))
    assert rendered == Document(content=(Paragraph(content=(Text(text="Policy: "), strong)),))


def test_expression_output_is_text_even_from_the_template() -> None:
    """Even a literal in an expression is text: structure comes only from template text."""
    rendered = doc('{{ "**not bold**" }}')
    assert rendered == Document(content=(Paragraph(content=(Text(text="**not bold**"),)),))


def test_macros_and_set_blocks_give_text() -> None:
    """Output built by a macro or a set block is text, so values inside cannot become markup."""
    source = (
        "{% macro row(v) %}| {{ v }} |{% endmacro %}{{ row(escalation.policy_name) }}\n"
        "{% set x %}**{{ escalation.model }}**{% endset %}{{ x }}"
    )
    rendered = doc(source, escalation(policy_name="[a](http://evil)"))
    assert rendered == Document(
        content=(
            Paragraph(
                content=(
                    Text(text="| [a](http://evil) |"),
                    HardBreak(),
                    Text(text="**gpt-4o**"),
                )
            ),
        )
    )


def test_links_take_values_only_as_checked_targets() -> None:
    """A value opening a link target must be http(s); later values are percent-encoded."""
    source = (
        "[Console]({{ console_url }}) [Open](https://c.example/e/{{ escalation.escalation_id }})"
    )
    [paragraph] = doc(source, escalation(escalation_id="a/../b c?d")).content
    assert isinstance(paragraph, Paragraph)
    assert paragraph.content == (
        Link(text="Console", href=CONSOLE),
        Text(text=" "),
        Link(text="Open", href="https://c.example/e/a%2F..%2Fb%20c%3Fd"),
    )
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.example", "mailto:x@y.z"):
        [paragraph] = doc("[{{ escalation.model }}]({{ escalation.policy_name }})",
                          escalation(policy_name=bad, model="label")).content  # fmt: skip
        assert paragraph == Paragraph(content=(Text(text="label"),))


def test_autolink_of_a_value() -> None:
    """<{{ url }}> links a value only when it is an http(s) URL, else shows it as text."""
    good = doc("<{{ console_url }}>")
    assert good.content == (Paragraph(content=(Link(text=CONSOLE, href=CONSOLE),)),)
    bad = doc("<{{ console_url }}>", console_url="javascript:alert(1)")
    assert bad.content == (Paragraph(content=(Text(text="javascript:alert(1)"),)),)


def test_long_values_are_truncated_with_the_marker() -> None:
    """A description over Jira's limit is cut, ending with the visible truncation marker."""
    rendered = doc("{{ escalation.policy_name }}", escalation(policy_name="x" * 40000))
    assert text_length(rendered) <= 32767
    last = rendered.content[-1]
    assert last == Paragraph(content=(Text(text=TRUNCATION_MARKER),))
    validate_adf(to_adf(rendered))


# -- errors ---------------------------------------------------------------------------------


def test_undefined_names_fail_with_where_and_line() -> None:
    """An unknown variable is an error naming the template and its line, not an empty string."""
    with pytest.raises(ConfigError, match=r"rule 'x' set\.summary: template line 2: .*nope"):
        render_text("ok\n{{ escalation.nope }}", context(), where="rule 'x' set.summary")


@pytest.mark.parametrize(
    "source", ["{{ escalation.__class__ }}", "{{ ''.__class__.__mro__ }}", "{{ range(10**9) }}"]
)
def test_the_sandbox_refuses_unsafe_access(source: str) -> None:
    """Templates run sandboxed: internals and huge ranges are refused with a ConfigError."""
    with pytest.raises(ConfigError, match="fix the template"):
        render_text(source, context(), where="t")


def test_syntax_problems_name_the_line() -> None:
    """A syntax error or unknown filter is reported with its line."""
    expected = "line 2: Expected an expression, got 'end of statement block'"
    assert syntax_problem("a\n{% if %}") == expected
    assert syntax_problem("{{ x | nofilter }}") == "line 1: No filter named 'nofilter'"
    assert syntax_problem(DEFAULT_DESCRIPTION) is None


def test_lone_surrogates_in_values_do_not_break_rendering() -> None:
    """Lone surrogates (valid in JSON, not in UTF-8) in ids and link values render safely."""
    esc = escalation(escalation_id="esc\ud800", policy_name="p\udc00", model="m\ud800")
    decision = decide(esc, Settings().content, received_at=NOW)
    console = decision.draft.fields["Console URL"]
    assert console == "https://console.keeptrusts.com/escalations/esc%3F"
    rendered = doc("[x](https://e.example/{{ escalation.model }})", esc)
    assert rendered.content == (
        Paragraph(content=(Link(text="x", href="https://e.example/m%3F"),)),
    )
    validate_adf(to_adf(decision.draft.description))
