"""The Markdown subset of ticket templates: each construct parses to the right node tree."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kt_jira.render.adf import to_adf
from kt_jira.render.markdown import parse_markdown
from kt_jira.render.markdown_inline import parse_inlines
from kt_jira.render.nodes import (
    BulletList,
    CodeBlock,
    Document,
    HardBreak,
    Heading,
    Link,
    OrderedList,
    Panel,
    Paragraph,
    Quote,
    Rule,
    Table,
    Text,
)
from kt_jira.render.wiki import to_wiki
from tests.support.contracts import validate_adf

STRONG = frozenset({"strong"})
EM = frozenset({"em"})


def t(value: str, *marks: str) -> Text:
    """A text node with the given marks."""
    return Text(text=value, marks=frozenset(marks))  # type: ignore[arg-type]


def blocks(source: str) -> tuple[object, ...]:
    """The top-level blocks of ``source``."""
    return parse_markdown(source).content


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("plain words", (t("plain words"),)),
        ("**bold** and *em* and _em_", (t("bold", "strong"), t(" and "), t("em", "em"),
                                        t(" and "), t("em", "em"))),
        ("***both***", (t("both", "strong", "em"),)),
        ("`a *b* c`", (t("a *b* c", "code"),)),
        ("``x ` y``", (t("x ` y", "code"),)),
        ("snake_case_name", (t("snake_case_name"),)),
        (r"\*not em\* \[x\]", (t("*not em* [x]"),)),
        ("a * b * c", (t("a * b * c"),)),
        ("**unclosed", (t("**unclosed"),)),
        ("`unclosed", (t("`unclosed"),)),
        ("[site](https://ex.com/a_(b))", (Link(text="site", href="https://ex.com/a_(b)"),)),
        ("[**x**](https://ex.com \"title\")", (Link(text="x", href="https://ex.com"),)),
        ("<https://ex.com/x>", (Link(text="https://ex.com/x", href="https://ex.com/x"),)),
        ("<b>not html</b>", (t("<b>not html</b>"),)),
        ("one\ntwo", (t("one"), HardBreak(), t("two"))),
        ("**a\nb**", (t("a", "strong"), HardBreak(), t("b", "strong"))),
    ],
)  # fmt: skip
def test_inline_syntax(source: str, expected: tuple[object, ...]) -> None:
    """Strong, em, code, links, escapes and line breaks; anything malformed stays text."""
    assert parse_inlines(source) == expected


def test_headings_rules_and_paragraphs() -> None:
    """ATX headings 1-6, --- rules, blank lines between paragraphs, newlines as line breaks."""
    assert blocks("# One\n###### Six ##\n#no\n\n---\nline a\nline b\n\nnext") == (
        Heading(level=1, content=(t("One"),)),
        Heading(level=6, content=(t("Six"),)),
        Paragraph(content=(t("#no"),)),
        Rule(),
        Paragraph(content=(t("line a"), HardBreak(), t("line b"))),
        Paragraph(content=(t("next"),)),
    )


def test_lists_with_one_nested_level() -> None:
    """Bullets and numbers; an item's indented lines (and a nested list) belong to it."""
    source = "- a\n  - a1\n  - a2\n- b\n  more b\n\n1. one\n2) two\n\n3. three"
    assert blocks(source) == (
        BulletList(
            items=(
                (
                    Paragraph(content=(t("a"),)),
                    BulletList(
                        items=((Paragraph(content=(t("a1"),)),), (Paragraph(content=(t("a2"),)),))
                    ),
                ),
                (Paragraph(content=(t("b"), HardBreak(), t("more b"))),),
            )
        ),
        OrderedList(
            items=(
                (Paragraph(content=(t("one"),)),),
                (Paragraph(content=(t("two"),)),),
                (Paragraph(content=(t("three"),)),),
            )
        ),
    )


def test_numbered_list_holding_bullets() -> None:
    """A bullet list under a numbered item, indented to the item's text, nests in it."""
    [numbered] = blocks("1. step\n   - detail\n2. next")
    assert isinstance(numbered, OrderedList)
    assert isinstance(numbered.items[0][1], BulletList)
    assert len(numbered.items) == 2


def test_pipe_table() -> None:
    """A header row, a |---| separator, body rows; escaped pipes stay in their cell."""
    [table] = blocks("| Field | Value |\n|:---|---:|\n| a \\| b | **x** |\n| short |")
    assert table == Table(
        header=((t("Field"),), (t("Value"),)),
        rows=(((t("a | b"),), (t("x", "strong"),)), ((t("short"),), ())),
    )


def test_pipes_without_separator_are_text() -> None:
    """Without the separator line, pipes are just text."""
    assert blocks("| a | b |") == (Paragraph(content=(t("| a | b |"),)),)


def test_code_fences_keep_their_text() -> None:
    """Fenced code keeps its text verbatim (no Markdown inside) and its language."""
    assert blocks("```python\nx = *1*\n  # y\n```\nafter") == (
        CodeBlock(text="x = *1*\n  # y", language="python"),
        Paragraph(content=(t("after"),)),
    )
    assert blocks("~~~\nunclosed") == (CodeBlock(text="unclosed", language=""),)


def test_quotes_and_panels() -> None:
    """> quotes and :::kind panels hold blocks; unknown panel kinds stay text."""
    source = "> quoted **b**\n> - item\n\n:::warning\nCareful\n:::\n\n:::shout\nx\n:::"
    assert blocks(source) == (
        Quote(
            content=(
                Paragraph(content=(t("quoted "), t("b", "strong"))),
                BulletList(items=((Paragraph(content=(t("item"),)),),)),
            )
        ),
        Panel(kind="warning", content=(Paragraph(content=(t("Careful"),)),)),
        Paragraph(content=(t(":::shout"), HardBreak(), t("x"), HardBreak(), t(":::"))),
    )


def test_deep_nesting_is_bounded() -> None:
    """Pathological nesting (quotes in quotes, emphasis in emphasis) parses without recursion
    errors."""
    deep_quote = "> " * 200 + "x"
    deep_em = "*a " * 300 + "b" + " c*" * 300
    assert parse_markdown(deep_quote).content
    assert parse_markdown(deep_em).content


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab #*_`[]()<>|-:>!\\\n 1.~")), max_size=120))
def test_any_text_parses_to_valid_output(source: str) -> None:
    """Any Markdown-ish text parses, renders to schema-valid ADF and to wiki markup."""
    doc = parse_markdown(source)
    validate_adf(to_adf(doc))
    assert not re.search(r"[\x00-\x08\x0b-\x1f]", to_wiki(doc))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_parses(source: str) -> None:
    """Arbitrary Unicode (controls, surrogates, RTL) parses and renders to valid ADF."""
    validate_adf(to_adf(parse_markdown(source)))


def test_parse_is_a_document() -> None:
    """The empty template is an empty document."""
    assert parse_markdown("") == Document(content=())
