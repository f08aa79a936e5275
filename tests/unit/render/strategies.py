"""Hypothesis strategies for hostile payload text and arbitrary document trees."""

from __future__ import annotations

import unicodedata

from hypothesis import strategies as st

from kt_jira.render.nodes import (
    Block,
    BulletList,
    CodeBlock,
    Document,
    HardBreak,
    Heading,
    Inline,
    Link,
    Mark,
    OrderedList,
    Panel,
    Paragraph,
    Quote,
    Rule,
    Table,
    Text,
)

HOSTILE = [
    "[x|http://evil]",
    "[~admin]",
    "{color:red}x{color}",
    "{code}",
    "{noformat}",
    "{panel}",
    "{quote}",
    "*bold*",
    "_em_",
    "-strike-",
    "+ins+",
    "^sup^",
    "~sub~",
    "??cite??",
    "{{mono}}",
    "h1. Big",
    "bq. quoted",
    "  h3. indented",
    "|cell|",
    "||head||",
    "!image.png!",
    "!image.png|thumbnail!",
    "----",
    "---",
    "* item",
    "# item",
    "- item",
    "a\\\\b",
    "\\*",
    "\\",
    "(y) (x) (!) (*r) (flag) :) :( :P :D ;)",
    "&amp; &#42; &#x2a; &lt;",
    "x\ny\r\nz\u2028w\u2029v",
    "tab\there",
    "\x00\x01\x1b[31mred\x7f\x85",
    "שלום עולם",
    "مرحبا\u202ebackwards\u202c",
    "👩\u200d💻🇩🇪👍🏽",
    "e\u0301\u0302",
    '{"type":"doc","version":1,"content":[{"type":"text","text":"x"}]}',
    '{"type": "text", "marks": [{"type": "link", "attrs": {"href": "javascript:x"}}]}',
    "{{ payload.policy_name }}{% for x in y %}{# c #}",
    "<script>alert(1)</script>",
    "https://evil.example/a_b_c",
    "javascript:alert(1)",
]

payload_text = st.one_of(
    st.text(),
    st.text(min_size=300, max_size=500),
    st.sampled_from(HOSTILE),
    st.lists(st.one_of(st.text(max_size=12), st.sampled_from(HOSTILE)), max_size=6).map("".join),
)

hrefs = st.one_of(
    payload_text,
    st.sampled_from(
        [
            "https://console.keeptrusts.com/escalations/esc_1",
            "http://example.com/a|b]c[d{e}f!g",
            "mailto:security@example.com",
            "javascript:alert(1)",
            "data:text/html,<b>x</b>",
            "https://exa mple.com",
        ]
    ),
)

marks: st.SearchStrategy[frozenset[Mark]] = st.frozensets(
    st.sampled_from(["strong", "em", "code", "strike"])
)


def clean(value: str) -> str:
    """What renderers keep of payload text: no controls except newline and tab, no surrogates,
    every line separator a newline."""
    for separator in ("\r\n", "\r", "\u2028", "\u2029"):
        value = value.replace(separator, "\n")
    return "".join(
        ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )


inlines: st.SearchStrategy[tuple[Inline, ...]] = st.lists(
    st.one_of(
        st.builds(Text, text=payload_text, marks=marks),
        st.builds(Link, text=payload_text, href=hrefs),
        st.just(HardBreak()),
    ),
    max_size=4,
).map(tuple)


def _containers(children: st.SearchStrategy[Block]) -> st.SearchStrategy[Block]:
    blocks = st.lists(children, max_size=3).map(tuple)
    items = st.lists(blocks, max_size=3).map(tuple)
    return st.one_of(
        st.builds(BulletList, items=items),
        st.builds(OrderedList, items=items),
        st.builds(
            Panel,
            kind=st.sampled_from(["info", "note", "warning", "error", "success"]),
            content=blocks,
        ),
        st.builds(Quote, content=blocks),
    )


leaf_blocks: st.SearchStrategy[Block] = st.one_of(
    st.builds(Paragraph, content=inlines),
    st.builds(Heading, level=st.integers(min_value=-1, max_value=8), content=inlines),
    st.builds(CodeBlock, text=payload_text, language=st.one_of(st.just(""), payload_text)),
    st.builds(
        Table,
        header=st.lists(inlines, max_size=3).map(tuple),
        rows=st.lists(st.lists(inlines, max_size=3).map(tuple), max_size=3).map(tuple),
    ),
    st.just(Rule()),
)

blocks: st.SearchStrategy[Block] = st.recursive(leaf_blocks, _containers, max_leaves=8)

documents: st.SearchStrategy[Document] = st.lists(blocks, max_size=5).map(
    lambda content: Document(content=tuple(content))
)
