"""Jira field helpers: one-line summaries, labels, correlation markers, JQL literals, truncation."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kt_jira.render.nodes import (
    BulletList,
    CodeBlock,
    Document,
    HardBreak,
    Heading,
    Link,
    Paragraph,
    Table,
    Text,
    paragraph,
    text,
)
from kt_jira.render.sanitise import (
    JQL_RESERVED_WORDS,
    clean_text,
    correlation_label,
    jql_field,
    jql_key,
    jql_string,
    label_safe,
    one_line,
    project_jql,
    safe_href,
    safe_prefix,
)
from kt_jira.render.truncate import TRUNCATION_MARKER, text_length, truncate_document

HOSTILE = [
    'x" OR project = Y',
    'x\\" OR project = Y',
    "a\nb\tc\r\x00d\x1be",
    "שלום עולם ‮evil",
    "👩‍👩‍👧‍👦🇩🇪🇫🇷",
    "e\u0301" * 5,
    "{{ config.items() }} {% raw %}",
    '{"type":"doc","version":1}',
    "[x|http://evil] *bold* h1. Big",
]
anything = st.one_of(
    st.text(),
    st.text(min_size=300, max_size=600),
    st.sampled_from(HOSTILE),
    st.lists(st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE)), max_size=6).map("".join),
)


# -- one_line ---------------------------------------------------------------------------------


def test_one_line_collapses_whitespace_and_controls() -> None:
    """Newlines, tabs, control characters and runs of spaces become single spaces."""
    assert one_line("  Prompt\ninjection\t\x00 blocked  \r\n on  gw-1 ") == (
        "Prompt injection blocked on gw-1"
    )


def test_one_line_cuts_with_ellipsis() -> None:
    """A value over the limit is cut to exactly the limit, the last character being an ellipsis."""
    result = one_line("a" * 300)
    assert len(result) == 255
    assert result.endswith("…")
    assert one_line("abc", limit=3) == "abc"
    assert one_line("abcd", limit=3) == "ab…"


def test_one_line_never_splits_a_combining_sequence() -> None:
    """The cut backs off to the start of a combining sequence or an emoji ZWJ sequence."""
    decomposed = "a" * 252 + "e\u0301\u0302" + "zzz"
    result = one_line(decomposed, limit=255)
    assert result == "a" * 252 + "…"
    family = "a" * 250 + "👩\u200d👩\u200d👧" + "tail"
    assert one_line(family, limit=255) == "a" * 250 + "…"


def test_one_line_never_splits_a_flag() -> None:
    """Regional-indicator pairs (flags) stay whole at the cut."""
    flags = "a" * 251 + "🇩🇪🇫🇷" + "tail"
    assert one_line(flags, limit=255) == "a" * 251 + "🇩🇪" + "…"


def test_one_line_rejects_a_zero_limit() -> None:
    """A limit below one is a programming error, not a silent empty summary."""
    with pytest.raises(ValueError, match="at least 1"):
        one_line("x", limit=0)


@given(anything, st.integers(min_value=1, max_value=400))
def test_one_line_properties(value: str, limit: int) -> None:
    """Any input gives one stripped line within the limit, free of controls and line breaks."""
    result = one_line(value, limit)
    assert len(result) <= limit
    assert result == result.strip()
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", result)
    assert "  " not in result
    assert not any(unicodedata.category(ch) == "Cs" for ch in result)
    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    kept = "".join(ch for ch in value if unicodedata.category(ch) != "Cs" and ch not in bidi)
    assert not any(ch in bidi for ch in result)
    collapsed = re.sub(r"[\s\x00-\x1f\x7f-\x9f]+", " ", kept).strip()
    if len(collapsed) <= limit:
        assert result == collapsed
    else:
        assert result.endswith("…")
        assert collapsed.startswith(result.removesuffix("…"))


# -- labels -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Prompt Injection", "prompt-injection"),
        ("PII / SSN (US)", "pii-ssn-us"),
        ("  --weird__name..v2:beta--  ", "weird__name..v2:beta"),
        ("", "unknown"),
        ("🙂🙂", "unknown"),
        ("Café crème", "caf-cr-me"),
    ],
)
def test_label_safe_examples(value: str, expected: str) -> None:
    """Labels are lower case, dash-separated and keep only Jira-safe characters."""
    assert label_safe(value) == expected


@given(anything, st.integers(min_value=1, max_value=300))
def test_label_safe_properties(value: str, limit: int) -> None:
    """Any input gives a non-empty label within the limit, with no whitespace and no edge dash."""
    label = label_safe(value, limit)
    assert 0 < len(label) <= min(limit, 255)
    assert re.fullmatch(r"[a-z0-9_.:-]+", label)
    assert not any(ch.isspace() for ch in label)
    assert "--" not in label
    assert not label.startswith("-")
    assert not label.endswith("-")


def test_correlation_label_keeps_simple_ids_readable() -> None:
    """A lower-case, label-safe id is used as is; anything else gets a hash suffix."""
    assert correlation_label("esc_01hx9k") == "kt-esc-esc_01hx9k"
    digest = hashlib.sha256(b"ESC 42").hexdigest()[:10]
    assert correlation_label("ESC 42") == f"kt-esc-esc-42-{digest}"


def test_correlation_label_cannot_be_forged_by_an_id_that_looks_hashed() -> None:
    """An id that spells another id's hashed label still gets its own, different marker."""
    hashed = correlation_label("ESC 42")
    forged_id = hashed.removeprefix("kt-esc-")
    assert correlation_label(forged_id) != hashed


