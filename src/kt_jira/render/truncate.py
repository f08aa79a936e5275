"""Pure: the length budget of a document: how long its text is, and cutting it to Jira's limit
(32,767 characters for a description) with a visible marker, never inside a character cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from kt_jira.render.nodes import (
    Block,
    BulletList,
    CodeBlock,
    Document,
    HardBreak,
    Heading,
    Inline,
    Link,
    OrderedList,
    Panel,
    Paragraph,
    Quote,
    Table,
    Text,
)
from kt_jira.render.sanitise import clean_text, link_label, safe_prefix

TRUNCATION_MARKER = "… (truncated by kt-jira: the full text is in the bridge's database)"
DESCRIPTION_LIMIT = 32767


def _inline_length(node: Inline) -> int:
    if isinstance(node, Text):
        return len(clean_text(node.text))
    if isinstance(node, Link):
        return len(link_label(node))
    return 1  # HardBreak


def _inlines_length(nodes: tuple[Inline, ...]) -> int:
    return sum(_inline_length(node) for node in nodes)


def _block_length(block: Block) -> int:
    if isinstance(block, Paragraph | Heading):
        return _inlines_length(block.content)
    if isinstance(block, BulletList | OrderedList):
        return sum(_blocks_length(item) for item in block.items)
    if isinstance(block, Table):
        rows = (block.header, *block.rows)
        return sum(_inlines_length(cell) for row in rows for cell in row)
    if isinstance(block, CodeBlock):
        return len(clean_text(block.text))
    if isinstance(block, Panel | Quote):
        return _blocks_length(block.content)
    return 0  # Rule


def _blocks_length(blocks: tuple[Block, ...]) -> int:
    return sum(_block_length(block) for block in blocks)


def text_length(doc: Document) -> int:
    """Characters of visible text in ``doc``: code points of the text the renderers keep (see
    ``clean_text``); a hard break or newline counts as one."""
    return _blocks_length(doc.content)


@dataclass
class _Budget:
    remaining: int

    def take(self, value: str) -> str:
        kept = safe_prefix(value, self.remaining)
        self.remaining = 0 if len(kept) < len(value) else self.remaining - len(kept)
        return kept


def _cut_inlines(nodes: tuple[Inline, ...], budget: _Budget) -> tuple[Inline, ...]:
    kept: list[Inline] = []
    for node in nodes:
        if budget.remaining <= 0:
            break
        if isinstance(node, HardBreak):
            budget.remaining -= 1
            kept.append(node)
        elif isinstance(node, Text):
            if cut := budget.take(clean_text(node.text)):
                kept.append(Text(text=cut, marks=node.marks))
        elif cut := budget.take(link_label(node)):
            kept.append(Link(text=cut, href=node.href))
    return tuple(kept)


def _cut_block(block: Block, budget: _Budget) -> Block | None:
    if isinstance(block, Paragraph):
        return Paragraph(content=_cut_inlines(block.content, budget))
    if isinstance(block, Heading):
        return Heading(level=block.level, content=_cut_inlines(block.content, budget))
    if isinstance(block, BulletList | OrderedList):
        items: list[tuple[Block, ...]] = []
        for item in block.items:
            if budget.remaining <= 0:
                break
            if kept := _cut_blocks(item, budget):
                items.append(kept)
        if not items:
            return None
        return type(block)(items=tuple(items))
    if isinstance(block, Table):
        header = tuple(_cut_inlines(cell, budget) for cell in block.header)
        rows: list[tuple[tuple[Inline, ...], ...]] = []
        for row in block.rows:
            if budget.remaining <= 0:
                break
            rows.append(tuple(_cut_inlines(cell, budget) for cell in row))
        return Table(header=header, rows=tuple(rows))
    if isinstance(block, CodeBlock):
        return CodeBlock(text=budget.take(clean_text(block.text)), language=block.language)
    if isinstance(block, Panel):
        content = _cut_blocks(block.content, budget)
        return Panel(kind=block.kind, content=content) if content else None
    if isinstance(block, Quote):
        content = _cut_blocks(block.content, budget)
        return Quote(content=content) if content else None
    return block  # Rule


def _cut_blocks(blocks: tuple[Block, ...], budget: _Budget) -> tuple[Block, ...]:
    kept: list[Block] = []
    for block in blocks:
        if budget.remaining <= 0:
            break
        if (cut := _cut_block(block, budget)) is not None:
            kept.append(cut)
    return tuple(kept)


def truncate_document(doc: Document, limit: int = DESCRIPTION_LIMIT) -> Document:
    """``doc`` cut to at most ``limit`` visible characters, ending with a paragraph that says so.

    The marker counts within the limit. A document that already fits is returned unchanged."""
    if text_length(doc) <= limit:
        return doc
    if limit < len(TRUNCATION_MARKER):
        marker = safe_prefix(TRUNCATION_MARKER, limit)
        return Document(content=(Paragraph(content=(Text(text=marker),)),) if marker else ())
    kept = _cut_blocks(doc.content, _Budget(limit - len(TRUNCATION_MARKER)))
    return Document(content=(*kept, Paragraph(content=(Text(text=TRUNCATION_MARKER),))))
