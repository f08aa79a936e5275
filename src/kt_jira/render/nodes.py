"""The flavour-neutral document tree that descriptions and comments are built from.

Values from escalations enter only as ``Text.text`` or ``Link.href``: renderers escape them, so
no payload can become markup. Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Mark = Literal["strong", "em", "code", "strike"]


@dataclass(frozen=True, kw_only=True)
class Text:
    text: str
    marks: frozenset[Mark] = field(default_factory=frozenset)


@dataclass(frozen=True, kw_only=True)
class Link:
    text: str
    href: str


@dataclass(frozen=True, kw_only=True)
class HardBreak:
    pass


Inline = Text | Link | HardBreak


@dataclass(frozen=True, kw_only=True)
class Heading:
    level: int  # 1..6
    content: tuple[Inline, ...]


@dataclass(frozen=True, kw_only=True)
class Paragraph:
    content: tuple[Inline, ...]


@dataclass(frozen=True, kw_only=True)
class BulletList:
    items: tuple[tuple[Block, ...], ...]


@dataclass(frozen=True, kw_only=True)
class OrderedList:
    items: tuple[tuple[Block, ...], ...]


@dataclass(frozen=True, kw_only=True)
class Table:
    """A table; ``header`` may be empty. Each cell is a run of inline nodes."""

    header: tuple[tuple[Inline, ...], ...]
    rows: tuple[tuple[tuple[Inline, ...], ...], ...]


@dataclass(frozen=True, kw_only=True)
class CodeBlock:
    text: str
    language: str = ""


@dataclass(frozen=True, kw_only=True)
class Panel:
    kind: Literal["info", "note", "warning", "error", "success"]
    content: tuple[Block, ...]


@dataclass(frozen=True, kw_only=True)
class Quote:
    content: tuple[Block, ...]


@dataclass(frozen=True, kw_only=True)
class Rule:
    pass


Block = Heading | Paragraph | BulletList | OrderedList | Table | CodeBlock | Panel | Quote | Rule


@dataclass(frozen=True, kw_only=True)
class Document:
    content: tuple[Block, ...]


def text(value: str) -> Text:
    """Plain text from any value; the one way payload strings enter a document."""
    return Text(text=value)


def paragraph(*content: Inline) -> Paragraph:
    return Paragraph(content=tuple(content))
