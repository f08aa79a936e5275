"""The ADF renderer: schema-valid output for any input, payload text kept inert and intact."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kt_jira.render.adf import to_adf
from kt_jira.render.nodes import (
    BulletList,
    CodeBlock,
    Document,
    HardBreak,
    Heading,
    Link,
    OrderedList,
    Panel,
    Quote,
    Rule,
    Table,
    Text,
    paragraph,
    text,
)
from kt_jira.render.truncate import text_length, truncate_document
from tests.support.contracts import validate_adf
from tests.unit.render.strategies import HOSTILE, clean, documents, hrefs, payload_text

# Schema validation of big documents is slow (~0.1 s); these budgets keep the file under 20 s.
SLOW = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOWER = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def visible_text(node: Any) -> str:
    """The text a reader sees in an ADF tree: text nodes, with hard breaks as newlines."""
    if isinstance(node, list):
        return "".join(visible_text(child) for child in node)
    if node.get("type") == "text":
        return str(node["text"])
    if node.get("type") == "hardBreak":
        return "\n"
    return visible_text(node.get("content", []))


def nodes_of(node: Any, kind: str) -> list[dict[str, Any]]:
    """Every node of one type in an ADF tree."""
    if isinstance(node, list):
        return [found for child in node for found in nodes_of(child, kind)]
    found = [node] if node.get("type") == kind else []
    return found + nodes_of(node.get("content", []), kind)


CONSOLE = "https://console.keeptrusts.com/e/1"


def every_position(value: str) -> tuple[Document, int]:
    """A document holding ``value`` in every position a payload string can take, and how often
    it appears after the link with a fixed href (five times before it)."""
    v = value
    doc = Document(
        content=(
            Heading(level=2, content=(text(v),)),
            paragraph(text(v)),
            paragraph(
                Text(text=v, marks=frozenset({"strong"})),
                Text(text=v, marks=frozenset({"em", "strong"})),
                Text(text=v, marks=frozenset({"code", "strong"})),
            ),
            paragraph(Link(text=v, href=CONSOLE)),
            paragraph(Link(text=v, href=v)),
            BulletList(
                items=(
                    (paragraph(text(v)),),
                    (paragraph(text(v)), OrderedList(items=((paragraph(text(v)),),))),
                )
            ),
            Table(header=((text(v),),), rows=(((text(v),),),)),
            CodeBlock(text=v, language="python"),
            Panel(kind="warning", content=(paragraph(text(v)),)),
            Quote(content=(paragraph(text(v)),)),
        )
    )
    return doc, 9


# -- properties -------------------------------------------------------------------------------


@SLOWER
@given(payload_text)
def test_any_text_in_every_position_is_valid_and_intact(value: str) -> None:
    """Arbitrary text anywhere gives schema-valid ADF whose visible text is exactly that text."""
    doc, count = every_position(value)
    adf = to_adf(doc)
    validate_adf(adf)
    cleaned = clean(value)
    link_label = cleaned or CONSOLE
    text_before_link = cleaned * 5
    assert visible_text(adf) == text_before_link + link_label + cleaned * count


@SLOW
@given(documents)
def test_any_document_renders_to_valid_adf(doc: Document) -> None:
    """Any tree, however nested (tables in lists, panels in quotes, ...), gives valid ADF."""
    adf = to_adf(doc)
    validate_adf(adf)
    json.dumps(adf, ensure_ascii=False).encode("utf-8")  # serialisable, no lone surrogates


@SLOW
@given(documents, st.integers(min_value=0, max_value=400))
def test_truncated_documents_stay_valid(doc: Document, limit: int) -> None:
    """A truncated document is within its limit and still renders to valid ADF."""
    cut = truncate_document(doc, limit)
    assert text_length(cut) <= limit
    validate_adf(to_adf(cut))


@settings(max_examples=80, deadline=None)
@given(hrefs)
def test_only_web_and_mail_links_become_link_marks(href: str) -> None:
    """A link mark is made only for http, https and mailto hrefs; others stay plain text."""
    adf = to_adf(Document(content=(paragraph(Link(text="label", href=href)),)))
    validate_adf(adf)
    for node in nodes_of(adf["content"], "text"):
        for mark in node.get("marks", []):
            assert mark["type"] == "link"
            scheme = mark["attrs"]["href"].split(":", 1)[0].lower()
            assert scheme in {"http", "https", "mailto"}


# -- examples ---------------------------------------------------------------------------------


def test_minimal_document() -> None:
    """A paragraph of text renders to the canonical minimal ADF document."""
    adf = to_adf(Document(content=(paragraph(text("hello")),)))
    assert adf == {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hello"}]}],
    }


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_stay_text(hostile: str) -> None:
    """Markup-looking payloads (wiki, ADF JSON, Jinja) are one plain text node, never structure."""
    adf = to_adf(Document(content=(paragraph(text(hostile)),)))
    validate_adf(adf)
    assert visible_text(adf) == clean(hostile)
    assert all("marks" not in node for node in nodes_of(adf["content"], "text"))


def test_code_mark_drops_other_marks() -> None:
    """ADF forbids code with strong/em, so code wins and the others are dropped."""
    adf = to_adf(
        Document(content=(paragraph(Text(text="x", marks=frozenset({"code", "strong"}))),))
    )
    assert adf["content"][0]["content"] == [
        {"type": "text", "text": "x", "marks": [{"type": "code"}]}
    ]


def test_strong_and_em_marks() -> None:
    """Strong and em are emitted in a stable order."""
    adf = to_adf(Document(content=(paragraph(Text(text="x", marks=frozenset({"em", "strong"}))),)))
    assert adf["content"][0]["content"][0]["marks"] == [{"type": "strong"}, {"type": "em"}]


def test_strike_mark() -> None:
    """Strikethrough is ADF's strike mark, after strong and em; with code, code alone stays."""
    adf = to_adf(
        Document(content=(paragraph(Text(text="x", marks=frozenset({"strike", "em", "strong"}))),))
    )
    assert adf["content"][0]["content"][0]["marks"] == [
        {"type": "strong"},
        {"type": "em"},
        {"type": "strike"},
    ]
    validate_adf(adf)
    coded = to_adf(
        Document(content=(paragraph(Text(text="x", marks=frozenset({"code", "strike"}))),))
    )
    assert coded["content"][0]["content"][0]["marks"] == [{"type": "code"}]