def test_correlation_label_fits_for_long_ids() -> None:
    """Very long ids give labels within Jira's 255-character limit."""
    assert len(correlation_label("x" * 1000)) <= 255
    assert correlation_label("x" * 1000) != correlation_label("x" * 1001)


@given(st.lists(anything, unique=True, max_size=30))
def test_correlation_labels_are_distinct_for_distinct_ids(ids: list[str]) -> None:
    """Different escalation ids never share a correlation label, and every label is label-safe."""
    labels = [correlation_label(escalation_id) for escalation_id in ids]
    assert len(set(labels)) == len(labels)
    for label in labels:
        assert label_safe(label) == label
        assert len(label) <= 255


@given(st.sampled_from(["A", "a ", " a", "a-", "-a", "a--b", "a b", "a\tb", "A-B"]), anything)
def test_correlation_labels_distinct_for_ids_with_the_same_readable_part(
    first: str, second: str
) -> None:
    """Ids that sanitize to the same readable part still get different labels."""
    if first != second:
        assert correlation_label(first) != correlation_label(second)


# -- JQL --------------------------------------------------------------------------------------


def parse_jql_string(source: str) -> tuple[str, str]:
    """A tiny JQL string-literal parser: returns (value, rest of the source after the literal)."""
    if not source.startswith('"'):
        raise ValueError("not a double-quoted string")
    escapes = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
    out: list[str] = []
    index = 1
    while index < len(source):
        ch = source[index]
        if ch == '"':
            return "".join(out), source[index + 1 :]
        if ch == "\\":
            nxt = source[index + 1 : index + 2]
            if nxt == "u":
                out.append(chr(int(source[index + 2 : index + 6], 16)))
                index += 6
                continue
            if nxt not in escapes:
                raise ValueError(f"bad escape \\{nxt}")
            out.append(escapes[nxt])
            index += 2
            continue
        if ch in "\n\r":
            raise ValueError("raw line break inside a JQL string")
        out.append(ch)
        index += 1
    raise ValueError("unterminated string")


def test_jql_string_neutralises_injection() -> None:
    """A value that tries to close the string and add a clause stays one literal."""
    literal = jql_string('x" OR project = Y')
    assert literal == '"x\\" OR project = Y"'
    value, rest = parse_jql_string(literal + " AND labels = z")
    assert value == 'x" OR project = Y'
    assert rest == " AND labels = z"


def test_jql_string_escapes_backslash_before_quote() -> None:
    """A trailing backslash cannot escape the closing quote."""
    assert jql_string("a\\") == '"a\\\\"'
    assert parse_jql_string(jql_string('a\\" OR x = y')) == ('a\\" OR x = y', "")


def test_jql_string_writes_line_breaks_as_escapes() -> None:
    """Newlines and tabs are written as \\n and \\t, other control characters are dropped."""
    assert jql_string("a\nb\tc\rd\x00e") == '"a\\nb\\tcde"'


