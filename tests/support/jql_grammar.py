"""A JQL parser for tests: ``tests/support/jql.lark`` (Atlassian's documented JQL syntax) on lark.

Public helpers: ``parse_jql(text)`` gives the parse tree or raises ``JqlSyntaxError`` with the
place and what was expected; ``is_valid_jql(text)``. On top of the grammar it refuses what a
context-free grammar cannot: a reserved word written unquoted (``project = OR``), as Jira does.
The reserved words are typed here from Atlassian's list, apart from the bridge's own copy in
``render/sanitise.py``, so the oracle does not share a mistake with the code it checks.

lark is a test-only dependency; without it the calling test is skipped, saying what to install.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

GRAMMAR = Path(__file__).with_name("jql.lark")
LARK_REQUIREMENT = "lark==1.3.1"

# Atlassian's reserved words (the JQL reference's list; the keywords are among them).
# fmt: off
RESERVED_WORDS = frozenset("""
    a an abort access add after alias all alter and any are as asc at audit avg be before begin
    between boolean break but by byte catch cf changed char character check checkpoint collate
    collation column commit connect continue count create current date decimal declare
    decrement default defaults define delete delimiter desc difference distinct divide do
    double drop else empty encoding end equals escape exclusive exec execute exists explain
    false fetch file field first float for from function go goto grant greater group having
    identified if immediate in increment index initial inner inout input insert int integer
    intersect intersection into is isempty isnull it join last left less like limit lock long
    max min minus mode modify modulo more multiply next no noaudit not notin nowait null number
    object of on option or order outer output power previous prior privileges public raise raw
    remainder rename resource return returns revoke right row rowid rownum rows select session
    set share size sqrt start strict string subtract such sum synonym table that the their then
    there these they this to trans transaction trigger true uid union unique update user
    validate values view was when whenever where while will with
""".split())  # noqa: SIM905 -- a word list reads better as words
# fmt: on


class JqlSyntaxError(ValueError):
    """The text is not JQL; the message says where and why."""


@cache
def _parser() -> Any:
    lark = pytest.importorskip(
        "lark", reason=f"the JQL grammar check needs {LARK_REQUIREMENT} (a dev dependency)"
    )
    return lark.Lark(
        GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="contextual", start="start"
    )


def parse_jql(text: str) -> Any:
    """The parse tree of ``text``, or ``JqlSyntaxError``."""
    parser = _parser()
    from lark.exceptions import LarkError

    try:
        tree = parser.parse(text)
    except LarkError as exc:
        raise JqlSyntaxError(f"not JQL: {exc}") from exc
    for token in tree.scan_values(lambda v: getattr(v, "type", None) == "UNQUOTED"):
        if str(token).lower() in RESERVED_WORDS:
            raise JqlSyntaxError(
                f"not JQL: {str(token)!r} is a reserved word and must be quoted "
                f"(line {token.line}, column {token.column})"
            )
    return tree


def is_valid_jql(text: str) -> bool:
    try:
        parse_jql(text)
    except JqlSyntaxError:
        return False
    return True
