"""Document tree -> Atlassian Document Format v1 (Jira Cloud), built as a tree of dicts.

Payload text only ever becomes the ``text`` of a text node or the ``href`` of a link mark, never
a node of its own, so nothing an escalation says can add structure. The output always validates
against the ADF JSON schema: a node that its place forbids (a table in a list item, a heading in
a quote) is lowered to what the place allows, never emitted as is.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

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
from kt_jira.render.sanitise import clean_text, link_label, one_line, safe_href

Json = dict[str, Any]

_PANEL_TYPES = frozenset({"info", "note", "warning", "error", "success"})
_CELL_SEPARATOR = " | "


class _Place(Enum):
    """Where blocks are being rendered; each ADF container accepts a different block set."""

    ROOT = "doc"
    PANEL = "panel"
    QUOTE = "blockquote"
    ITEM = "listItem"


# Beyond paragraphs, lists and code blocks, which every place takes.
_ALLOWED: dict[_Place, frozenset[type[Block]]] = {
    _Place.ROOT: frozenset({Heading, Rule, Table, Panel, Quote}),
    _Place.PANEL: frozenset({Heading, Rule}),
    _Place.QUOTE: frozenset(),
    _Place.ITEM: frozenset(),
}


def to_adf(doc: Document) -> dict[str, Any]:
    """The ADF v1 document for ``doc``: ``{"type": "doc", "version": 1, "content": [...]}``."""
    return {"type": "doc", "version": 1, "content": _blocks(doc.content, _Place.ROOT)}


# -- inline -----------------------------------------------------------------------------------


def _marks(marks: Iterable[Mark]) -> list[Json]:
    present = set(marks)
    if "code" in present:  # ADF allows code only alone (or with a link)
        return [{"type": "code"}]
    return [{"type": mark} for mark in ("strong", "em", "strike") if mark in present]


def _text_nodes(value: str, marks: Sequence[Json]) -> list[Json]:
    """Text nodes for ``value``: newlines become hard breaks, empty runs are dropped."""
    nodes: list[Json] = []
    for index, part in enumerate(clean_text(value).split("\n")):
        if index:
            nodes.append({"type": "hardBreak"})
        if part:
            node: Json = {"type": "text", "text": part}
            if marks:
                node["marks"] = copy.deepcopy(list(marks))  # no shared dicts between nodes
            nodes.append(node)
    return nodes


def _inlines(nodes: Sequence[Inline], extra: frozenset[Mark] = frozenset()) -> list[Json]:
    out: list[Json] = []
    for node in nodes:
        if isinstance(node, HardBreak):
            out.append({"type": "hardBreak"})
        elif isinstance(node, Text):
            out.extend(_text_nodes(node.text, _marks(node.marks | extra)))
        else:
            out.extend(_link_nodes(node, extra))
    return out


def _link_nodes(link: Link, extra: frozenset[Mark]) -> list[Json]:
    label = link_label(link)
    href = safe_href(clean_text(link.href))
    marks = _marks(extra)
    if href is not None:
        marks.append({"type": "link", "attrs": {"href": href}})
    return _text_nodes(label, marks)


def _paragraph(content: list[Json]) -> Json:
    return {"type": "paragraph", "content": content}


# -- blocks -----------------------------------------------------------------------------------


def _blocks(blocks: Sequence[Block], place: _Place) -> list[Json]:
    out: list[Json] = []
    for block in blocks:
        out.extend(_block(block, place))
    return out


def _block(block: Block, place: _Place) -> list[Json]:
    allowed = type(block) in _ALLOWED[place]
    if isinstance(block, Paragraph):
        return [_paragraph(_inlines(block.content))]
    if isinstance(block, Heading):
        if not allowed:  # a heading where ADF forbids one: keep the words, in bold
            return [_paragraph(_inlines(block.content, frozenset({"strong"})))]
        level = min(max(int(block.level), 1), 6)
        return [{"type": "heading", "attrs": {"level": level}, "content": _inlines(block.content)}]
    if isinstance(block, BulletList | OrderedList):
        return _list(block)
    if isinstance(block, CodeBlock):
        return [_code_block(block)]
    if isinstance(block, Table):
        return _table(block) if allowed else _table_as_paragraphs(block)
    if isinstance(block, Panel):
        if not allowed:
            return _blocks(block.content, place)
        kind = block.kind if block.kind in _PANEL_TYPES else "info"
        content = _blocks(block.content, _Place.PANEL) or [_paragraph([])]
        return [{"type": "panel", "attrs": {"panelType": kind}, "content": content}]
    if isinstance(block, Quote):
        if not allowed:
            return _blocks(block.content, place)
        return [
            {
                "type": "blockquote",
                "content": _blocks(block.content, _Place.QUOTE) or [_paragraph([])],
            }
        ]
    return [{"type": "rule"}] if allowed else []


def _list(block: BulletList | OrderedList) -> list[Json]:
    items: list[Json] = []
    for item in block.items:
        content = _blocks(item, _Place.ITEM)
        if not content or content[0]["type"] != "paragraph":
            content.insert(0, _paragraph([]))  # a list item must open with a paragraph
        items.append({"type": "listItem", "content": content})
    if not items:
        return []
    if isinstance(block, OrderedList):
        return [{"type": "orderedList", "attrs": {"order": 1}, "content": items}]
    return [{"type": "bulletList", "content": items}]


def _code_block(block: CodeBlock) -> Json:
    node: Json = {"type": "codeBlock"}
    language = one_line(block.language, 100) if block.language else ""
    if language:
        node["attrs"] = {"language": language}
    text = clean_text(block.text)
    node["content"] = [{"type": "text", "text": text}] if text else []
    return node


def _table_rows(block: Table) -> list[tuple[bool, tuple[tuple[Inline, ...], ...]]]:
    rows = [(True, block.header)] if block.header else []
    return rows + [(False, row) for row in block.rows]


def _table(block: Table) -> list[Json]:
    rows = _table_rows(block)
    width = max((len(cells) for _, cells in rows), default=0)
    if width == 0:
        return []
    out: list[Json] = []
    for is_header, cells in rows:
        padded = list(cells) + [()] * (width - len(cells))
        kind = "tableHeader" if is_header else "tableCell"
        out.append(
            {
                "type": "tableRow",
                "content": [
                    {"type": kind, "content": [_paragraph(_inlines(cell))]} for cell in padded
                ],
            }
        )
    return [{"type": "table", "content": out}]


def _table_as_paragraphs(block: Table) -> list[Json]:
    """A table where ADF forbids one: a paragraph per row, cells joined by `` | ``."""
    out: list[Json] = []
    for is_header, cells in _table_rows(block):
        extra: frozenset[Mark] = frozenset({"strong"}) if is_header else frozenset()
        content: list[Json] = []
        for index, cell in enumerate(cells):
            if index:
                content.append({"type": "text", "text": _CELL_SEPARATOR})
            content.extend(_inlines(cell, extra))
        out.append(_paragraph(content))
    return out
