"""The search query language: words, "phrases", AND, OR, NOT and parentheses.

Grammar (``AND`` binds tighter than ``OR``; two terms side by side mean ``AND``)::

    query   := or_expr EOF
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= not_expr (["AND"] not_expr)*
    not_expr:= "NOT" not_expr | atom
    atom    := WORD | '"' words '"' | "(" or_expr ")"

Operators are recognised in upper case only, so ``and`` or ``not`` are ordinary words.
"""

from __future__ import annotations

from dataclasses import dataclass


class QuerySyntaxError(ValueError):
    """A query that does not parse; ``position`` is the 0-based character offset of the problem."""

    def __init__(self, message: str, *, query: str, position: int) -> None:
        super().__init__(f"{message} at position {position}: {query!r}")
        self.reason = message
        self.query = query
        self.position = position


@dataclass(frozen=True)
class Word:
    """One query word, not yet analysed."""

    text: str


@dataclass(frozen=True)
class Phrase:
    """Words that must appear next to each other, in order."""

    text: str


@dataclass(frozen=True)
class And:
    """Documents matching every part."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Documents matching at least one part."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """Documents not matching ``part``."""

    part: Node


Node = Word | Phrase | And | Or | Not

_OPERATORS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class _Token:
    kind: str  # WORD, PHRASE, AND, OR, NOT, LPAREN, RPAREN, EOF
    text: str
    position: int


def _tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token("LPAREN" if char == "(" else "RPAREN", char, i))
            i += 1
        elif char == '"':
            end = query.find('"', i + 1)
            if end == -1:
                raise QuerySyntaxError("unterminated phrase", query=query, position=i)
            if not query[i + 1 : end].strip():
                raise QuerySyntaxError("empty phrase", query=query, position=i)
            tokens.append(_Token("PHRASE", query[i + 1 : end], i))
            i = end + 1
        else:
            start = i
            while i < len(query) and not query[i].isspace() and query[i] not in '()"':
                i += 1
            text = query[start:i]
            tokens.append(_Token(text if text in _OPERATORS else "WORD", text, start))
    tokens.append(_Token("EOF", "", len(query)))
    return tokens


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _tokenize(query)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def fail(self, message: str) -> QuerySyntaxError:
        return QuerySyntaxError(message, query=self.query, position=self.current.position)

    def parse(self) -> Node:
        if self.current.kind == "EOF":
            raise self.fail("empty query")
        node = self.or_expr()
        if self.current.kind == "RPAREN":
            raise self.fail("unmatched ')'")
        if self.current.kind != "EOF":  # pragma: no cover - every other token starts an operand
            raise self.fail(f"unexpected {self.current.text!r}")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.current.kind == "OR":
            self.index += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.current.kind in {"AND", "NOT", "WORD", "PHRASE", "LPAREN"}:
            if self.current.kind == "AND":
                self.index += 1
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self) -> Node:
        if self.current.kind == "NOT":
            self.index += 1
            return Not(self.not_expr())
        return self.atom()

    def atom(self) -> Node:
        token = self.current
        if token.kind == "WORD":
            self.index += 1
            return Word(token.text)
        if token.kind == "PHRASE":
            self.index += 1
            return Phrase(token.text)
        if token.kind == "LPAREN":
            self.index += 1
            if self.current.kind == "RPAREN":
                raise self.fail("empty parentheses")
            node = self.or_expr()
            if self.current.kind != "RPAREN":
                raise self.fail("expected ')'")
            self.index += 1
            return node
        if token.kind == "EOF":
            raise self.fail("query ends where a word was expected")
        raise self.fail(f"expected a word, phrase or '(' but found {token.text!r}")


def parse_query(query: str) -> Node:
    """Parse ``query`` into a tree of nodes.

    Raises:
        QuerySyntaxError: with the character position of the first problem.
    """
    return _Parser(query).parse()