def test_link_mark_and_rejected_scheme() -> None:
    """Web links get a link mark, javascript: stays plain text, an empty label shows the href."""
    adf = to_adf(
        Document(
            content=(
                paragraph(
                    Link(text="console", href="https://console.keeptrusts.com/e/1"),
                    Link(text="click", href="javascript:alert(1)"),
                    Link(text="", href="mailto:sec@example.com"),
                ),
            )
        )
    )
    assert adf["content"][0]["content"] == [
        {
            "type": "text",
            "text": "console",
            "marks": [{"type": "link", "attrs": {"href": "https://console.keeptrusts.com/e/1"}}],
        },
        {"type": "text", "text": "click"},
        {
            "type": "text",
            "text": "mailto:sec@example.com",
            "marks": [{"type": "link", "attrs": {"href": "mailto:sec@example.com"}}],
        },
    ]


def test_newlines_become_hard_breaks_and_controls_vanish() -> None:
    """In a paragraph, newlines become hardBreak nodes; control characters are removed."""
    adf = to_adf(Document(content=(paragraph(text("a\r\nb\x00c\n"), HardBreak()),)))
    assert adf["content"][0]["content"] == [
        {"type": "text", "text": "a"},
        {"type": "hardBreak"},
        {"type": "text", "text": "bc"},
        {"type": "hardBreak"},
        {"type": "hardBreak"},
    ]


