"""Document tree -> Jira Data Center wiki markup (REST v2 description and comments).

Every payload character that wiki markup could read as syntax is escaped: markup characters with
a backslash, the backslash itself and line-start keywords (``h1.``, ``bq.``) as numeric entities,
since ``\\\\`` is a line break and cannot escape anything. Code goes in ``{code}``/``{noformat}``
only when the text cannot close the macro; otherwise it is escaped like any other text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from urllib.parse import quote

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
    Table,
    Text,
)
from kt_jira.render.sanitise import clean_text, link_label, safe_href

LINE_BREAK = "\\\\ "  # `\\` forces a line break; the space keeps it apart from an escape after it

# Characters that are markup anywhere in a line; each is written as `\c`.
_ESCAPED = frozenset("*_?-+^~|[]{}!#")
_ENTITY_LIKE = re.compile(r"&#?[A-Za-z0-9]+;")  # broad on purpose: over-escaping is harmless
_EMOTICON = re.compile(
    r"\((?:y|n|i|/|x|!|\+|-|\?|on|off|\*|\*r|\*g|\*b|\*y|flagoff|flag)\)", re.IGNORECASE
)
_SMILEY_TAIL = frozenset(")(PpDd")
# The outermost wrapper of marked text, for the ``{*}b{*}`` form Jira needs inside a word.
_FORCED: tuple[tuple[Mark, str], ...] = (("strong", "*"), ("em", "_"), ("strike", "-"))
_LINE_KEYWORD = re.compile(r"[ \t]*(?=(?:h[1-6]|bq)\.)", re.IGNORECASE)
_CODE_LANGUAGE_UNSAFE = re.compile(r"[^A-Za-z0-9_+#.-]")
_URL_SAFE = "/:?#&=+;,@$'()*%~"  # quote() also keeps letters, digits and `_.-~`
_PANEL_COLOURS = {
    "info": ("#4c9aff", "#deebff"),
    "note": ("#998dd9", "#eae6ff"),
    "warning": ("#ffab00", "#fffae6"),
    "error": ("#ff5630", "#ffebe6"),
    "success": ("#36b37e", "#e3fcef"),
}


def to_wiki(doc: Document) -> str:
    """Jira wiki markup for ``doc``; blocks are separated by blank lines."""
    return "\n\n".join(_blocks(doc.content, nested=False))


# -- escaping ---------------------------------------------------------------------------------


def escape(value: str, *, line_start: bool = False) -> str:
    """``value`` as inert wiki text. Newlines become ``\\\\`` line breaks. With ``line_start``,
    a leading ``h1.``/``bq.`` keyword is defused too (the text opens a physical line)."""
    value = clean_text(value)
    out: list[str] = []
    keyword = _LINE_KEYWORD.match(value) if line_start else None
    keyword_at = keyword.end() if keyword else -1
    for index, ch in enumerate(value):
        nxt = value[index + 1 : index + 2]
        if index == keyword_at:
            out.append(f"&#{ord(ch)};")
        elif ch == "\\":
            out.append("&#92;")
        elif ch == "&":
            out.append("&amp;" if _ENTITY_LIKE.match(value, index) else "&")
        elif ch == "\n":
            out.append(LINE_BREAK)
        elif (
            ch in _ESCAPED
            or (ch == "(" and _EMOTICON.match(value, index))
            or (ch in ":;" and nxt in _SMILEY_TAIL)
        ):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def wiki_url(href: str) -> str | None:
    """``href`` percent-encoded so it cannot end a ``[text|url]`` link early, or ``None`` when it
    is not an http, https or mailto URL."""
    safe = safe_href(clean_text(href))
    return None if safe is None else quote(safe, safe=_URL_SAFE)


# -- inline -----------------------------------------------------------------------------------


def _first_char(node: Inline | None) -> str:
    if isinstance(node, Text):
        return clean_text(node.text)[:1]
    return "[" if isinstance(node, Link) else ""


def _inlines(
    nodes: Sequence[Inline], *, line_start: bool, extra: frozenset[Mark] = frozenset()
) -> str:
    out = ""
    for index, node in enumerate(nodes):
        at_start = line_start and not out.strip()
        if isinstance(node, HardBreak):
            out += LINE_BREAK
        elif isinstance(node, Link):
            out += _link(node, line_start=at_start)
        else:
            marks = node.marks | extra
            if not marks:
                out += escape(node.text, line_start=at_start)
            else:
                following = _first_char(nodes[index + 1] if index + 1 < len(nodes) else None)
                out += _marked(node.text, marks, before=out[-1:], after=following)
    return out


def _marked(value: str, marks: frozenset[Mark], *, before: str, after: str) -> str:
    """Marked text, one wrapped run per line, whitespace kept outside the markers."""
    lines = clean_text(value).split("\n")
    rendered: list[str] = []
    for number, line in enumerate(lines):
        core = line.strip()
        if not core:
            rendered.append(escape(line))
            continue
        lead, trail = line[: len(line) - len(line.lstrip())], line[len(line.rstrip()) :]
        body = escape(core)
        if "code" in marks:
            body = "{{" + _as_entities(body, "{}") + "}}"
        if "strike" in marks:
            body = "-" + _as_entities(body, "-") + "-"
        if "em" in marks:
            body = "_" + _as_entities(body, "_") + "_"
        if "strong" in marks:
            body = "*" + _as_entities(body, "*") + "*"
        # `*b*` only works at word boundaries; inside a word Jira needs the `{*}b{*}` form.
        neighbour_before = lead[-1:] or (before if number == 0 else " ")
        neighbour_after = trail[:1] or (after if number == len(lines) - 1 else " ")
        if neighbour_before.isalnum() or neighbour_after.isalnum():
            body = _force_form(body, marks)
        rendered.append(escape(lead) + body + escape(trail))
    return LINE_BREAK.join(rendered)


def _as_entities(escaped: str, chars: str) -> str:
    """Inside a wrapper, its own delimiter characters become entities: Jira's non-greedy match
    would otherwise close ``*a\\**`` or ``{{a\\}}}`` one character early."""
    for ch in chars:
        escaped = escaped.replace("\\" + ch, f"&#{ord(ch)};")
    return escaped


def _force_form(body: str, marks: frozenset[Mark]) -> str:
    outer = next((wrapper for mark, wrapper in _FORCED if mark in marks), "")
    if not outer:
        return body  # monospace needs no word boundary
    return "{" + outer + "}" + body[1:-1] + "{" + outer + "}"


def _link(link: Link, *, line_start: bool = False) -> str:
    label = link_label(link).replace("\n", " ")
    url = wiki_url(link.href)
    if url is None:
        return escape(label, line_start=line_start)
    return "[" + escape(label) + "|" + url + "]"


# -- blocks -----------------------------------------------------------------------------------


def _blocks(blocks: Sequence[Block], *, nested: bool) -> list[str]:
    out: list[str] = []
    for block in blocks:
        out.extend(chunk for chunk in _block(block, nested=nested) if chunk.strip())
    return out


def _block(block: Block, *, nested: bool) -> list[str]:
    if isinstance(block, Paragraph):
        return [_inlines(block.content, line_start=True)]
    if isinstance(block, Heading):
        level = min(max(int(block.level), 1), 6)
        # Decide emptiness on the text, not the markup: a lone newline renders as "\\ ".
        visible = any(
            isinstance(i, Link) or (isinstance(i, Text) and clean_text(i.text).strip())
            for i in block.content
        )
        body = _inlines(block.content, line_start=False)
        return [f"h{level}. {body}"] if visible and body.strip() else []
    if isinstance(block, BulletList | OrderedList):
        return ["\n".join(_list_lines(block, ""))]
    if isinstance(block, CodeBlock):
        return [_code_block(block)]
    if isinstance(block, Table):
        return ["\n".join(_table_lines(block))]
    if isinstance(block, Panel | Quote):
        # Jira macros do not nest with themselves: inside a panel or quote, flatten.
        inner = _blocks(block.content, nested=True)
        if nested:
            return inner
        if isinstance(block, Quote):
            return ["{quote}\n" + "\n\n".join(inner) + "\n{quote}"]
        border, background = _PANEL_COLOURS.get(block.kind, _PANEL_COLOURS["info"])
        opening = f"{{panel:borderStyle=solid|borderColor={border}|bgColor={background}}}"
        return [opening + "\n" + "\n\n".join(inner) + "\n{panel}"]
    return ["----"]


def _code_block(block: CodeBlock) -> str:
    text = clean_text(block.text)
    lowered = text.lower()
    language = _CODE_LANGUAGE_UNSAFE.sub("", block.language)
    if "{code" not in lowered:
        opening = f"{{code:{language}}}" if language else "{code}"
        return f"{opening}\n{text}\n{{code}}"
    if "{noformat" not in lowered:
        return f"{{noformat}}\n{text}\n{{noformat}}"
    # The text could close either macro: fall back to escaped monospace lines.
    return _code_inline(text)


def _code_inline(text: str) -> str:
    return LINE_BREAK.join(
        "{{" + _as_entities(escape(line), "{}") + "}}" if line else "" for line in text.split("\n")
    )


def _table_cells(block: Table) -> Iterator[tuple[bool, tuple[tuple[Inline, ...], ...]]]:
    if block.header:
        yield True, block.header
    for row in block.rows:
        yield False, row


def _table_lines(block: Table) -> list[str]:
    rows = list(_table_cells(block))
    width = max((len(cells) for _, cells in rows), default=0)
    lines: list[str] = []
    for is_header, cells in rows:
        padded = list(cells) + [()] * (width - len(cells))
        bar = "||" if is_header else "|"
        rendered = [_inlines(cell, line_start=False) or " " for cell in padded]
        lines.append(bar + bar.join(rendered) + bar)
    return lines if width else []


# -- lists: one physical line per item, so everything in an item is flattened onto it ----------


def _expand(blocks: Sequence[Block]) -> Iterator[Block]:
    for block in blocks:
        if isinstance(block, Panel | Quote):
            yield from _expand(block.content)
        else:
            yield block


def _list_lines(block: BulletList | OrderedList, prefix: str) -> list[str]:
    marker = prefix + ("#" if isinstance(block, OrderedList) else "*")
    lines: list[str] = []
    for item in block.items:
        segment: list[str] = []
        opened = False
        for child in _expand(item):
            if isinstance(child, BulletList | OrderedList):
                if segment or not opened:
                    lines.append(f"{marker} " + LINE_BREAK.join(segment))
                    segment, opened = [], True
                lines.extend(_list_lines(child, marker))
            else:
                segment.extend(_flat(child))
        if segment or not opened:
            lines.append(f"{marker} " + LINE_BREAK.join(segment))
    return lines


def _flat(block: Block) -> list[str]:
    """``block`` as pieces of one line (for list items)."""
    if isinstance(block, Paragraph):
        body = _inlines(block.content, line_start=False)
    elif isinstance(block, Heading):
        body = _inlines(block.content, line_start=False, extra=frozenset({"strong"}))
    elif isinstance(block, CodeBlock):
        body = _code_inline(clean_text(block.text))
    elif isinstance(block, Table):
        return [
            " \\| ".join(
                _inlines(
                    cell, line_start=False, extra=frozenset({"strong"}) if head else frozenset()
                )
                for cell in cells
            )
            for head, cells in _table_cells(block)
        ]
    else:
        return []  # rules have no place on a line; lists and containers are handled by the caller
    return [body] if body else []
