"""Value tokens: opaque stand-ins for escalation values while a template's Markdown is parsed,
and the pass that puts the values back into the parsed tree as text.

A token is ``U+E000 <n> U+E001``: private-use characters that every value is stripped of, so no
payload can forge or break one. Values come back only as ``Text``, code text or a checked link
target; never as structure. Pure.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from kt_jira.render.nodes import (
    Block,
    BulletList,
    CodeBlock,
    Document,
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

__all__ = ["TOKEN_OPEN", "fill", "hold", "strip_tokens"]

TOKEN_OPEN, _CLOSE = "\ue000", "\ue001"
_TOKEN = re.compile("\ue000([0-9]+)\ue001")
_WEB_SCHEMES = frozenset({"http", "https"})


def strip_tokens(value: str) -> str:
    """``value`` without the characters that delimit tokens."""
    return value.replace(TOKEN_OPEN, "").replace(_CLOSE, "")


def hold(slots: list[str], value: str) -> str:
    """Keep ``value`` in ``slots`` and return its token. Tokens already inside ``value`` (output
    of a macro or a ``{% set %}`` block) are resolved first: all of it is text now."""
    slots.append(strip_tokens(_resolve(slots, value)))
    return f"{TOKEN_OPEN}{len(slots) - 1}{_CLOSE}"


def fill(doc: Document, slots: list[str]) -> Document:
    """``doc`` with every token replaced by its value, as text."""
    return Document(content=_Filler(slots).blocks(doc.content))


def _slot(slots: list[str], found: re.Match[str]) -> str:
    index = int(found.group(1))
    return slots[index] if index < len(slots) else ""


def _resolve(slots: list[str], value: str) -> str:
    return _TOKEN.sub(lambda found: _slot(slots, found), value)


class _Filler:
    def __init__(self, slots: list[str]) -> None:
        self.slots = slots

    def text(self, value: str) -> str:
        return _resolve(self.slots, value)

    def href(self, value: str) -> str | None:
        """The link target: a value opening it is taken as is, later values are percent-encoded;
        with any value in it, only an http(s) URL is accepted."""
        parts: list[str] = []
        position = 0
        for found in _TOKEN.finditer(value):
            parts.append(value[position : found.start()])
            filled = _slot(self.slots, found)
            parts.append(filled if found.start() == 0 else quote(filled, safe="", errors="replace"))
            position = found.end()
        if not parts:
            return value  # the template's own target; the renderers check its scheme
        href = "".join(parts) + value[position:]
        try:
            target = urlsplit(href)
        except ValueError:
            return None
        if target.scheme.lower() not in _WEB_SCHEMES or not target.netloc:
            return None
        return href

    def inlines(self, nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
        out: list[Inline] = []
        for node in nodes:
            if isinstance(node, Text):
                out.append(Text(text=self.text(node.text), marks=node.marks))
            elif isinstance(node, Link):
                label = self.text(node.text)
                href = self.href(node.href)
                if href is None:
                    out.append(Text(text=label or self.text(node.href)))
                else:
                    out.append(Link(text=label, href=href))
            else:
                out.append(node)
        return tuple(out)

    def blocks(self, blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        return tuple(self.block(block) for block in blocks)

    def block(self, block: Block) -> Block:
        if isinstance(block, Paragraph):
            return Paragraph(content=self.inlines(block.content))
        if isinstance(block, Heading):
            return Heading(level=block.level, content=self.inlines(block.content))
        if isinstance(block, BulletList | OrderedList):
            return type(block)(items=tuple(self.blocks(item) for item in block.items))
        if isinstance(block, Table):
            return Table(
                header=tuple(self.inlines(cell) for cell in block.header),
                rows=tuple(tuple(self.inlines(cell) for cell in row) for row in block.rows),
            )
        if isinstance(block, CodeBlock):
            return CodeBlock(text=self.text(block.text), language=self.text(block.language))
        if isinstance(block, Panel):
            return Panel(kind=block.kind, content=self.blocks(block.content))
        if isinstance(block, Quote):
            return Quote(content=self.blocks(block.content))
        return block