def test_empty_text_is_dropped_and_empty_paragraph_allowed() -> None:
    """Empty text nodes are never emitted; a paragraph may be empty."""
    adf = to_adf(Document(content=(paragraph(text(""), text("\x00")),)))
    assert adf["content"] == [{"type": "paragraph", "content": []}]
    validate_adf(adf)


def test_code_block_keeps_newlines_and_language() -> None:
    """A code block keeps its lines and sets the language only when there is one."""
    adf = to_adf(Document(content=(CodeBlock(text="a\nb", language="json"), CodeBlock(text=""))))
    assert adf["content"] == [
        {
            "type": "codeBlock",
            "attrs": {"language": "json"},
            "content": [{"type": "text", "text": "a\nb"}],
        },
        {"type": "codeBlock", "content": []},
    ]


def test_table_is_padded_with_header_row() -> None:
    """Header cells become tableHeader, ragged rows are padded, every cell holds a paragraph."""
    adf = to_adf(
        Document(
            content=(
                Table(
                    header=((text("Field"),), (text("Value"),)),
                    rows=(((text("policy"),),),),
                ),
            )
        )
    )
    validate_adf(adf)
    rows = adf["content"][0]["content"]
    assert [cell["type"] for cell in rows[0]["content"]] == ["tableHeader", "tableHeader"]
    assert [cell["type"] for cell in rows[1]["content"]] == ["tableCell", "tableCell"]
    assert rows[1]["content"][1]["content"] == [{"type": "paragraph", "content": []}]


def test_empty_table_and_list_are_dropped() -> None:
    """Tables without cells and lists without items disappear instead of breaking the schema."""
    adf = to_adf(Document(content=(Table(header=(), rows=((),)), BulletList(items=()))))
    assert adf["content"] == []


def test_list_item_opens_with_a_paragraph() -> None:
    """A list item that starts with a code block or nested list gets an empty paragraph first."""
    adf = to_adf(
        Document(
            content=(
                OrderedList(
                    items=(
                        (CodeBlock(text="x"),),
                        (BulletList(items=((paragraph(text("y")),),)),),
                        (),
                    )
                ),
            )
        )
    )
    validate_adf(adf)
    items = adf["content"][0]["content"]
    assert adf["content"][0]["attrs"] == {"order": 1}
    assert [item["content"][0]["type"] for item in items] == ["paragraph"] * 3


def test_forbidden_nesting_is_lowered() -> None:
    """Headings, tables, panels and rules inside lists or quotes are lowered, keeping their text."""
    doc = Document(
        content=(
            Quote(
                content=(
                    Heading(level=1, content=(text("Title"),)),
                    Rule(),
                    Panel(kind="note", content=(paragraph(text("inner")),)),
                    Table(
                        header=((text("k"),), (text("v"),)), rows=(((text("a"),), (text("b"),)),)
                    ),
                )
            ),
            BulletList(items=((Quote(content=(paragraph(text("q")),)),),)),
        )
    )
    adf = to_adf(doc)
    validate_adf(adf)
    quote = adf["content"][0]
    assert [child["type"] for child in quote["content"]] == ["paragraph"] * 4
    assert quote["content"][0]["content"][0]["marks"] == [{"type": "strong"}]
    assert visible_text(quote) == "Titleinnerk | va | b"
    assert visible_text(adf["content"][1]) == "q"


def test_heading_level_is_clamped_and_panel_kinds_map() -> None:
    """Out-of-range heading levels are clamped to 1..6; panel kinds pass through."""
    adf = to_adf(
        Document(
            content=(
                Heading(level=9, content=(text("h"),)),
                Panel(kind="success", content=()),
            )
        )
    )
    validate_adf(adf)
    assert adf["content"][0]["attrs"] == {"level": 6}
    assert adf["content"][1]["attrs"] == {"panelType": "success"}
