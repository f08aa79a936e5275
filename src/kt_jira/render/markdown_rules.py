"""The hand-written markdown-it rules of the template subset: ``:::kind`` panels, the nesting
bound, and links whose whole target is a value (``<{{ url }}>``).

Everything else is markdown-it's own CommonMark. Pure: rules read the parser state and push
tokens, nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.common.utils import mdTrim
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

from kt_jira.render.tokens import TOKEN_OPEN

PanelKind = Literal["info", "note", "warning", "error", "success"]
PANEL_KINDS: tuple[PanelKind, ...] = ("info", "note", "warning", "error", "success")

# Blocks nested deeper than this (lists in quotes in panels ...) are plain paragraphs.
MAX_DEPTH = 8

BlockRule = Callable[[StateBlock, int, int, bool], bool]

_KINDS: dict[str, PanelKind] = {kind: kind for kind in PANEL_KINDS}
_PANEL_OPEN = re.compile(r":::[ \t]*([A-Za-z]+)[ \t]*")
_PANEL_CLOSE = re.compile(r":::[ \t]*")
_VALUE_LINK = re.compile("<(" + re.escape(TOKEN_OPEN) + r"[^\s<>]*)>")
_DEPTH = "kt_jira.depth"  # the env key holding how many containers enclose the current line
# Rules that a panel's opening line may interrupt, as markdown-it's fence does.
_PANEL_INTERRUPTS = ["paragraph", "reference", "blockquote", "list"]


def install(md: MarkdownIt) -> None:
    """Add the panel, depth and value-link rules to ``md`` (a CommonMark parser)."""
    for name in ("blockquote", "list"):
        rule = md.block.ruler.__rules__[md.block.ruler.__find__(name)]
        md.block.ruler.at(name, _counted(rule.fn), {"alt": list(rule.alt)})
    md.block.ruler.before("fence", "panel", _panel, {"alt": _PANEL_INTERRUPTS})
    md.block.ruler.before("table", "too_deep", _too_deep)
    md.inline.ruler.before("autolink", "value_link", _value_link)


def _depth(state: StateBlock) -> int:
    depth = state.env.get(_DEPTH, 0)
    return depth if isinstance(depth, int) else 0


@contextmanager
def _deeper(state: StateBlock) -> Iterator[None]:
    """While inside, the lines being parsed are one container deeper."""
    depth = _depth(state)
    state.env[_DEPTH] = depth + 1
    try:
        yield
    finally:
        state.env[_DEPTH] = depth


def _counted(rule: BlockRule) -> BlockRule:
    """``rule`` (a container: quotes, lists) counting the depth of what it parses."""

    def counted(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if silent:
            return rule(state, start, end, silent)
        with _deeper(state):
            return rule(state, start, end, silent)

    return counted


def _too_deep(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Past ``MAX_DEPTH`` containers, every run of lines up to a blank one is a paragraph."""
    if _depth(state) < MAX_DEPTH:
        return False
    if silent:
        return True
    line = start + 1
    while line < end and not state.isEmpty(line):
        if 0 <= state.sCount[line] < state.blkIndent:
            break  # outdented: the enclosing list item ends here
        line += 1
    state.line = line
    state.push("paragraph_open", "p", 1).map = [start, line]
    token = state.push("inline", "", 0)
    token.content = mdTrim(state.getLines(start, line, state.blkIndent, False))
    token.map = [start, line]
    token.children = []
    state.push("paragraph_close", "p", -1)
    return True


def _text(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _panel_end(state: StateBlock, start: int, end: int) -> tuple[int, bool]:
    """The line that closes the panel opened at ``start`` (a bare ``:::`` at its own nesting,
    any ``:::word`` opening one more) and whether it was found; unclosed runs to ``end``."""
    nesting = 0
    line = start + 1
    while line < end:
        if not state.isEmpty(line) and 0 <= state.sCount[line] < state.blkIndent:
            return line, False  # outdented: the enclosing list item ends here
        text = _text(state, line)
        if not state.is_code_block(line):
            if _PANEL_OPEN.fullmatch(text):
                nesting += 1
            elif _PANEL_CLOSE.fullmatch(text):
                if nesting == 0:
                    return line, True
                nesting -= 1
        line += 1
    return end, False


def _panel(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``:::kind`` .. ``:::``: a panel of blocks, for a kind in ``PANEL_KINDS``."""
    if state.is_code_block(start):
        return False
    found = _PANEL_OPEN.fullmatch(_text(state, start))
    kind = _KINDS.get(found.group(1).lower()) if found else None
    if kind is None:
        return False
    if silent:
        return True
    close, closed = _panel_end(state, start, end)
    old_parent, old_max = state.parentType, state.lineMax
    state.parentType = "panel"
    state.lineMax = close
    opening = state.push("panel_open", "div", 1)
    opening.info = kind
    opening.markup = ":::"
    opening.map = [start, close]
    state.line = start + 1
    with _deeper(state):
        state.md.block.tokenize(state, start + 1, close)
    state.push("panel_close", "div", -1).markup = ":::"
    state.parentType, state.lineMax = old_parent, old_max
    if state.line >= close:
        state.line = close + 1 if closed else close
    return True


def _value_link(state: StateInline, silent: bool) -> bool:
    """``<{{ value }}...>``: a link whose target opens with a value; ``fill`` checks it."""
    found = _VALUE_LINK.match(state.src, state.pos, state.posMax)
    if found is None:
        return False
    if not silent:
        href = found.group(1)
        opening = state.push("link_open", "a", 1)
        opening.attrs = {"href": href}
        opening.markup = "autolink"
        opening.info = "auto"
        state.push("text", "", 0).content = href
        closing = state.push("link_close", "a", -1)
        closing.markup = "autolink"
        closing.info = "auto"
    state.pos = found.end()
    return True