@given(anything)
def test_jql_string_round_trips(value: str) -> None:
    """Any value parses back from its literal, whole, with nothing after the closing quote."""
    expected = "".join(
        ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    assert parse_jql_string(jql_string(value)) == (expected, "")


def test_jql_string_keeps_every_query_on_one_line() -> None:
    """Line and paragraph separators, which split lines outside Jira, become \\u escapes; so do
    the noncharacters Jira refuses inside quotes. Both decode back to the same text."""
    value = "a\u2028b\u2029c\ufffed\ufdd0e\uffff"
    literal = jql_string(value)
    assert literal == '"a\\u2028b\\u2029c\\ufffed\\ufdd0e\\uffff"'
    assert literal.splitlines() == [literal]
    assert parse_jql_string(literal) == (value, "")


def test_jql_field_quotes_every_name() -> None:
    """Field names are always quoted: spaces, reserved words and quotes are safe."""
    assert jql_field("Policy Name") == '"Policy Name"'
    assert jql_field("order") == '"order"'
    assert jql_field('Time "to" resolution') == '"Time \\"to\\" resolution"'


@pytest.mark.parametrize(
    ("key", "written"),
    [
        ("AIGOV", "AIGOV"),
        ("SAFETY_2", "SAFETY_2"),
        ("OR", '"OR"'),
        ("AND", '"AND"'),
        ("IN", '"IN"'),
        ("CF", '"CF"'),
        ("SELECT", '"SELECT"'),
        ("aigov", '"aigov"'),
        ('X" OR project = Y', '"X\\" OR project = Y"'),
    ],
)
def test_jql_key_is_bare_only_when_plain_and_not_reserved(key: str, written: str) -> None:
    """A key is written bare when it is upper-case letters, digits and _ and no reserved word."""
    assert jql_key(key) == written


def test_project_jql_quotes_reserved_keys_in_lists() -> None:
    """One key gives ``=``, several ``in (...)``, each once, reserved words quoted."""
    assert project_jql(["AIGOV"]) == "project = AIGOV"
    assert project_jql(["AIGOV", "OR", "AIGOV"]) == 'project in (AIGOV, "OR")'


def test_the_reserved_words_hold_the_grammar_keywords_and_atlassians_list() -> None:
    """The bridge's list covers the keywords and every word the test grammar refuses unquoted."""
    from tests.support.jql_grammar import RESERVED_WORDS

    keywords = {"and", "or", "not", "in", "is", "was", "changed", "empty", "null", "order", "by"}
    assert keywords | {"asc", "desc", "cf", "after", "before", "on", "during", "from", "to"} <= (
        JQL_RESERVED_WORDS
    )
    assert RESERVED_WORDS <= JQL_RESERVED_WORDS


# -- hrefs and cleaning -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("href", "ok"),
    [
        ("https://console.keeptrusts.com/escalations/esc_1", True),
        ("http://example.com", True),
        ("mailto:security@example.com", True),
        ("HTTPS://EXAMPLE.COM", True),
        ("javascript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("data:text/html,x", False),
        ("https://exa mple.com", False),
        ("https:///nohost", False),
        ("/relative/path", False),
        ("", False),
        ("mailto:", False),
        ("https://[::1", False),
    ],
)
def test_safe_href(href: str, ok: bool) -> None:
    """Only well-formed http, https and mailto URLs may become link targets."""
    assert (safe_href(href) is not None) is ok


def test_clean_text_keeps_newlines_and_tabs_only() -> None:
    """Controls and lone surrogates go; CR, CRLF and Unicode line separators become newlines."""
    assert clean_text("a\r\nb\rc\u2028d\u2029e\tf\x00\x7f\x85g\ud800") == "a\nb\nc\nd\ne\tfg"


def test_safe_prefix_respects_clusters() -> None:
    """safe_prefix cuts between user-perceived characters."""
    assert safe_prefix("ae\u0301b", 2) == "a"
    assert safe_prefix("abc", 0) == ""
    assert safe_prefix("abc", 5) == "abc"


# -- document length and truncation -----------------------------------------------------------


def _big_doc(size: int) -> Document:
    return Document(
        content=(
            Heading(level=1, content=(text("Escalation"),)),
            paragraph(text("x" * size), HardBreak(), Link(text="", href="https://e.x")),
            BulletList(items=((paragraph(text("item " * size)),), (paragraph(text("two")),))),
            Table(header=((text("k"),), (text("v"),)), rows=(((text("a" * size),), ()),)),
            CodeBlock(text="c" * size),
        )
    )


def test_text_length_counts_visible_characters() -> None:
    """Text, link labels (else the href), cells and code count; a hard break counts one."""
    doc = _big_doc(10)
    expected = len("Escalation") + 10 + 1 + len("https://e.x") + 50 + 3 + 2 + 10 + 10
    assert text_length(doc) == expected


def test_truncate_leaves_short_documents_alone() -> None:
    """A document within the limit is returned unchanged."""
    doc = _big_doc(10)
    assert truncate_document(doc) is doc


def test_truncate_cuts_and_marks() -> None:
    """A long document is cut to the limit, marker included, and ends with the marker."""
    doc = _big_doc(40000)
    cut = truncate_document(doc)
    assert text_length(cut) <= 32767
    last = cut.content[-1]
    assert last == Paragraph(content=(Text(text=TRUNCATION_MARKER),))
    assert cut.content[0] == doc.content[0]


def test_truncate_below_the_marker_length() -> None:
    """With a limit shorter than the marker, only a cut marker remains."""
    cut = truncate_document(_big_doc(100), limit=10)
    assert text_length(cut) <= 10


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=3000))
def test_truncate_properties(size: int, limit: int) -> None:
    """Truncation never exceeds the limit and only happens when the document is too long."""
    doc = _big_doc(size)
    cut = truncate_document(doc, limit)
    if text_length(doc) <= limit:
        assert cut is doc
    else:
        assert text_length(cut) <= limit


def test_one_line_drops_bidi_overrides_but_keeps_rtl_text() -> None:
    """Bidi override and isolate controls are removed from one-line values; RTL letters stay."""
    assert one_line("safe\u202egpj.exe\u2066x\u2069 שלום") == "safegpj.exex שלום"
