"""markdown-it's inline tokens -> inline nodes: text with its marks (strong, em, code, strike),
links and line breaks.

One flat pass with a stack of open marks, so no nesting can exhaust the stack. A link's label is
plain text (a link node carries no marks). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it.token import Token

from kt_jira.render.nodes import HardBreak, Inline, Link, Mark, Text

_OPENS: dict[str, Mark] = {"strong_open": "strong", "em_open": "em", "s_open": "strike"}
_CLOSES: dict[str, Mark] = {"strong_close": "strong", "em_close": "em", "s_close": "strike"}
_BREAKS = frozenset({"softbreak", "hardbreak"})  # a newline in a paragraph is a line break


def inlines(tokens: Sequence[Token]) -> tuple[Inline, ...]:
    """The inline nodes of an ``inline`` token's children."""
    out: list[Inline] = []
    marks: list[Mark] = []
    links = 0  # open links; only the outermost one becomes a node
    href = ""
    label: list[str] = []
    for token in tokens:
        kind = token.type
        if kind in _OPENS:
            marks.append(_OPENS[kind])
        elif kind in _CLOSES:
            _close(marks, _CLOSES[kind])
        elif kind == "link_open":
            links += 1
            if links == 1:
                href, label = str(token.attrs.get("href", "")), []
        elif kind == "link_close":
            if links == 1:
                out.append(Link(text="".join(label), href=href))
            links = max(links - 1, 0)
        elif links:
            label.append(" " if kind in _BREAKS else token.content)
        elif kind in _BREAKS:
            out.append(HardBreak())
        elif kind == "code_inline":
            out.append(Text(text=token.content, marks=frozenset([*marks, "code"])))
        else:  # text, and anything outside the subset as the text it holds
            out.append(Text(text=token.content, marks=frozenset(marks)))
    return tuple(_merge(out))


def _close(marks: list[Mark], mark: Mark) -> None:
    for index in range(len(marks) - 1, -1, -1):
        if marks[index] == mark:
            del marks[index]
            return


def _merge(nodes: list[Inline]) -> list[Inline]:
    """Adjacent text runs with the same marks joined; empty runs dropped."""
    out: list[Inline] = []
    for node in nodes:
        last = out[-1] if out else None
        if isinstance(node, Text) and isinstance(last, Text) and last.marks == node.marks:
            out[-1] = Text(text=last.text + node.text, marks=node.marks)
        elif not (isinstance(node, Text) and not node.text):
            out.append(node)
    return out
