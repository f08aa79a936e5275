"""The Markdown subset of ticket templates: each construct parses to the right node tree."""

from __future__ import annotations

import re
import time
from dataclasses import fields, is_dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kt_jira.render.adf import to_adf
from kt_jira.render.markdown import MAX_DEPTH, PANEL_KINDS, parse_markdown
from kt_jira.render.nodes import (
    Block,
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


def inline_nodes(source: str) -> tuple[object, ...]:
    """The inline nodes of ``source``, a one-paragraph template."""
    [block] = blocks(source)
    assert isinstance(block, Paragraph)
    return block.content


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
    assert inline_nodes(source) == expected


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


# -- CommonMark's emphasis: what the old hand-written parser got wrong -------------------------

# The ADF marks of each set of node marks (code stands alone in ADF).
ADF_MARKS: dict[frozenset[str], list[dict[str, str]]] = {
    frozenset({"em"}): [{"type": "em"}],
    frozenset({"strong"}): [{"type": "strong"}],
    frozenset({"em", "strong"}): [{"type": "strong"}, {"type": "em"}],
    frozenset({"em", "code"}): [{"type": "code"}],
}


@pytest.mark.parametrize(
    ("source", "expected", "wiki"),
    [
        ("*foo**bar**baz*", (t("foo", "em"), t("bar", "em", "strong"), t("baz", "em")),
         "{_}foo{_}{*}_bar_{*}_baz_"),
        ("*a **b** c*", (t("a ", "em"), t("b", "em", "strong"), t(" c", "em")),
         "_a_ *_b_* _c_"),
        ("**a *b* c**", (t("a ", "strong"), t("b", "em", "strong"), t(" c", "strong")),
         "*a* *_b_* *c*"),
        ("*a `*` b*", (t("a ", "em"), t("*", "em", "code"), t(" b", "em")),
         r"_a_ _{{\*}}_ _b_"),
    ],
)  # fmt: skip
def test_nested_emphasis_follows_commonmark(
    source: str, expected: tuple[Text, ...], wiki: str
) -> None:
    """Emphasis inside emphasis (and a code span holding a star) nests as CommonMark says, with
    nothing lost, in the tree, in ADF and in wiki markup."""
    doc = parse_markdown(source)
    assert doc == Document(content=(Paragraph(content=expected),))
    adf = to_adf(doc)
    validate_adf(adf)
    [paragraph] = adf["content"]
    assert [(node["text"], node.get("marks")) for node in paragraph["content"]] == [
        (node.text, ADF_MARKS[node.marks]) for node in expected
    ]
    assert to_wiki(doc) == wiki


def test_strikethrough() -> None:
    """~~text~~ is struck through; a single ~ is text."""
    assert inline_nodes("~~gone~~ and ~kept~") == (t("gone", "strike"), t(" and ~kept~"))
    assert inline_nodes("**~~both~~**") == (t("both", "strong", "strike"),)


# -- panels -------------------------------------------------------------------------------------


def test_panel_kinds_and_closing() -> None:
    """A kind in any case; the panel interrupts a paragraph, and an unclosed one runs to the
    end."""
    assert blocks("para\n:::Note\ninside\n:::\nafter\n\n::: error\nno end\n\n# still in") == (
        Paragraph(content=(t("para"),)),
        Panel(kind="note", content=(Paragraph(content=(t("inside"),)),)),
        Paragraph(content=(t("after"),)),
        Panel(
            kind="error",
            content=(Paragraph(content=(t("no end"),)), Heading(level=1, content=(t("still in"),))),
        ),
    )


def test_panels_nest_and_count_every_opening_line() -> None:
    """Panels hold panels; any ``:::word`` line (even an unknown kind, which stays text) needs
    its own ``:::`` before the panel around it closes."""
    assert blocks(":::info\n- a\n:::success\nb\n:::\n:::") == (
        Panel(
            kind="info",
            content=(
                BulletList(items=((Paragraph(content=(t("a"),)),),)),
                Panel(kind="success", content=(Paragraph(content=(t("b"),)),)),
            ),
        ),
    )
    assert blocks(":::info\n:::shout\nx\n:::\ny\n:::\nz") == (
        Panel(
            kind="info",
            content=(
                Paragraph(
                    content=(
                        t(":::shout"), HardBreak(), t("x"), HardBreak(), t(":::"), HardBreak(),
                        t("y"),
                    )
                ),
            ),
        ),
        Paragraph(content=(t("z"),)),
    )  # fmt: skip


def test_panel_in_a_list_item_ends_with_the_item() -> None:
    """A panel opened in a list item, indented to the item's text, closes at the item's end."""
    assert blocks("- a\n  :::warning\n  x\n- b") == (
        BulletList(
            items=(
                (
                    Paragraph(content=(t("a"),)),
                    Panel(kind="warning", content=(Paragraph(content=(t("x"),)),)),
                ),
                (Paragraph(content=(t("b"),)),),
            )
        ),
    )


# -- CommonMark beyond the subset ----------------------------------------------------------------


def test_constructs_outside_the_subset_stay_text() -> None:
    """HTML, setext underlines, reference definitions and entities stay as written; an image is
    a ``!`` and a link; four spaces of indentation make no code block."""
    assert inline_nodes("<b>x</b> <!-- c -->") == (t("<b>x</b> <!-- c -->"),)
    assert inline_nodes("Title\n=====") == (t("Title"), HardBreak(), t("====="))
    assert blocks("Title\n---") == (Paragraph(content=(t("Title"),)), Rule())
    assert inline_nodes("[r]: https://ex.com\n[a][r]") == (
        t("[r]: https://ex.com"), HardBreak(), t("[a][r]"),
    )  # fmt: skip
    assert inline_nodes("&amp; &copy; &#42;") == (t("&amp; &copy; &#42;"),)
    assert inline_nodes("![alt](https://ex.com/i.png)") == (
        t("!"), Link(text="alt", href="https://ex.com/i.png"),
    )  # fmt: skip
    assert blocks("    # indented\n\n    - item\n\n    :::info\n    x\n    :::") == (
        Heading(level=1, content=(t("indented"),)),
        BulletList(items=((Paragraph(content=(t("item"),)),),)),
        Panel(kind="info", content=(Paragraph(content=(t("x"),)),)),
    )


def test_line_breaks() -> None:
    """A newline, a backslash before it or two trailing spaces: each is one line break."""
    for source in ("one\ntwo", "one\\\ntwo", "one  \ntwo"):
        assert inline_nodes(source) == (t("one"), HardBreak(), t("two"))


def test_link_targets_are_kept_as_written() -> None:
    """Targets are not percent-encoded or refused here: values inside must survive, and the
    renderers decide which schemes link."""
    assert inline_nodes("[a](https://ex.com/é?q=a b) [b](javascript:x)") == (
        t("[a](https://ex.com/é?q=a b) "),
        Link(text="b", href="javascript:x"),
    )
    assert inline_nodes("[a](<https://ex.com/a b>) <mailto:s@ex.com>") == (
        Link(text="a", href="https://ex.com/a b"),
        t(" "),
        Link(text="mailto:s@ex.com", href="mailto:s@ex.com"),
    )


def test_list_nesting_follows_commonmark_indentation() -> None:
    """A list nests under an item when its marker is indented to the item's text (two spaces
    under ``- ``, three under ``1. ``); less indented, it is a list of its own."""
    [numbered, bullets] = blocks("1. step\n  - detail")
    assert numbered == OrderedList(items=((Paragraph(content=(t("step"),)),),))
    assert bullets == BulletList(items=((Paragraph(content=(t("detail"),)),),))
    assert blocks("- a\n - b\n* c") == (
        BulletList(
            items=(
                (Paragraph(content=(t("a"),)),),
                (Paragraph(content=(t("b"),)),),
                (Paragraph(content=(t("c"),)),),
            )
        ),
    )


def test_a_blank_line_ends_a_list_or_quote() -> None:
    """A line straight after an item's or a quote's paragraph continues it (CommonMark's lazy
    continuation); after a blank line it is a paragraph of its own."""
    assert blocks("- a\nb\n\nc") == (
        BulletList(items=((Paragraph(content=(t("a"), HardBreak(), t("b"))),),)),
        Paragraph(content=(t("c"),)),
    )
    assert blocks("> a\nb\n\nc") == (
        Quote(content=(Paragraph(content=(t("a"), HardBreak(), t("b"))),)),
        Paragraph(content=(t("c"),)),
    )


def test_table_rows_end_at_a_blank_line() -> None:
    """Body rows run to a blank line (a row needs no leading pipe); cells past the header's
    count are dropped, missing ones are empty."""
    assert blocks("| a | b |\n|---|---|\nx\n| y | z | w |\n\nafter") == (
        Table(header=((t("a"),), (t("b"),)), rows=(((t("x"),), ()), ((t("y"),), (t("z"),)))),
        Paragraph(content=(t("after"),)),
    )


# -- values (tokens) ------------------------------------------------------------------------------

V = [f"\ue000{n}\ue001" for n in range(8)]


def test_value_tokens_survive_everywhere() -> None:
    """Tokens are text wherever they sit: emphasis, code, link labels and targets, table
    cells, fences and their language."""
    source = (
        f"**{V[0]}** `{V[1]}` [{V[2]}](https://ex.com/{V[3]}) _{V[4]}_\n\n"
        f"| {V[5]} |\n|---|\n| ~~{V[6]}~~ |\n\n```{V[6]}\n{V[7]}\n```"
    )
    assert blocks(source) == (
        Paragraph(
            content=(
                t(V[0], "strong"), t(" "), t(V[1], "code"), t(" "),
                Link(text=V[2], href=f"https://ex.com/{V[3]}"), t(" "), t(V[4], "em"),
            )
        ),
        Table(header=((t(V[5]),),), rows=(((t(V[6], "strike"),),),)),
        CodeBlock(text=V[7], language=V[6]),
    )  # fmt: skip


def test_a_value_as_the_whole_link_target() -> None:
    """``<{{ url }}>`` and ``[x]({{ url }})``: the value is the target, checked when filled."""
    assert inline_nodes(f"<{V[0]}> <{V[1]}/path> [x]({V[2]})") == (
        Link(text=V[0], href=V[0]),
        t(" "),
        Link(text=f"{V[1]}/path", href=f"{V[1]}/path"),
        t(" "),
        Link(text="x", href=V[2]),
    )


# -- the nesting bound ----------------------------------------------------------------------------


def depth(content: tuple[Block, ...]) -> int:
    """How many containers (quotes, panels, list items) the deepest block is in."""
    deepest = 0
    for block in content:
        if isinstance(block, Quote | Panel):
            deepest = max(deepest, 1 + depth(block.content))
        elif isinstance(block, BulletList | OrderedList):
            deepest = max([deepest, *(1 + depth(item) for item in block.items)])
    return deepest


def innermost(content: tuple[Block, ...]) -> Block:
    """The first block inside the first block of ``content``, all the way down."""
    block = content[0]
    while isinstance(block, Quote | Panel | BulletList | OrderedList):
        block = (
            block.items[0][0] if isinstance(block, BulletList | OrderedList) else block.content[0]
        )
    return block


@pytest.mark.parametrize(
    ("opening", "rest"),
    [("> ", "> " * 11 + ">"), ("- ", "- " * 11 + "-"), ("1. ", "1. " * 11 + "1.")],
)
def test_blocks_deeper_than_the_bound_are_paragraphs(opening: str, rest: str) -> None:
    """Eight containers deep, what is further nested stays text in a paragraph."""
    doc = parse_markdown(opening * 20 + "x")
    assert depth(doc.content) == MAX_DEPTH == 8
    assert innermost(doc.content) == Paragraph(content=(t(rest + " x"),))
    panels = parse_markdown(":::info\n" * 10 + "x")
    assert depth(panels.content) == MAX_DEPTH
    assert innermost(panels.content) == Paragraph(
        content=(t(":::info"), HardBreak(), t(":::info"), HardBreak(), t("x"))
    )


@pytest.mark.parametrize(
    "source",
    [
        ">" * 10_000 + " x",
        "> " * 10_000 + "x",
        "- " * 10_000 + "x",
        "\n".join("  " * n + "- x" for n in range(500)),
        ":::note\n" * 5_000,
        "[" * 10_000,
        "[a](" * 10_000,
        "*a " * 3_000 + "b" + " c*" * 3_000,
        "`" * 10_000 + "a",
        "> - " * 2_500 + ":::info\n" * 100,
    ],
)
def test_pathological_nesting_is_fast_and_bounded(source: str) -> None:
    """Deep nesting of every kind neither exhausts the stack nor takes quadratic time."""
    started = time.perf_counter()
    doc = parse_markdown(source)
    assert time.perf_counter() - started < 5
    assert depth(doc.content) <= MAX_DEPTH
    assert doc.content


# -- properties: nothing of the template is lost --------------------------------------------------

_WORD = st.integers(min_value=0, max_value=999).map(lambda n: f"w{n}")
_VALUE = st.integers(min_value=0, max_value=99).map(lambda n: f"\ue000{n}\ue001")
# No "|": a table row's cells past the header's count are dropped, the one loss by design.
_NOISE = st.sampled_from(["*", "**", "_", "`", "~~", "[", "]", "\\", "<", ">", "!", " "])


def _piece(word: str, form: int) -> str:
    return [
        word, f"*{word}*", f"**{word}**", f"_{word}_", f"`{word}`", f"~~{word}~~",
        f"[{word}](https://ex.com/{word})", f"<https://ex.com/{word}>", f"***{word}***",
    ][form]  # fmt: skip


_LINE = st.lists(
    st.one_of(
        st.tuples(st.one_of(_WORD, _VALUE), st.integers(0, 8)).map(lambda p: _piece(*p)), _NOISE
    ),
    min_size=1,
    max_size=6,
).map(" ".join)
_PREFIX = st.sampled_from(
    ["", "# ", "- ", "  - ", "    - ", "1. ", "> ", "> > ", "| ", "  ", "    ", "\t"]
)
_BLOCK = st.one_of(
    st.tuples(_PREFIX, _LINE).map("".join),
    _LINE.map(lambda line: f"| h |\n|---|\n| {line} |"),
    _LINE.map(lambda line: f"```\n{line}\n```"),
    st.tuples(st.sampled_from(PANEL_KINDS), _LINE).map(lambda p: f":::{p[0]}\n{p[1]}"),
    st.sampled_from([":::", "---", "```", ":::shout"]),
)
_TEMPLATE = st.lists(st.tuples(_BLOCK, st.sampled_from(["\n", "\n\n"])), max_size=12).map(
    lambda parts: "".join(block + gap for block, gap in parts)
)


def all_text(value: object) -> str:
    """Every string in a tree (text, link labels and targets, code and its language)."""
    if isinstance(value, str):
        return value + "\n"
    if isinstance(value, tuple):
        return "".join(all_text(item) for item in value)
    if is_dataclass(value):
        return "".join(all_text(getattr(value, f.name)) for f in fields(value))
    return ""


@settings(max_examples=300, deadline=None)
@given(_TEMPLATE)
def test_every_word_and_value_of_a_template_survives(source: str) -> None:
    """For any template of the subset's pieces: it parses, and every word and every value token
    in it is somewhere in the document, unchanged."""
    text = all_text(parse_markdown(source))
    for found in re.finditer(r"w[0-9]+|\ue000[0-9]+\ue001", source):
        assert found.group() in text, found.group()
