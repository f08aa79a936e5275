"""Patterns that rules and the category map match text with: a glob, or a regex written ``re:...``.

Both are case-insensitive; a glob matches the whole value, a regex anywhere in it (anchor it with
``^`` and ``$``). Pure and cached; never raises on a value, only on a bad pattern.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache

REGEX_PREFIX = "re:"

__all__ = ["REGEX_PREFIX", "compile_pattern", "matches", "pattern_problem", "pattern_warning"]


@lru_cache(maxsize=2048)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled form of a glob or ``re:`` pattern; ``ValueError`` says what is wrong."""
    problem = pattern_problem(pattern)
    if problem is not None:
        raise ValueError(problem)
    if pattern.startswith(REGEX_PREFIX):
        return re.compile(pattern[len(REGEX_PREFIX) :], re.IGNORECASE)
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


def matches(pattern: str, value: str) -> bool:
    """True when ``value`` matches ``pattern`` (glob: the whole value; regex: anywhere)."""
    compiled = compile_pattern(pattern)
    if pattern.startswith(REGEX_PREFIX):
        return compiled.search(value) is not None
    return compiled.match(value) is not None


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used, with what to write instead; ``None`` when it is fine."""
    if pattern.startswith(REGEX_PREFIX):
        body = pattern[len(REGEX_PREFIX) :]
        if not body:
            return f"{pattern!r} is an empty regex; write re:<expression>"
        try:
            re.compile(body)
        except re.error as exc:
            return f"{pattern!r} is not a valid regex ({exc}); fix it or use a glob"
        return None
    if not pattern.strip():
        return "an empty pattern never matches; remove it or write * to match anything"
    if _unbalanced_bracket(pattern):
        return (
            f"{pattern!r} has a '[' without its ']', which would match a literal '['; "
            "close the set or write [[] for a literal bracket"
        )
    return None


def pattern_warning(pattern: str) -> str | None:
    """Something legal but probably unintended about ``pattern`` (for ``check-config``)."""
    if pattern != pattern.strip():
        return f"{pattern!r} has spaces at its ends, which must match too; trim them"
    if pattern.startswith(REGEX_PREFIX) and pattern[len(REGEX_PREFIX) :] in (".*", ".+"):
        return f"{pattern!r} matches everything; leave the key out instead"
    return None


def _unbalanced_bracket(pattern: str) -> bool:
    index = 0
    while index < len(pattern):
        if pattern[index] == "[":
            close = index + 1
            if close < len(pattern) and pattern[close] == "!":
                close += 1
            if close < len(pattern) and pattern[close] == "]":
                close += 1
            close = pattern.find("]", close)
            if close < 0:
                return True
            index = close
        index += 1
    return False
