"""The wiki-markup renderer (Jira Data Center): payload text can never become markup."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    paragraph,
    text,
)
from kt_jira.render.wiki import LINE_BREAK, escape, to_wiki, wiki_url
from tests.unit.render.strategies import HOSTILE, clean, documents, hrefs, payload_text

MARKUP = frozenset("*_?-+^~|[]{}!#\\")
EMOTICON = re.compile(
    r"\((?:y|n|i|/|x|!|\+|-|\?|on|off|\*|\*r|\*g|\*b|\*y|flagoff|flag)\)", re.IGNORECASE
)
LINE_KEYWORD = re.compile(r"\s*(?:h[1-6]|bq)\.", re.IGNORECASE)


def unwiki(markup: str) -> str:
    """Read escaped wiki text back to plain text, failing on anything Jira would treat as markup.

    Accepts only: ``\\c`` escapes of punctuation, ``&#N;``/``&amp;`` entities, ``\\\\`` + space
    line breaks and characters with no wiki meaning in their position."""
    out: list[str] = []
    index = 0
    while index < len(markup):
        rest = markup[index:]
        if rest.startswith(LINE_BREAK):
            out.append("\n")
            index += len(LINE_BREAK)
        elif entity := re.match(r"&#([0-9]+);", rest):
            out.append(chr(int(entity.group(1))))
            index += entity.end()
        elif rest.startswith("&amp;"):
            out.append("&")
            index += len("&amp;")
        elif rest.startswith("\\"):
            escaped = rest[1:2]
            assert escaped, f"dangling backslash at the end of {markup!r}"
            assert escaped not in "\\ \t", f"backslash pair or break at {index} in {markup!r}"
            assert not escaped.isalnum(), f"backslash before a letter at {index} in {markup!r}"
            out.append(escaped)
            index += 2
        else:
            ch = rest[0]
            assert ch not in MARKUP, f"unescaped {ch!r} at {index} in {markup!r}"
            assert not (ch == "&" and re.match(r"&#?[A-Za-z0-9]+;", rest)), (
                f"entity-like text left live at {index} in {markup!r}"
            )
            assert not (ch == "(" and EMOTICON.match(rest)), f"emoticon at {index} in {markup!r}"
            assert not (ch in ":;" and rest[1:2] and rest[1] in ")(PpDd"), (
                f"smiley at {index} in {markup!r}"
            )
            assert ch != "\n", f"raw newline at {index} in {markup!r}"
            out.append(ch)
            index += 1
    return "".join(out)


def assert_line_is_plain(line: str) -> None:
    """A physical line must not open with a heading or quote keyword."""
    assert not LINE_KEYWORD.match(line), f"line starts with a block keyword: {line!r}"


def single(doc: Document) -> str:
    """The wiki markup of a one-block document."""
    return to_wiki(doc)


# -- properties: every position -------------------------------------------------------------------


@given(payload_text)
def test_paragraph_text_is_inert(value: str) -> None:
    """Any text as a paragraph reads back exactly, with no markup and no block keyword."""
    markup = single(Document(content=(paragraph(text(value)),)))
    expected = clean(value)
    if not expected.strip():
        assert markup == ""
        return
    assert "\n" not in markup
    assert_line_is_plain(markup)
    assert unwiki(markup) == expected


@given(payload_text)
def test_heading_text_is_inert(value: str) -> None:
    """Any text as a heading stays one heading line whose text reads back exactly."""
    markup = single(Document(content=(Heading(level=3, content=(text(value),)),)))
    if not clean(value).strip():
        assert markup == ""
        return
    assert markup.startswith("h3. ")
    assert unwiki(markup.removeprefix("h3. ")) == clean(value)


@given(payload_text)
def test_list_item_text_is_inert(value: str) -> None:
    """Any text in nested list items stays on its item's line and reads back exactly."""
    doc = Document(
        content=(
            BulletList(
                items=((paragraph(text(value)), OrderedList(items=((paragraph(text(value)),),))),)
            ),
        )
    )
    lines = single(doc).split("\n")
    assert len(lines) == 2
    assert lines[0].startswith("* ")
    assert lines[1].startswith("*# ")
    assert unwiki(lines[0].removeprefix("* ")) == clean(value)
    assert unwiki(lines[1].removeprefix("*# ")) == clean(value)


