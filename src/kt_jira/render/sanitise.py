"""Pure: untrusted payload text made inert for one place in Jira: one-line summaries, labels,
correlation markers, JQL literals and project clauses, link targets and labels.

No I/O, no markup: markup belongs to the ``adf`` and ``wiki`` renderers.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import urlsplit

from kt_jira.render.nodes import (
    Link,
)

LINK_SCHEMES = frozenset({"http", "https", "mailto"})

_ELLIPSIS = "…"
_CORRELATION_PREFIX = "kt-esc-"
_LABEL_LIMIT = 255
# A hashed correlation label always ends like this; plain ids that do too are hashed as well, so
# the two forms can never collide.
_HASHED_SUFFIX = re.compile(r"-[0-9a-f]{10}\Z")
_LABEL_SAFE = re.compile(r"[a-z0-9_.:-]+\Z")
_LABEL_UNSAFE_CHAR = re.compile(r"[^a-z0-9_.:-]")
_DASHES = re.compile(r"-{2,}")
# Whitespace (Unicode-aware, includes U+2028/2029/0085) and C0/C1 controls.
_ONE_LINE_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
_LINE_SEPARATORS = {"\r\n": "\n", "\r": "\n", "\u2028": "\n", "\u2029": "\n"}
_LINE_SEPARATOR_RE = re.compile("\r\n|[\r\u2028\u2029]")
_ZWJ = "\u200d"
# Valid in a JQL string only as \\u escapes: separators that split lines (Python's splitlines, some
# terminals) and the noncharacters Jira's lexer rejects inside quotes.
_JQL_ESCAPED = re.compile("[\u2028\u2029\ufdd0-\ufdef\ufffe\uffff]")


def clean_text(value: str) -> str:
    """Drop what no Jira field can hold: control characters (except newline and tab) and lone
    surrogates. Line separators (CR, CRLF, U+2028, U+2029) become ``\\n``, because Java regexes on
    the Jira side treat them as line starts."""
    value = _LINE_SEPARATOR_RE.sub(lambda m: _LINE_SEPARATORS[m.group(0)], value)
    return "".join(ch for ch in value if ch in "\n\t" or not _is_dropped(ch))


def _is_dropped(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs")


def _continues_cluster(ch: str) -> bool:
    """True when ``ch`` cannot start a user-perceived character (it extends the previous one)."""
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def safe_prefix(value: str, limit: int) -> str:
    """At most ``limit`` code points of ``value``, cut only between user-perceived characters
    (never inside a combining sequence, an emoji ZWJ sequence or a flag)."""
    if limit <= 0:
        return ""
    if len(value) <= limit:
        return value
    cut = limit
    while cut > 0 and (_continues_cluster(value[cut]) or value[cut - 1] == _ZWJ):
        cut -= 1
    if cut > 0 and _is_regional_indicator(value[cut]) and _is_regional_indicator(value[cut - 1]):
        run = 0
        while cut - run - 1 >= 0 and _is_regional_indicator(value[cut - run - 1]):
            run += 1
        if run % 2:
            cut -= 1
    return value[:cut]


def one_line(value: str, limit: int = 255) -> str:
    """``value`` on one line for a single-line field such as the summary.

    Runs of whitespace and control characters become one space, the ends are stripped, and the
    result is cut to ``limit`` code points with a trailing ``…`` when anything was cut."""
    if limit < 1:
        raise ValueError("one_line limit must be at least 1")
    kept = "".join(ch for ch in value if not _is_surrogate(ch) and ch not in _BIDI_CONTROLS)
    flat = _ONE_LINE_SPACE.sub(" ", kept).strip()
    if len(flat) <= limit:
        return flat
    return safe_prefix(flat, limit - 1).rstrip() + _ELLIPSIS


# Embedding, override and isolate controls can make a one-line value display as other text
# ("Trojan Source"); a summary shown in lists has no paragraph of its own to contain them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_surrogate(ch: str) -> bool:
    return unicodedata.category(ch) == "Cs"


def label_safe(value: str, limit: int = _LABEL_LIMIT) -> str:
    """A Jira label made from ``value``: lower case, only ``[a-z0-9_.:-]`` (anything else becomes
    ``-``), no repeated or edge ``-``, never empty (``unknown``), at most ``limit`` characters."""
    if limit < 1:
        raise ValueError("label_safe limit must be at least 1")
    label = _DASHES.sub("-", _LABEL_UNSAFE_CHAR.sub("-", value.lower())).strip("-")
    label = label[:limit].rstrip("-")
    return label or "unknown"[:limit]


def correlation_label(escalation_id: str) -> str:
    """The label that marks an escalation's issue: ``kt-esc-<id>`` when the id is already a
    lower-case label, else a readable part plus 10 hex digits of its SHA-256, so two different
    ids never share a marker."""
    plain = _CORRELATION_PREFIX + escalation_id
    if (
        _LABEL_SAFE.match(escalation_id)
        and label_safe(escalation_id) == escalation_id
        and len(plain) <= _LABEL_LIMIT
        and not _HASHED_SUFFIX.search(plain)
    ):
        return plain
    digest = hashlib.sha256(escalation_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    readable = label_safe(escalation_id)[:200].rstrip("-")
    return f"{_CORRELATION_PREFIX}{readable}-{digest}"


def jql_string(value: str) -> str:
    """A double-quoted JQL string literal holding ``value`` and nothing else, on one line.

    ``\\`` and ``"`` are escaped, newline and tab become ``\\n`` and ``\\t``, other control
    characters are removed. Line and paragraph separators (U+2028, U+2029) and the characters JQL
    refuses inside quotes although they are no controls (U+FDD0-U+FDEF, U+FFFE, U+FFFF) are
    written as ``\\uXXXX`` escapes, which JQL decodes. Note: with ``~`` Jira still applies
    Lucene text-search rules to the contents (stemming, wildcards); use ``=`` on labels for exact
    matches."""
    out = ['"']
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif _JQL_ESCAPED.match(ch):
            out.append(f"\\u{ord(ch):04x}")
        elif not _is_dropped(ch):
            out.append(ch)
    out.append('"')
    return "".join(out)


def jql_field(name: str) -> str:
    """A field reference by name, always quoted: ``"Policy Name"``, ``"Time to resolution"``.

    Quoting is what Jira asks for names with spaces or reserved words, and harmless otherwise."""
    return jql_string(name)


def safe_href(href: str) -> str | None:
    """``href`` when it is an http, https or mailto URL fit to be a link target, else ``None``."""
    href = href.strip()
    if not href or any(ch.isspace() or _is_dropped(ch) for ch in href):
        return None
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in LINK_SCHEMES:
        return None
    if scheme == "mailto":
        return href if parts.path else None
    return href if parts.netloc else None


def link_label(link: Link) -> str:
    """What a link shows: its text, or its href when the text is empty once cleaned."""
    return clean_text(link.text) or clean_text(link.href)


# -- JQL keys and project clauses -----------------------------------------------------------------


_PLAIN_PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9_]*\Z")
# Words JQL reserves: unquoted, ``project = OR`` is a syntax error. Atlassian's documented list
# (JQL reference, "reserved words"), which also holds the grammar's keywords (and, changed, was...).
_RESERVED = """
a an abort access add after alias all alter and any are as asc at audit avg be before begin
between boolean break but by byte catch cf changed char character check checkpoint collate
collation column commit connect continue count create current date decimal declare decrement
default defaults define delete delimiter desc difference distinct divide do double drop during
else empty encoding end equals escape exclusive exec execute exists explain false fetch file
field first float for from function go goto grant greater group having identified if immediate
in increment index initial inner inout input insert int integer intersect intersection into is
isempty isnull it join last left less like limit lock long max min minus mode modify modulo
more multiply next no noaudit not notin nowait null number object of on option or order outer
output power previous prior privileges public raise raw remainder rename resource return
returns revoke right row rowid rownum rows select session set share size sqrt start strict
string subtract such sum synonym table that the their then there these they this to trans
transaction trigger true uid union unique update user validate values view was when whenever
where while will with
"""
JQL_RESERVED_WORDS = frozenset(_RESERVED.split())


def jql_key(key: str) -> str:
    """A project or issue key as a JQL value: bare when plain (``AIGOV``), else quoted (reserved
    words such as ``OR``, and anything that is not upper-case letters, digits and ``_``)."""
    if _PLAIN_PROJECT_KEY.match(key) and key.lower() not in JQL_RESERVED_WORDS:
        return key
    return jql_string(key)


def project_jql(projects: Sequence[str]) -> str:
    """``project = KEY`` or ``project in (A, B)``, each key as ``jql_key`` writes it."""
    keys = [jql_key(k) for k in dict.fromkeys(projects)]
    return f"project = {keys[0]}" if len(keys) == 1 else f"project in ({', '.join(keys)})"
