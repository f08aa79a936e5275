"""The Markdown subset of ticket templates -> the document tree (``kt_jira.render.nodes``).

markdown-it's CommonMark, with GFM pipe tables and ``~~strikethrough~~``, plus ``:::kind``
panels (``kt_jira.render.markdown_rules``). Off: HTML, images, setext headings, indented code,
reference links and entity references, which stay text. A newline in a paragraph is a line
break. It parses the TEMPLATE only: escalation values are put in afterwards, as text, by
``kt_jira.tickets.templates``. Any input gives a document; the walk over the tokens is a loop,
and nesting is bounded (``MAX_DEPTH``), so no template can exhaust the stack. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from markdown_it.token import Token

from kt_jira.render.markdown_inline import inlines
from kt_jira.render.markdown_rules import MAX_DEPTH, PANEL_KINDS, PanelKind, install
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

__all__ = ["MAX_DEPTH", "PANEL_KINDS", "PanelKind", "parse_markdown"]

_KINDS: dict[str, PanelKind] = {kind: kind for kind in PANEL_KINDS}
_OFF = ["lheading", "code", "reference", "html_block", "image", "entity", "html_inline"]
# Token types (less ``_open``/``_close``) of the blocks that hold blocks.
_CONTAINERS = frozenset({"blockquote", "panel", "bullet_list", "ordered_list", "list_item"})


class _Parser(MarkdownIt):
    """CommonMark that keeps link targets exactly as written: values inside them must survive
    as tokens, and the renderers decide which targets may be links."""

    def validateLink(self, url: str) -> bool:
        return True

    def normalizeLink(self, url: str) -> str:
        return url

    def normalizeLinkText(self, link: str) -> str:
        return link


def _parser() -> MarkdownIt:
    # maxNesting is markdown-it's own guard (it drops what is deeper); MAX_DEPTH stays below it.
    md = _Parser("commonmark", {"html": False, "maxNesting": 20})
    md.enable(["table", "strikethrough"]).disable(_OFF)
    install(md)
    return md


_MD = _parser()


def parse_markdown(source: str) -> Document:
    """The document for ``source``; never raises, syntax outside the subset stays text."""
    return Document(content=_blocks(_MD.parse(source, {})))


@dataclass
class _Open:
    """A container being filled: its opening token and what is inside so far."""

    token: Token | None
    blocks: list[Block] = field(default_factory=list)
    items: list[tuple[Block, ...]] = field(default_factory=list)


def _blocks(tokens: Sequence[Token]) -> tuple[Block, ...]:
    """The blocks of markdown-it's token stream, containers kept on a stack (no recursion)."""
    stack = [_Open(None)]
    index = 0
    while index < len(tokens):
        token = tokens[index]
        top = stack[-1]
        container = token.type.rsplit("_", 1)[0] in _CONTAINERS
        if container and token.nesting == 1:
            stack.append(_Open(token))
        elif container and token.nesting == -1 and len(stack) > 1:
            stack.pop()
            _close(top, stack[-1])
        elif token.type in ("paragraph_open", "heading_open"):
            content = _inline_at(tokens, index + 1)
            if token.type == "paragraph_open":
                top.blocks.append(Paragraph(content=content))
            else:
                top.blocks.append(Heading(level=int(token.tag[1:]), content=content))
        elif token.type == "fence":
            top.blocks.append(_code(token))
        elif token.type == "hr":
            top.blocks.append(Rule())
        elif token.type == "table_open":
            table, index = _table(tokens, index)
            top.blocks.append(table)
        index += 1
    return tuple(stack[0].blocks)


def _inline_at(tokens: Sequence[Token], index: int) -> tuple[Inline, ...]:
    token = tokens[index] if index < len(tokens) else None
    if token is None or token.type != "inline":
        return ()
    return inlines(token.children or ())


def _code(fence: Token) -> CodeBlock:
    """A fenced code block: its text verbatim, its language the first word of the info."""
    info = unescapeAll(fence.info).split()
    return CodeBlock(text=fence.content.removesuffix("\n"), language=info[0] if info else "")


def _close(done: _Open, parent: _Open) -> None:
    """Put the finished container ``done`` into ``parent``."""
    opening = done.token
    kind = opening.type if opening else ""
    content = tuple(done.blocks)
    if kind == "list_item_open":
        parent.items.append(content)
    elif kind == "blockquote_open":
        parent.blocks.append(Quote(content=content))
    elif kind == "panel_open" and opening:
        parent.blocks.append(Panel(kind=_KINDS.get(opening.info, "info"), content=content))
    elif kind in ("bullet_list_open", "ordered_list_open"):
        _add_list(parent.blocks, kind == "ordered_list_open", tuple(done.items))


def _add_list(blocks: list[Block], ordered: bool, items: tuple[tuple[Block, ...], ...]) -> None:
    """A list after a list of the same kind continues it: a new bullet character or ``)``
    for ``.`` does not start a second list, since the tree does not number lists."""
    last = blocks[-1] if blocks else None
    kind = OrderedList if ordered else BulletList
    if isinstance(last, kind):
        blocks[-1] = kind(items=last.items + items)
    else:
        blocks.append(kind(items=items))


def _table(tokens: Sequence[Token], index: int) -> tuple[Table, int]:
    """The table opened at ``index`` and the index of its ``table_close``."""
    header: tuple[tuple[Inline, ...], ...] = ()
    rows: list[tuple[tuple[Inline, ...], ...]] = []
    row: list[tuple[Inline, ...]] = []
    in_header = False
    while index < len(tokens) and tokens[index].type != "table_close":
        token = tokens[index]
        if token.type in ("thead_open", "thead_close"):
            in_header = token.type == "thead_open"
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline":
            row.append(inlines(token.children or ()))
        elif token.type == "tr_close":
            if in_header:
                header = tuple(row)
            else:
                rows.append(tuple(row))
        index += 1
    return Table(header=header, rows=tuple(rows)), index
