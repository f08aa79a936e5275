"""A small JQL parser for the simulated Jira: tokens, clauses, AND/OR/NOT, ORDER BY.

It accepts the subset a bridge needs and rejects everything else with a Jira-style
``Error in the JQL Query`` message, so unsupported syntax surfaces as a 400. Evaluation lives in
`jira_search`. Pure; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

OPERATORS = ("!=", "!~", ">=", "<=", "=", "~", ">", "<")
KEYWORDS = frozenset(
    {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}
)
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r", " ": " "}
_WORD_EXTRA = frozenset("-_")
VALID_OPERATORS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)


class JqlError(ValueError):
    """The query cannot be parsed or evaluated; ``str()`` is the message Jira would give."""


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "op", "punct", "end"
    text: str
    pos: int


@dataclass(frozen=True)
class Literal:
    text: str
    quoted: bool


@dataclass(frozen=True)
class Empty:
    pass


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[str, ...]


Value = Literal | Empty | Function | tuple[Literal | Function, ...]


@dataclass(frozen=True)
class Clause:
    field: str
    field_quoted: bool
    op: str  # "=", "!=", "~", "!~", ">", ">=", "<", "<=", "in", "not in", "is", "is not"
    value: Value


@dataclass(frozen=True)
class Bool:
    op: str  # "and" | "or"
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    inner: Node


Node = Clause | Bool | Not


@dataclass(frozen=True)
class Query:
    where: Node | None
    order_by: tuple[tuple[str, bool], ...]  # (field, descending)


def _error(message: str, pos: int) -> JqlError:
    return JqlError(f"Error in the JQL Query: {message} (line 1, character {pos + 1})")


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(jql):
        ch = jql[i]
        if ch.isspace():
            i += 1
        elif ch in "(),":
            tokens.append(Token("punct", ch, i))
            i += 1
        elif ch in "\"'":
            text, i = _read_string(jql, i)
            tokens.append(Token("string", text, i))
        elif any(jql.startswith(op, i) for op in OPERATORS):
            op = next(op for op in OPERATORS if jql.startswith(op, i))
            tokens.append(Token("op", op, i))
            i += len(op)
        elif jql[i : i + 3].lower() == "cf[":
            end = jql.find("]", i)
            if end < 0 or not jql[i + 3 : end].isdigit():
                raise _error("Expecting a custom field id in 'cf[...]'.", i)
            tokens.append(Token("word", jql[i : end + 1].lower(), i))
            i = end + 1
        elif ch.isalnum() or ch in _WORD_EXTRA:
            start = i
            while i < len(jql) and (jql[i].isalnum() or jql[i] in _WORD_EXTRA):
                i += 1
            tokens.append(Token("word", jql[start:i], start))
        else:
            raise _error(
                f"The character '{ch}' is a reserved JQL character. You must enclose it in a "
                f"string or use the escape '\\u{ord(ch):04x}' instead.",
                i,
            )
    tokens.append(Token("end", "", len(jql)))
    return tokens


def _read_string(jql: str, start: int) -> tuple[str, int]:
    quote, i, out = jql[start], start + 1, []
    while i < len(jql):
        ch = jql[i]
        if ch == "\\":
            nxt = jql[i + 1 : i + 2]
            if nxt == "u" and len(jql) >= i + 6:
                out.append(chr(int(jql[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt not in _ESCAPES:
                raise _error(f"'\\{nxt}' is an illegal JQL escape sequence.", i)
            out.append(_ESCAPES[nxt])
            i += 2
        elif ch == quote:
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise _error("The quoted string is missing its closing quote.", start)


class _Parser:
    def __init__(self, jql: str) -> None:
        self.tokens = tokenize(jql)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    def parse(self) -> Query:
        where = None if self.at_word("order") or self.tok.kind == "end" else self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.at_word("order"):
            self.take()
            if not self.at_word("by"):
                raise _error(f"Expecting 'by' but got '{self.tok.text}'.", self.tok.pos)
            self.take()
            order.append(self.sort_key())
            while self.tok.text == "," and self.tok.kind == "punct":
                self.take()
                order.append(self.sort_key())
        if self.tok.kind != "end":
            raise _error(f"Expecting either 'OR' or 'AND' but got '{self.tok.text}'.", self.tok.pos)
        return Query(where, tuple(order))

    def sort_key(self) -> tuple[str, bool]:
        tok = self.take()
        if tok.kind not in ("word", "string"):
            raise _error(f"Expecting a field name but got '{tok.text}'.", tok.pos)
        descending = False
        if self.at_word("asc", "desc"):
            descending = self.take().text.lower() == "desc"
        return tok.text, descending

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.at_word("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Bool("or", tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.unary()]
        while self.at_word("and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Bool("and", tuple(parts))

    def unary(self) -> Node:
        if self.at_word("not"):
            self.take()
            return Not(self.unary())
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.take()
            node = self.or_expr()
            self.expect(")")
            return node
        return self.clause()

    def expect(self, punct: str) -> None:
        if self.tok.kind != "punct" or self.tok.text != punct:
            raise _error(f"Expecting '{punct}' but got '{self.tok.text}'.", self.tok.pos)
        self.take()

    def clause(self) -> Clause:
        tok = self.take()
        if tok.kind not in ("word", "string") or (
            tok.kind == "word" and tok.text.lower() in KEYWORDS
        ):
            raise _error(f"Expecting a field name but got '{tok.text}'.", tok.pos)
        op = self.operator()
        if op in ("in", "not in"):
            return Clause(tok.text, tok.kind == "string", op, self.list_value())
        if op in ("is", "is not"):
            if not self.at_word("empty", "null"):
                raise _error(f"Expecting 'EMPTY' but got '{self.tok.text}'.", self.tok.pos)
            self.take()
            return Clause(tok.text, tok.kind == "string", op, Empty())
        if self.at_word("empty", "null"):
            self.take()
            return Clause(tok.text, tok.kind == "string", op, Empty())
        return Clause(tok.text, tok.kind == "string", op, self.single_value())

    def operator(self) -> str:
        tok = self.tok
        if tok.kind == "op":
            return self.take().text
        if self.at_word("in", "is"):
            word = self.take().text.lower()
            if word == "is" and self.at_word("not"):
                self.take()
                return "is not"
            return word
        if self.at_word("not"):
            self.take()
            if self.at_word("in"):
                self.take()
                return "not in"
        raise _error(f"Expecting operator but got '{tok.text}'. {VALID_OPERATORS}", tok.pos)

    def single_value(self) -> Literal | Function:
        tok = self.take()
        if tok.kind == "string":
            return Literal(tok.text, True)
        if tok.kind == "word" and tok.text.lower() not in KEYWORDS:
            if self.tok.kind == "punct" and self.tok.text == "(":
                return self.function(tok.text)
            return Literal(tok.text, False)
        raise _error(f"Expecting either a value, list or function but got '{tok.text}'.", tok.pos)

    def function(self, name: str) -> Function:
        self.expect("(")
        args: list[str] = []
        while not (self.tok.kind == "punct" and self.tok.text == ")"):
            tok = self.take()
            if tok.kind not in ("word", "string"):
                raise _error(f"Expecting ')' but got '{tok.text}'.", tok.pos)
            args.append(tok.text)
            if self.tok.kind == "punct" and self.tok.text == ",":
                self.take()
        self.take()
        return Function(name, tuple(args))

    def list_value(self) -> tuple[Literal | Function, ...]:
        self.expect("(")
        items = [self.single_value()]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.take()
            items.append(self.single_value())
        self.expect(")")
        return tuple(items)


def parse(jql: str) -> Query:
    """Parse ``jql``; raises `JqlError` with Jira's wording on anything unsupported."""
    return _Parser(jql).parse()