@given(payload_text, payload_text)
def test_table_cells_are_inert(head: str, cell: str) -> None:
    """Any text in header and body cells stays in its cell and reads back exactly."""
    markup = single(Document(content=(Table(header=((text(head),),), rows=(((text(cell),),),)),)))
    header_line, body_line = markup.split("\n")
    assert header_line.startswith("||")
    assert header_line.endswith("||")
    assert body_line.startswith("|")
    assert body_line.endswith("|")
    head_inner = header_line[2:-2]
    body_inner = body_line[1:-1]
    assert unwiki(head_inner) == (clean(head) or " ")
    assert unwiki(body_inner) == (clean(cell) or " ")


@given(payload_text)
def test_marked_text_is_inert(value: str) -> None:
    """Bold text inside a word gets exactly one pair of markers per line around escaped text."""
    markup = single(
        Document(
            content=(
                paragraph(text("a"), Text(text=value, marks=frozenset({"strong"})), text("b")),
            )
        )
    )
    if not clean(value).strip():
        return
    assert markup.startswith("a")
    assert markup.endswith("b")
    lines = markup[1:-1].split(LINE_BREAK)
    read: list[str] = []
    for line in lines:
        wrapped = re.fullmatch(r"(\s*)(\{\*\}|\*)(.+?)(\{\*\}|\*)(\s*)", line, re.DOTALL)
        if wrapped is None:
            read.append(unwiki(line))
            assert not line.strip(), f"unwrapped text {line!r}"
            continue
        lead, opening, body, closing, trail = wrapped.groups()
        assert opening == closing
        read.append(lead + unwiki(body) + trail)
    assert "\n".join(read) == clean(value)


@given(payload_text, hrefs)
def test_link_text_and_url_are_inert(label: str, href: str) -> None:
    """A link's label is escaped and its URL cannot end the link early or carry a bad scheme."""
    markup = single(Document(content=(paragraph(text("see "), Link(text=label, href=href)),)))
    if not markup:
        return
    link = re.fullmatch(r"see (?:\[(.*)\|([^|\[\]{}\s]+)\]|(.*))", markup, re.DOTALL)
    assert link is not None, markup
    shown, url, plain = link.groups()
    expected_label = (clean(label) or clean(href)).replace("\n", " ")
    if url is None:
        assert unwiki(plain) == expected_label
    else:
        assert re.match(r"(?i)(https?://|mailto:)", url)
        assert unwiki(shown) == expected_label


@given(payload_text)
def test_code_block_cannot_be_closed_by_its_text(value: str) -> None:
    """Code text sits in {code} or {noformat} only when it cannot close them, else it is escaped."""
    markup = single(Document(content=(CodeBlock(text=value, language="py"),)))
    expected = clean(value)
    if markup.startswith("{code:py}\n"):
        inner = markup.removeprefix("{code:py}\n").removesuffix("\n{code}")
        assert "{code" not in inner.lower()
        assert inner == expected
    elif markup.startswith("{noformat}\n"):
        inner = markup.removeprefix("{noformat}\n").removesuffix("\n{noformat}")
        assert "{noformat" not in inner.lower()
        assert inner == expected
    else:
        pieces = markup.split(LINE_BREAK)
        for piece in pieces:
            assert piece == "" or (piece.startswith("{{") and piece.endswith("}}")), piece
        assert "\n".join(unwiki(piece[2:-2]) for piece in pieces) == expected


@settings(max_examples=150, deadline=None)
@given(documents)
def test_any_document_renders(doc: Document) -> None:
    """Any tree, however nested, renders without error and without control characters."""
    markup = to_wiki(doc)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]", markup)
    assert to_wiki(doc) == markup


