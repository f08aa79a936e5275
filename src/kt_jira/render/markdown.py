"""The Markdown subset of ticket templates -> the document tree (``kt_jira.render.nodes``).

Blocks: ATX headings, paragraphs (a newline is a line break), bullet and numbered lists (nested
by indenting two or more spaces), pipe tables with a ``|---|`` separator, fenced code, ``>``
quotes, ``:::kind`` panels and ``---`` rules. It parses the TEMPLATE only: escalation values are
put in afterwards, as text, by ``kt_jira.tickets.templates``. Lenient: any input gives a document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, cast

from kt_jira.render.markdown_inline import parse_inlines
from kt_jira.render.nodes import (
    Block,
    BulletList,
    CodeBlock,
    Document,
    Heading,
    Inline,
    OrderedList,
    Panel,
    Paragraph,
    Quote,
    Rule,
    Table,
)

PanelKind = Literal["info", "note", "warning", "error", "success"]
PANEL_KINDS: tuple[PanelKind, ...] = ("info", "note", "warning", "error", "success")

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*\Z")
_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))??(?:[ \t]+#+)?[ \t]*\Z")
_RULE = re.compile(r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})\Z")
_PANEL_OPEN = re.compile(r" {0,3}:::[ \t]*([A-Za-z]+)[ \t]*\Z")
_PANEL_CLOSE = re.compile(r" {0,3}:::[ \t]*\Z")
_QUOTE = re.compile(r" {0,3}>[ ]?(.*)\Z")
_ITEM = re.compile(r"( *)(?:([-*+])|(\d{1,9})[.)])(?:[ \t]+(.*)|[ \t]*)\Z")
_TABLE_ROW = re.compile(r" {0,3}\|")
_TABLE_SEPARATOR = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*\Z")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
# Deeper block nesting than this (lists in quotes in panels ...) is kept as plain paragraphs.
_MAX_DEPTH = 8


def parse_markdown(source: str) -> Document:
    """The document for ``source``; never raises, unknown syntax stays text."""
    text = source.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    return Document(content=_Parser(text.split("\n"), 0).blocks())


@dataclass(frozen=True)
class _Item:
    indent: int
    ordered: bool
    width: int  # marker plus the space after it
    text: str


def _item(line: str) -> _Item | None:
    found = _ITEM.match(line)
    if found is None or len(found.group(1)) > 3 or _RULE.match(line):
        return None
    indent = len(found.group(1))
    marker = found.group(2) or found.group(3) + "."
    return _Item(indent, found.group(2) is None, len(marker) + 1, found.group(4) or "")


class _Parser:
    def __init__(self, lines: list[str], depth: int) -> None:
        self.lines = lines
        self.depth = depth
        self.index = 0
        self.out: list[Block] = []
        self.paragraph: list[str] = []

    def blocks(self) -> tuple[Block, ...]:
        steps: tuple[Callable[[str], bool], ...] = (
            self._fence,
            self._heading,
            self._rule,
            self._panel,
            self._quote,
            self._list,
            self._table,
        )
        while self.index < len(self.lines):
            line = self.lines[self.index]
            if not line.strip():
                self._flush()
                self.index += 1
            elif self.depth >= _MAX_DEPTH or not any(step(line) for step in steps):
                self.paragraph.append(line)
                self.index += 1
        self._flush()
        return tuple(self.out)

    def _emit(self, block: Block) -> bool:
        self._flush()
        self.out.append(block)
        return True

    def _flush(self) -> None:
        if not self.paragraph:
            return
        lines = [line.strip() for line in self.paragraph]
        lines = [line[:-1] if line.endswith("\\") else line for line in lines]
        self.paragraph = []
        self.out.append(Paragraph(content=parse_inlines("\n".join(lines))))

    def _nested(self, lines: list[str]) -> tuple[Block, ...]:
        return _Parser(lines, self.depth + 1).blocks()

    def _fence(self, line: str) -> bool:
        found = _FENCE.match(line)
        if found is None:
            return False
        fence = found.group(1)
        indent = len(line) - len(line.lstrip(" "))
        body: list[str] = []
        self.index += 1
        while self.index < len(self.lines):
            current = self.lines[self.index]
            self.index += 1
            stripped = current.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                break
            body.append(current[min(indent, len(current) - len(current.lstrip(" "))) :])
        return self._emit(CodeBlock(text="\n".join(body), language=found.group(2)))

    def _heading(self, line: str) -> bool:
        found = _HEADING.match(line)
        if found is None:
            return False
        self.index += 1
        content = parse_inlines((found.group(2) or "").strip())
        return self._emit(Heading(level=len(found.group(1)), content=content))

    def _rule(self, line: str) -> bool:
        if not _RULE.match(line):
            return False
        self.index += 1
        return self._emit(Rule())

    def _panel(self, line: str) -> bool:
        found = _PANEL_OPEN.match(line)
        if found is None or found.group(1).lower() not in PANEL_KINDS:
            return False
        kind = cast(PanelKind, found.group(1).lower())
        depth, start = 0, self.index + 1
        end = start
        while end < len(self.lines):
            if _PANEL_OPEN.match(self.lines[end]):
                depth += 1
            elif _PANEL_CLOSE.match(self.lines[end]):
                if depth == 0:
                    break
                depth -= 1
            end += 1
        self.index = end + 1
        return self._emit(Panel(kind=kind, content=self._nested(self.lines[start:end])))

    def _quote(self, line: str) -> bool:
        if not _QUOTE.match(line):
            return False
        inner: list[str] = []
        while self.index < len(self.lines):
            found = _QUOTE.match(self.lines[self.index])
            if found is None:
                break
            inner.append(found.group(1))
            self.index += 1
        return self._emit(Quote(content=self._nested(inner)))

    def _list(self, line: str) -> bool:
        first = _item(line)
        if first is None:
            return False
        items: list[tuple[Block, ...]] = []
        while self.index < len(self.lines):
            ahead = self.index
            while ahead < len(self.lines) - 1 and not self.lines[ahead].strip():
                ahead += 1  # blank lines between items keep the list going
            item = _item(self.lines[ahead])
            if item is None or item.ordered != first.ordered or item.indent > first.indent + 1:
                break
            self.index = ahead + 1
            items.append(self._nested([item.text, *self._item_body(item)]))
        block = OrderedList(items=tuple(items)) if first.ordered else BulletList(items=tuple(items))
        return self._emit(block)

    def _item_body(self, item: _Item) -> list[str]:
        """The lines after an item's first that belong to it (indented past its marker)."""
        body: list[str] = []
        content = item.indent + item.width
        while self.index < len(self.lines):
            current = self.lines[self.index]
            indent = len(current) - len(current.lstrip(" "))
            if not current.strip():
                following = next((x for x in self.lines[self.index + 1 :] if x.strip()), "")
                if len(following) - len(following.lstrip(" ")) < item.indent + 2:
                    break
                body.append("")
            elif indent >= item.indent + 2:
                body.append(current[min(indent, content) :])
            else:
                break
            self.index += 1
        return body

    def _table(self, line: str) -> bool:
        following = self.lines[self.index + 1] if self.index + 1 < len(self.lines) else ""
        if not _TABLE_ROW.match(line) or not _TABLE_SEPARATOR.match(following):
            return False
        header = _cells(line)
        self.index += 2
        rows: list[tuple[tuple[Inline, ...], ...]] = []
        while self.index < len(self.lines) and _TABLE_ROW.match(self.lines[self.index]):
            cells = _cells(self.lines[self.index])[: len(header)]
            rows.append(cells + ((),) * (len(header) - len(cells)))
            self.index += 1
        return self._emit(Table(header=header, rows=tuple(rows)))


def _cells(line: str) -> tuple[tuple[Inline, ...], ...]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return tuple(parse_inlines(cell.strip()) for cell in _CELL_SPLIT.split(body))
