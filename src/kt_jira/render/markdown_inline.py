"""Inline Markdown of ticket templates -> inline nodes: strong, em, code, links, line breaks.

Lenient by design: anything that is not well-formed syntax stays literal text, and no input
raises. It parses template text only; escalation values are substituted afterwards as text.
"""

from __future__ import annotations

import re
import string

from kt_jira.render.nodes import HardBreak, Inline, Link, Mark, Text

_PUNCTUATION = frozenset(string.punctuation)
_AUTOLINK = re.compile(r"<([^\s<>]+)>")
_AUTOLINK_START = re.compile(r"(?i)(?:https?://|mailto:|\ue000)")
# Deeper nesting than this stays literal text, so no template can exhaust the stack.
_MAX_DEPTH = 16
# Delimiter run length -> marks: ***x*** is strong and em, **x** strong, *x* em.
_SIZES: tuple[tuple[int, frozenset[Mark]], ...] = (
    (3, frozenset({"strong", "em"})),
    (2, frozenset({"strong"})),
    (1, frozenset({"em"})),
)


def parse_inlines(source: str) -> tuple[Inline, ...]:
    """Inline nodes for ``source``; a newline is a hard line break."""
    return tuple(_merge(_parse(source, frozenset(), 0)))


def plain_text(nodes: tuple[Inline, ...]) -> str:
    """The visible text of inline nodes, marks dropped (link labels are plain text)."""
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(node.text)
        elif isinstance(node, Link):
            parts.append(node.text or node.href)
        else:
            parts.append(" ")
    return "".join(parts)


def unescape(source: str) -> str:
    """``source`` with backslash escapes of ASCII punctuation resolved."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", source)


def _merge(nodes: list[Inline]) -> list[Inline]:
    out: list[Inline] = []
    for node in nodes:
        last = out[-1] if out else None
        if isinstance(node, Text) and isinstance(last, Text) and last.marks == node.marks:
            out[-1] = Text(text=last.text + node.text, marks=node.marks)
        elif not (isinstance(node, Text) and not node.text):
            out.append(node)
    return out


class _Run:
    """Accumulates literal text until a node is emitted."""

    def __init__(self, marks: frozenset[Mark]) -> None:
        self.marks = marks
        self.nodes: list[Inline] = []
        self.buffer: list[str] = []

    def text(self, value: str) -> None:
        self.buffer.append(value)

    def node(self, *nodes: Inline) -> None:
        self.flush()
        self.nodes.extend(nodes)

    def flush(self) -> None:
        if self.buffer:
            self.nodes.append(Text(text="".join(self.buffer), marks=self.marks))
            self.buffer = []


def _parse(source: str, marks: frozenset[Mark], depth: int) -> list[Inline]:
    run = _Run(marks)
    index = 0
    while index < len(source):
        ch = source[index]
        if ch == "\\" and index + 1 < len(source) and source[index + 1] in _PUNCTUATION:
            run.text(source[index + 1])
            index += 2
        elif ch == "\n":
            run.node(HardBreak())
            index += 1
        elif ch == "`":
            index = _code(source, index, run)
        elif ch == "[" and depth < _MAX_DEPTH and (found := _link(source, index, depth)):
            link, index = found
            run.node(link)
        elif ch == "<" and (auto := _AUTOLINK.match(source, index)) and _is_autolink(auto):
            run.node(Link(text=auto.group(1), href=auto.group(1)))
            index = auto.end()
        elif (
            ch in "*_"
            and depth < _MAX_DEPTH
            and (emphasis := _emphasis(source, index, marks, depth))
        ):
            nodes, index = emphasis
            run.node(*nodes)
        else:
            run.text(ch)
            index += 1
    run.flush()
    return run.nodes


def _is_autolink(found: re.Match[str]) -> bool:
    return _AUTOLINK_START.match(found.group(1)) is not None


def _code(source: str, index: int, run: _Run) -> int:
    width = len(source) - len(source[index:].lstrip("`"))
    opener = source[index : index + width]
    search = index + width
    while True:
        close = source.find(opener, search)
        if close < 0:
            run.text(opener)  # no closing run: the backticks are literal
            return index + width
        after = close + width
        if after < len(source) and source[after] == "`":
            search = after + len(source[after:]) - len(source[after:].lstrip("`"))
            continue
        body = source[index + width : close].replace("\n", " ")
        if len(body) > 1 and body[0] == " " and body[-1] == " " and body.strip():
            body = body[1:-1]
        run.node(Text(text=body, marks=run.marks | {"code"}))
        return after


def _closing_bracket(source: str, start: int) -> int:
    depth = 0
    index = start
    while index < len(source):
        ch = source[index]
        if ch == "\\":
            index += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return -1


def _link(source: str, index: int, depth: int) -> tuple[Link, int] | None:
    close = _closing_bracket(source, index + 1)
    if close < 0 or source[close + 1 : close + 2] != "(":
        return None
    parens = 0
    end = close + 2
    while end < len(source):
        ch = source[end]
        if ch == "\\":
            end += 2
            continue
        if ch == "(":
            parens += 1
        elif ch == ")":
            if parens == 0:
                break
            parens -= 1
        elif ch == "\n":
            return None
        end += 1
    else:
        return None
    target = source[close + 2 : end].strip()
    href = unescape(target.split()[0]) if target else ""
    if href.startswith("<") and href.endswith(">"):
        href = href[1:-1]
    label = plain_text(tuple(_parse(source[index + 1 : close], frozenset(), depth + 1)))
    return Link(text=label, href=href), end + 1


def _emphasis(
    source: str, index: int, marks: frozenset[Mark], depth: int
) -> tuple[list[Inline], int] | None:
    delimiter = source[index]
    width = len(source) - len(source[index:].lstrip(delimiter))
    if delimiter == "_" and index > 0 and source[index - 1].isalnum():
        return None  # snake_case words are not emphasis
    for size, added in _SIZES:
        if width < size:
            continue
        start = index + size
        if start >= len(source) or source[start].isspace():
            return None
        close = _closer(source, start, delimiter * size)
        if close is not None:
            inner = _parse(source[start:close], marks | added, depth + 1)
            return _merge(inner), close + size
    return None


def _closer(source: str, start: int, delimiter: str) -> int | None:
    search = start
    while True:
        close = source.find(delimiter, search)
        if close < 0:
            return None
        before = source[close - 1]
        after = source[close + len(delimiter) : close + len(delimiter) + 1]
        escaped = _escaped(source, close)
        if (
            close > start
            and not before.isspace()
            and not escaped
            and not (delimiter[0] == "_" and after.isalnum())
        ):
            return close
        search = close + 1


def _escaped(source: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and source[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1