# -- examples ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hostile", "expected"),
    [
        ("[x|http://evil]", r"\[x\|http://evil\]"),
        ("{color:red}x{color}", r"\{color:red\}x\{color\}"),
        ("*bold*", r"\*bold\*"),
        ("h1. Big", "&#104;1. Big"),
        ("  bq. quoted", "  &#98;q. quoted"),
        ("|cell|", r"\|cell\|"),
        ("||head||", r"\|\|head\|\|"),
        ("!image.png!", r"\!image.png\!"),
        ("----", r"\-\-\-\-"),
        ("# one", r"\# one"),
        ("C:\\temp\\*", r"C:&#92;temp&#92;\*"),
        ("a\nh2. b", r"a\\ h2. b"),
        ("(y) :) ;P", r"\(y) \:) \;P"),
        ("&amp; & &#42;", r"&amp;amp; & &amp;\#42;"),
        ("x\x00\x1by", "xy"),
    ],
)
def test_hostile_paragraphs(hostile: str, expected: str) -> None:
    """Known injection attempts render as literal text on Data Center."""
    assert to_wiki(Document(content=(paragraph(text(hostile)),))) == expected


def test_rejected_link_at_line_start_cannot_open_a_heading() -> None:
    """A link shown as plain text (bad scheme) at the start of a line is defused like text."""
    doc = Document(content=(paragraph(Link(text="h1. Big", href="javascript:alert(1)")),))
    assert to_wiki(doc) == "&#104;1. Big"


@pytest.mark.parametrize(
    "markup", ["*bold*", "a\\b", "a\\\\b", "[x|y]", "(y)", ":)", "&lt;x", "a\nb", "\\"]
)
def test_checker_rejects_live_markup(markup: str) -> None:
    """The test checker itself refuses text that Jira would read as markup."""
    with pytest.raises(AssertionError):
        unwiki(markup)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_catalogue_reads_back(hostile: str) -> None:
    """Every string in the hostile catalogue is escaped and reads back to itself."""
    assert unwiki(escape(hostile)) == clean(hostile)


def test_marks() -> None:
    """Strong, em and code map to *x*, _x_ and {{x}}; inside a word the {*} form is used."""
    doc = Document(
        content=(
            paragraph(
                Text(text="bold", marks=frozenset({"strong"})),
                text(" and "),
                Text(text=" em ", marks=frozenset({"em"})),
                text("-"),
                Text(text="code*", marks=frozenset({"code"})),
                text(" in"),
                Text(text="side", marks=frozenset({"strong"})),
            ),
        )
    )
    assert to_wiki(doc) == r"*bold* and  _em_ \-{{code\*}} in{*}side{*}"


def test_strike_mark() -> None:
    """Strikethrough is -x- (its own dashes as entities), {-}x{-} inside a word, and inside
    strong or em their markers stay outermost."""
    doc = Document(
        content=(
            paragraph(
                Text(text="gone-now", marks=frozenset({"strike"})),
                text(" a"),
                Text(text="b", marks=frozenset({"strike"})),
                text("c "),
                Text(text="both", marks=frozenset({"strike", "strong"})),
            ),
        )
    )
    assert to_wiki(doc) == r"-gone&#45;now- a{-}b{-}c *-both-*"


def test_links() -> None:
    """Links escape their label, percent-encode URL breakers and drop unsafe schemes."""
    doc = Document(
        content=(
            paragraph(
                Link(text="a|b]c", href="https://ex.com/p|q]r{s}!"),
                text(" "),
                Link(text="x", href="javascript:alert(1)"),
                text(" "),
                Link(text="", href="mailto:sec@example.com"),
            ),
        )
    )
    assert to_wiki(doc) == (
        r"[a\|b\]c|https://ex.com/p%7Cq%5Dr%7Bs%7D%21] x "
        r"[mailto:sec@example.com|mailto:sec@example.com]"
    )


def test_wiki_url() -> None:
    """wiki_url keeps query syntax, encodes non-ASCII and refuses non-web schemes."""
    assert wiki_url("https://ex.com/a?b=1&c=2#f") == "https://ex.com/a?b=1&c=2#f"
    assert wiki_url("https://ex.com/é") == "https://ex.com/%C3%A9"
    assert wiki_url("file:///etc/passwd") is None


def test_blocks_layout() -> None:
    """Headings, lists, tables, code, panels, quotes and rules use Jira's block syntax."""
    doc = Document(
        content=(
            Heading(level=2, content=(text("Escalation"),)),
            BulletList(
                items=(
                    (paragraph(text("one")), OrderedList(items=((paragraph(text("nested")),),))),
                    (paragraph(text("two")), paragraph(text("more"))),
                )
            ),
            Table(header=((text("Field"),), (text("Value"),)), rows=(((text("policy"),),),)),
            CodeBlock(text="x = 1", language="python"),
            Panel(kind="warning", content=(paragraph(text("careful")),)),
            Quote(content=(paragraph(text("said")),)),
            Rule(),
        )
    )
    assert to_wiki(doc) == "\n\n".join(
        [
            "h2. Escalation",
            "* one\n*# nested\n* two\\\\ more",
            "||Field||Value||\n|policy| |",
            "{code:python}\nx = 1\n{code}",
            "{panel:borderStyle=solid|borderColor=#ffab00|bgColor=#fffae6}\ncareful\n{panel}",
            "{quote}\nsaid\n{quote}",
            "----",
        ]
    )


def test_nested_containers_are_flattened() -> None:
    """Panels and quotes do not nest in wiki markup, and list items hold one line."""
    doc = Document(
        content=(
            Quote(content=(Panel(kind="info", content=(paragraph(text("inner")),)),)),
            BulletList(
                items=(
                    (
                        Heading(level=1, content=(text("Title"),)),
                        CodeBlock(text="a\nb"),
                        Table(header=((text("k"),),), rows=(((text("v"),),),)),
                        Rule(),
                        Quote(content=(paragraph(text("q")),)),
                    ),
                )
            ),
        )
    )
    assert to_wiki(doc) == "\n\n".join(
        [
            "{quote}\ninner\n{quote}",
            "* *Title*\\\\ {{a}}\\\\ {{b}}\\\\ *k*\\\\ v\\\\ q",
        ]
    )


def test_code_block_fallbacks() -> None:
    """Code that mentions {code} uses {noformat}; code that mentions both is escaped monospace."""
    only_code = to_wiki(Document(content=(CodeBlock(text="{code}x", language="bad}lang|"),)))
    assert only_code == "{noformat}\n{code}x\n{noformat}"
    both = to_wiki(Document(content=(CodeBlock(text="{code}\n\n{noformat}"),)))
    assert both == "{{&#123;code&#125;}}\\\\ \\\\ {{&#123;noformat&#125;}}"
    language = to_wiki(Document(content=(CodeBlock(text="x", language="c#}|x=1"),)))
    assert language == "{code:c#x1}\nx\n{code}"


def test_hard_breaks_and_empty_blocks() -> None:
    """Hard breaks are \\\\ line breaks; empty paragraphs, headings and tables leave nothing."""
    doc = Document(
        content=(
            paragraph(text("a"), HardBreak(), text("*b")),
            Paragraph(content=()),
            Heading(level=1, content=()),
            Table(header=(), rows=()),
            BulletList(items=()),
        )
    )
    assert to_wiki(doc) == r"a\\ \*b"


@given(st.text())
def test_escape_never_leaves_a_bare_backslash(value: str) -> None:
    """A backslash from the payload is always an entity, so it can never escape our markup."""
    escaped = escape(value)
    stripped = escaped.replace(LINE_BREAK, "")
    assert not re.search(r"\\(?![*_?\-+^~|\[\]{}!#(:;])", stripped)
