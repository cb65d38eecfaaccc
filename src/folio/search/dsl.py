r"""Folio's search query language: parse a query into an AST, compile it for Typesense 0.24.

The language (``docs/search-relevance.md`` has the full grammar and what compiles to what)::

    title:"king lear" author:shakespeare year:>1990 -used
    (tragedy OR comedy) AND author:shakespeare
    NOT subject:poetry
    title^3:lear isbn:0-19-515344-8 price:<20 condition:like-new

Grammar (``AND`` binds tighter than ``OR``; terms side by side mean ``AND``; the
operators are recognised in upper case only, so ``or`` and ``not`` stay ordinary words)::

    query    = [ or_expr ] EOF
    or_expr  = and_expr { "OR" and_expr }
    and_expr = unary { [ "AND" ] unary }
    unary    = ( "NOT" | "-" ) unary | primary
    primary  = "(" or_expr ")" | PHRASE | WORD | FIELD ( WORD | PHRASE )
    FIELD    = name [ "^" digits ] ":"      (no space before the value)
    PHRASE   = '"' { char | "\" char } '"'
    WORD     = { char | "\" char }          (no space, parenthesis or quote unescaped)

Compilation targets what the real Typesense 0.24.1 can express, checked against a running
server (``tests/integration/search/test_dsl_engine.py`` pins each construct):

- free words and phrases that must match go to ``q`` (``"..."`` is a real phrase search);
  excluded ones become ``-word`` / ``-"a phrase"`` in ``q``, which 0.24 honours;
- ``title:``/``author:``/``publisher:`` become ``filter_by`` token matches on the ``*_stem``
  fields (``title_stem:`king lear```: every word present, in any order) and their words are
  also put in ``q`` so the text match ranks the hits;
- ``subject:``, ``condition:``, ``isbn:`` are exact (case-insensitive) value filters
  (``:=`` / ``!=``), ``year:`` and ``price:`` numeric ranges (``[a..b]``, ``>=``, ``<=``);
- ``OR`` and parentheses become ``||`` and parentheses in ``filter_by``; a free word under
  an ``OR`` is a token match on any of the ``*_stem`` fields;
- ``filter_by`` in 0.24 has no negation of a group (``!(...)``) and no word-level
  "does not contain" for text fields, and cannot express a phrase at all. So ``NOT`` is
  pushed down to the leaves (De Morgan), and a query that would need to exclude a word from
  one field, or to match a phrase or exclude a free word inside ``OR``, is refused with a
  ``QuerySyntaxError`` naming the position: the engine cannot run it as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from folio.catalog.api import Condition, InvalidIsbnError, parse_isbn
from folio.core.errors import FolioError
from folio.textanalysis.api import analyze

__all__ = [
    "CONDITIONS",
    "DEFAULT_TUNING",
    "FIELDS",
    "MAX_QUERY_LENGTH",
    "STEM_FIELDS",
    "TUNINGS",
    "And",
    "EngineQuery",
    "FieldText",
    "FieldValue",
    "Node",
    "Not",
    "NumberRange",
    "Or",
    "Phrase",
    "Query",
    "QuerySyntaxError",
    "Tuning",
    "Word",
    "compile_query",
    "describe",
    "get_tuning",
    "parse_query",
]

MAX_QUERY_LENGTH = 1000
"""Longer queries are refused: nobody types more, and it bounds the parser's work."""

_MAX_DEPTH = 32
"""Deepest nesting of parentheses and NOTs accepted (keeps the recursive parser safe)."""

_MAX_BOOST = 10
_YEAR_DIGITS = 4

CONDITIONS: tuple[str, ...] = tuple(condition.value for condition in Condition)
"""The listing conditions ``condition:`` accepts (``folio.catalog`` ``Condition`` values)."""

TEXT_FIELDS: dict[str, str] = {"title": "title_stem", "author": "authors_stem", "publisher": "publisher_stem"}
"""DSL text fields and the ``*_stem`` engine field each filters on."""

_RAW_FIELDS: dict[str, str] = {
    "title_stem": "title",
    "authors_stem": "authors",
    "publisher_stem": "publisher",
}
"""The raw engine field behind each ``*_stem`` field, for the unstemmed tuning."""

VALUE_FIELDS: dict[str, str] = {"subject": "subjects", "condition": "condition", "isbn": "isbn13"}
NUMBER_FIELDS: dict[str, str] = {"year": "year", "price": "price_cents"}
FIELDS: tuple[str, ...] = tuple(sorted({*TEXT_FIELDS, *VALUE_FIELDS, *NUMBER_FIELDS}))
"""Every field name a query may use."""

STEM_FIELDS: tuple[str, ...] = ("title_stem", "authors_stem", "publisher_stem", "description_stem")
"""The analysed engine fields a free word under ``OR`` may match in."""


class QuerySyntaxError(FolioError, code="query-syntax", title="Invalid search query", status=400):
    """A search query that does not parse, or that the engine cannot run as written.

    The problem body carries ``position`` (0-based character offset into the query) and
    ``expected`` (what would have been valid there), so a client can point at the spot.
    """

    def __init__(self, detail: str, *, position: int, expected: str, query: str = "") -> None:
        super().__init__(f"{detail} (at position {position})", position=position, expected=expected)
        self.reason = detail
        self.position = position
        self.expected = expected
        self.query = query


# ------------------------------------------------------------------------------------------- AST


@dataclass(frozen=True, slots=True)
class Word:
    """A free word (matched in any searched field); ``text`` as typed, escapes resolved."""

    text: str
    position: int


@dataclass(frozen=True, slots=True)
class Phrase:
    """Free words that must appear next to each other, in order."""

    text: str
    position: int


@dataclass(frozen=True, slots=True)
class FieldText:
    """Words (or a phrase) that must appear in one text field: ``title``, ``author``, ``publisher``."""

    field: str
    text: str
    phrase: bool
    position: int
    boost: int | None = None


@dataclass(frozen=True, slots=True)
class FieldValue:
    """An exact value of a keyword field: ``subject``, ``condition`` or ``isbn`` (as ISBN-13)."""

    field: str
    value: str
    position: int


@dataclass(frozen=True, slots=True)
class NumberRange:
    """``low <= field <= high`` in engine units (years; cents for ``price``); None = unbounded."""

    field: str
    low: int | None
    high: int | None
    position: int


@dataclass(frozen=True, slots=True)
class Not:
    """Documents not matching ``part``; ``position`` is the ``NOT`` or ``-``."""

    part: Node
    position: int


@dataclass(frozen=True, slots=True)
class And:
    """Documents matching every part."""

    parts: tuple[Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Or:
    """Documents matching at least one part."""

    parts: tuple[Node, ...]
    position: int


Node = Word | Phrase | FieldText | FieldValue | NumberRange | Not | And | Or


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: ``root`` is None for an empty query (match everything)."""

    text: str
    root: Node | None


# ------------------------------------------------------------------------------------------ lexer

_OPERATORS = frozenset({"AND", "OR", "NOT"})
_FIELD_RE = re.compile(r"([A-Za-z]+)(?:\^([^:\s()\"]*))?:")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "AND", "OR", "NOT", "-", "WORD", "PHRASE", "FIELD", "EOF"
    text: str
    position: int
    boost: int | None = None


class _Lexer:
    """Splits a query into tokens, resolving backslash escapes and recording offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, detail: str, position: int, expected: str) -> QuerySyntaxError:
        return QuerySyntaxError(detail, position=position, expected=expected, query=self.text)

    def tokens(self) -> list[_Token]:
        out: list[_Token] = []
        text = self.text
        while True:
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(text):
                out.append(_Token("EOF", "", len(text)))
                return out
            char = text[self.pos]
            if char in "()":
                out.append(_Token(char, char, self.pos))
                self.pos += 1
            elif char == '"':
                start = self.pos
                out.append(_Token("PHRASE", self._phrase(), start))
            elif char == "-":
                following = text[self.pos + 1 : self.pos + 2]
                if not following or following.isspace() or following == ")":
                    raise self.error(
                        "'-' must be followed by what to exclude",
                        self.pos + 1,
                        'a word, "phrase" or ( after -',
                    )
                out.append(_Token("-", "-", self.pos))
                self.pos += 1
            else:
                out.extend(self._word_or_field())

    def _phrase(self) -> str:
        """Read ``"..."`` from the opening quote; returns the words inside, escapes resolved."""
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                chars.append(self._escaped())
                continue
            self.pos += 1
            if char == '"':
                if not "".join(chars).strip():
                    raise self.error("empty phrase", start, "words between the quotes")
                return "".join(chars)
            chars.append(char)
        raise self.error(f"the quote at {start} is never closed", len(self.text), 'a closing "')

    def _escaped(self) -> str:
        """The character after a backslash at ``self.pos``; moves past both."""
        if self.pos + 1 >= len(self.text):
            raise self.error("a backslash ends the query", self.pos, "a character after \\")
        self.pos += 2
        return self.text[self.pos - 1]

    def _bare(self) -> str:
        """Read a run of word characters (escapes resolved) up to a space, parenthesis or quote."""
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char.isspace() or char in '()"':
                break
            if char == "\\":
                chars.append(self._escaped())
                continue
            chars.append(char)
            self.pos += 1
        return "".join(chars)

    def _word_or_field(self) -> list[_Token]:
        start = self.pos
        match = _FIELD_RE.match(self.text, start)
        if match is None:
            word = self._bare()
            kind = word if word in _OPERATORS and self.text[start : self.pos] == word else "WORD"
            return [_Token(kind, word, start)]
        name = match.group(1).casefold()
        value_start = match.end()
        following = self.text[value_start : value_start + 1]
        if not following or following.isspace() or following == ")":
            if name in FIELDS:
                raise self.error(
                    f"{match.group(1)}: has no value", value_start, f'a word or "phrase" right after {name}:'
                )
            # "Dune:" followed by a space is a word with a colon, not a field.
            word = self._bare()
            return [_Token("WORD", word, start)]
        if name not in FIELDS:
            raise self.error(
                f"unknown field {match.group(1)!r}",
                start,
                f"one of the fields {', '.join(FIELDS)} (write \\: for a colon in a word)",
            )
        boost = None
        if match.group(2) is not None:
            boost_position = start + len(match.group(1))
            raw = match.group(2)
            if not raw.isdigit() or not 1 <= int(raw) <= _MAX_BOOST:
                raise self.error(
                    f"bad boost {raw!r}", boost_position + 1, f"a whole number 1-{_MAX_BOOST} after ^"
                )
            if name not in TEXT_FIELDS:
                raise self.error(
                    f"{name}: cannot be boosted", boost_position, "a boost only on title, author or publisher"
                )
            boost = int(raw)
        self.pos = value_start
        field_token = _Token("FIELD", name, start, boost=boost)
        if following == '"':
            return [field_token, _Token("PHRASE", self._phrase(), value_start)]
        if following == "(":
            raise self.error(
                f"{name}: cannot apply to a group", value_start, f'a word or "phrase" right after {name}:'
            )
        return [field_token, _Token("WORD", self._bare(), value_start)]


# ----------------------------------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over the tokens, one method per grammar rule."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, detail: str, position: int, expected: str) -> QuerySyntaxError:
        return QuerySyntaxError(detail, position=position, expected=expected, query=self.text)

    def parse(self) -> Node | None:
        if self.current.kind == "EOF":
            return None
        node = self.or_expr()
        # or_expr stops only at EOF or at a ")" that no "(" opened.
        if self.current.kind == ")":
            raise self.error("')' without a matching '('", self.current.position, "end of query or OR/AND")
        return node

    def or_expr(self) -> Node:
        first = self.and_expr()
        parts = [first]
        while self.current.kind == "OR":
            self.advance()
            parts.append(self.and_expr())
        return first if len(parts) == 1 else Or(tuple(parts), _position(first))

    def and_expr(self) -> Node:
        first = self.unary()
        parts = [first]
        while self.current.kind not in {"OR", ")", "EOF"}:
            if self.current.kind == "AND":
                self.advance()
            parts.append(self.unary())
        return first if len(parts) == 1 else And(tuple(parts), _position(first))

    def unary(self) -> Node:
        token = self.current
        if token.kind in {"NOT", "-"}:
            self.advance()
            self._enter(token.position)
            part = self.unary()
            self.depth -= 1
            return Not(part, token.position)
        return self.primary()

    def primary(self) -> Node:
        token = self.advance()
        if token.kind == "(":
            self._enter(token.position)
            if self.current.kind == ")":
                raise self.error("empty parentheses", self.current.position, _TERM)
            node = self.or_expr()
            self.depth -= 1
            if self.current.kind != ")":
                raise self.error(f"the '(' at {token.position} is never closed", self.current.position, "')'")
            self.advance()
            return node
        if token.kind == "WORD":
            return Word(token.text, token.position)
        if token.kind == "PHRASE":
            return Phrase(token.text, token.position)
        if token.kind == "FIELD":
            return self.field_term(token, self.advance())
        if token.kind == "EOF":
            raise self.error("the query ends too soon", token.position, _TERM)
        raise self.error(f"unexpected {token.text!r}", token.position, _TERM)

    def _enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error(f"nested more than {_MAX_DEPTH} levels deep", position, "a flatter query")

    def field_term(self, field_token: _Token, value: _Token) -> Node:
        """Build the node for ``name:value``, checking the value's form for that field."""
        name = field_token.text
        phrase = value.kind == "PHRASE"
        if name in TEXT_FIELDS:
            return FieldText(name, value.text, phrase, field_token.position, field_token.boost)
        if name in NUMBER_FIELDS:
            low, high = self.number_range(name, value)
            return NumberRange(NUMBER_FIELDS[name], low, high, field_token.position)
        if name == "isbn":
            try:
                isbn13 = parse_isbn(value.text).isbn13
            except InvalidIsbnError as exc:
                raise self.error(str(exc), value.position, "a valid ISBN-10 or ISBN-13") from exc
            return FieldValue("isbn13", isbn13, field_token.position)
        if name == "condition":
            normalised = re.sub(r"[\s-]+", "_", value.text.strip().casefold())
            if normalised not in CONDITIONS:
                raise self.error(
                    f"unknown condition {value.text!r}", value.position, f"one of {', '.join(CONDITIONS)}"
                )
            return FieldValue("condition", normalised, field_token.position)
        # subject: an exact subject heading, compared case-insensitively by the engine.
        if "`" in value.text:
            raise self.error("a backtick cannot appear in a subject", value.position, "a subject without `")
        return FieldValue("subjects", " ".join(value.text.split()), field_token.position)

    def number_range(self, name: str, value: _Token) -> tuple[int | None, int | None]:
        """Inclusive engine-unit bounds for ``year:`` / ``price:`` values (``>x``, ``a..b``...)."""
        text = value.text.strip()
        expected = (
            "a year like 1990, >1990, >=1990, <2000 or 1990..2000"
            if name == "year"
            else "a price like 20, <20, >=5.50 or 5..20 (in major units)"
        )
        match = re.fullmatch(r"(>=|<=|>|<)?([^.<>=]+(?:\.\d+)?)", text)
        if match and value.kind == "WORD":
            operator, number = match.groups()
            amount = self.amount(name, number, value.position, expected)
            bounds: dict[str | None, tuple[int | None, int | None]] = {
                None: (amount, amount),
                ">": (amount + 1, None),
                ">=": (amount, None),
                "<": (None, amount - 1),
                "<=": (None, amount),
            }
            return bounds[operator]
        match = re.fullmatch(r"([^.]+(?:\.\d+)?)\.\.([^.]+(?:\.\d+)?)", text)
        if match and value.kind == "WORD":
            low = self.amount(name, match.group(1), value.position, expected)
            high = self.amount(name, match.group(2), value.position + match.start(2), expected)
            if low > high:
                raise self.error(
                    f"empty range {text}", value.position, "a range whose start is not after its end"
                )
            return low, high
        raise self.error(f"{name}: cannot take {value.text!r}", value.position, expected)

    def amount(self, name: str, number: str, position: int, expected: str) -> int:
        """A year as an int, or a price in major units as whole cents."""
        if name == "year":
            if not number.isascii() or not number.isdigit() or len(number) > _YEAR_DIGITS:
                raise self.error(f"{number!r} is not a year", position, expected)
            return int(number)
        try:
            cents = Decimal(number) * 100
        except InvalidOperation:
            cents = Decimal("NaN")
        if (
            not number.isascii()
            or not cents.is_finite()
            or cents != cents.to_integral_value()
            or cents > 10**9
        ):
            raise self.error(f"{number!r} is not a price", position, expected)
        return int(cents)


_TERM = 'a word, "phrase", field:value, NOT or ('


def _position(node: Node) -> int:
    return node.position


def parse_query(text: str) -> Query:
    """Parse ``text`` into a ``Query``; blank text gives ``Query(root=None)`` (match everything).

    Raises:
        QuerySyntaxError: with the 0-based ``position`` of the problem and what was ``expected``.
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(
            f"the query is longer than {MAX_QUERY_LENGTH} characters",
            position=MAX_QUERY_LENGTH,
            expected="a shorter query",
            query=text,
        )
    tokens = _Lexer(text).tokens()
    return Query(text, _Parser(text, tokens).parse())


# ---------------------------------------------------------------------------------------- tunings


def _default_weights() -> dict[str, int]:
    return {"title_stem": 4, "authors_stem": 3, "publisher_stem": 1, "description_stem": 1}


@dataclass(frozen=True)
class Tuning:
    """How free text is matched and ranked: a named variant that ``folio search eval`` compares.

    ``field_weights`` names ``*_stem`` fields; with ``stemmed=False`` the raw fields behind
    them (``title``, ``authors``, ``publisher``; description has no raw copy) are searched
    instead, with the words only normalised (no stemming, stopwords kept). Filters are the
    same under every tuning, so a tuning changes the ranking, never what a filter means.
    """

    name: str = "default"
    field_weights: dict[str, int] = field(default_factory=_default_weights)
    stemmed: bool = True
    num_typos: int = 2
    prefix: bool = True
    drop_tokens_threshold: int = 1

    def query_fields(self) -> list[tuple[str, int]]:
        """The engine fields ``q`` searches, with their weights, heaviest first."""
        fields = [
            (name if self.stemmed else _RAW_FIELDS[name], weight)
            for name, weight in self.field_weights.items()
            if self.stemmed or name in _RAW_FIELDS
        ]
        return sorted(fields, key=lambda pair: -pair[1])


DEFAULT_TUNING = Tuning()
TUNINGS: dict[str, Tuning] = {
    tuning.name: tuning
    for tuning in (
        DEFAULT_TUNING,
        Tuning(name="unstemmed", stemmed=False),
        Tuning(
            name="title-heavy",
            field_weights={"title_stem": 8, "authors_stem": 2, "publisher_stem": 1, "description_stem": 1},
        ),
        Tuning(name="no-typos", num_typos=0, prefix=False),
    )
}
"""The named tunings ``folio search eval --variant`` accepts."""


def get_tuning(name: str) -> Tuning:
    """The tuning called ``name``; ``KeyError`` listing the known names otherwise."""
    try:
        return TUNINGS[name]
    except KeyError:
        raise KeyError(f"unknown tuning {name!r}; known: {', '.join(TUNINGS)}") from None


# --------------------------------------------------------------------------------------- compiler


@dataclass
class EngineQuery:
    """Typesense search parameters for one query (``q``, ``query_by``... as the API names them)."""

    q: str
    query_by: list[str]
    query_by_weights: list[int]
    filter_by: str
    highlight_terms: frozenset[str]
    extra: dict[str, str | int] = field(default_factory=dict)

    def params(self) -> dict[str, str | int]:
        """The parameters as Typesense's search endpoint takes them (``filter_by`` left out when empty)."""
        params: dict[str, str | int] = {
            "q": self.q,
            "query_by": ",".join(self.query_by),
            "query_by_weights": ",".join(str(weight) for weight in self.query_by_weights),
            **self.extra,
        }
        if self.filter_by:
            params["filter_by"] = self.filter_by
        return params


def compile_query(query: Query, *, tuning: Tuning = DEFAULT_TUNING) -> EngineQuery:
    """Translate a parsed query into Typesense 0.24 parameters under ``tuning``.

    Raises:
        QuerySyntaxError: for a construct Typesense 0.24 cannot express (the module
            docstring lists them), with the position of the offending part.
    """
    return _Compiler(query, tuning).compile()


class _Compiler:
    def __init__(self, query: Query, tuning: Tuning) -> None:
        self.query = query
        self.tuning = tuning
        self.q_parts: list[str] = []
        self.filters: list[str] = []
        self.highlight: set[str] = set()
        self.boosts: dict[str, int] = {}

    def error(self, detail: str, position: int, expected: str) -> QuerySyntaxError:
        return QuerySyntaxError(detail, position=position, expected=expected, query=self.query.text)

    def compile(self) -> EngineQuery:
        if self.query.root is not None:
            for clause in _conjuncts(self.query.root):
                self.clause(clause)
        fields = self.tuning.query_fields()
        weights = [weight * self.boosts.get(_stem_of(name), 1) for name, weight in fields]
        extra: dict[str, str | int] = {
            "num_typos": self.tuning.num_typos,
            "prefix": "true" if self.tuning.prefix else "false",
            "drop_tokens_threshold": self.tuning.drop_tokens_threshold,
        }
        return EngineQuery(
            q=" ".join(self.q_parts) or "*",
            query_by=[name for name, _ in fields],
            query_by_weights=weights,
            filter_by=" && ".join(self.filters),
            highlight_terms=frozenset(self.highlight),
            extra=extra,
        )

    def q_words(self, text: str) -> list[str]:
        """``text`` as ``q`` words under the tuning: stems, or normalised raw words."""
        if self.tuning.stemmed:
            return analyze(text)
        return analyze(text, remove_stopwords=False, stemming=False)

    def clause(self, node: Node) -> None:
        """One top-level conjunct: into ``q`` where it can go, else into ``filter_by``."""
        if isinstance(node, Word | Phrase):
            self.highlight.update(analyze(node.text))
            words = self.q_words(node.text)
            if words:
                self.q_parts.append(_q_phrase(words) if isinstance(node, Phrase) else " ".join(words))
            return
        if isinstance(node, Not) and isinstance(node.part, Word | Phrase):
            words = self.q_words(node.part.text)
            if words:
                self.q_parts.append("-" + _q_phrase(words) if len(words) > 1 else "-" + words[0])
            return
        if isinstance(node, FieldText):
            terms = self.field_terms(node)
            self.filters.append(f"{TEXT_FIELDS[node.field]}:`{' '.join(terms)}`")
            # The filter decides what matches; the same words in q make the text match rank it.
            words = self.q_words(node.text)
            if words:
                self.q_parts.append(_q_phrase(words) if node.phrase else " ".join(words))
            if node.boost is not None:
                engine_field = TEXT_FIELDS[node.field]
                self.boosts[engine_field] = max(self.boosts.get(engine_field, 1), node.boost)
            return
        self.filters.append(self.filter(node, negated=False, top=True))

    def field_terms(self, node: FieldText) -> list[str]:
        terms = analyze(node.text)
        if not terms:
            raise self.error(
                f"{node.field}:{node.text} has no searchable words (only stopwords or punctuation)",
                node.position,
                "a word that is not a stopword",
            )
        self.highlight.update(terms)
        return terms

    def filter(self, node: Node, *, negated: bool, top: bool = False) -> str:
        """``node`` (negated when ``negated``) as a ``filter_by`` expression; NOT pushed to the leaves."""
        if isinstance(node, Not):
            return self.filter(node.part, negated=not negated, top=top)
        if isinstance(node, And | Or):
            joiner = " && " if isinstance(node, And) != negated else " || "
            inner = joiner.join(self.filter(part, negated=negated) for part in node.parts)
            return inner if top and joiner == " && " else f"({inner})"
        if isinstance(node, NumberRange):
            return _number_filter(node, negated=negated)
        if isinstance(node, FieldValue):
            return f"{node.field}:{'!=' if negated else '='}`{node.value}`"
        if negated:
            if isinstance(node, FieldText):
                raise self.error(
                    f"Typesense 0.24 cannot exclude a word from one field ({node.field}:)",
                    node.position,
                    "-word, which excludes the word from every field",
                )
            raise self.error(
                "Typesense 0.24 cannot exclude a free word inside OR or under NOT of a group",
                node.position,
                "the exclusion (-word) as its own top-level term",
            )
        if isinstance(node, Phrase) or (isinstance(node, FieldText) and node.phrase):
            raise self.error(
                "Typesense 0.24 cannot match a phrase inside OR or under NOT of a group",
                node.position,
                "the phrase as its own top-level term, or single words",
            )
        if isinstance(node, FieldText):
            return f"{TEXT_FIELDS[node.field]}:`{' '.join(self.field_terms(node))}`"
        terms = analyze(node.text)
        if not terms:
            raise self.error(
                f"{node.text!r} is a stopword, ignored in searches, so it cannot be an OR alternative",
                node.position,
                "a word that is not a stopword",
            )
        self.highlight.update(terms)
        value = " ".join(terms)
        return "(" + " || ".join(f"{name}:`{value}`" for name in STEM_FIELDS) + ")"


def _conjuncts(node: Node) -> list[Node]:
    """The top-level AND parts of ``node``, with NOT of OR rewritten to AND of NOTs (De Morgan)."""
    if isinstance(node, And):
        return [clause for part in node.parts for clause in _conjuncts(part)]
    if isinstance(node, Not):
        inner = node.part
        if isinstance(inner, Not):
            return _conjuncts(inner.part)
        if isinstance(inner, Or):
            return [clause for part in inner.parts for clause in _conjuncts(Not(part, node.position))]
    return [node]


def _q_phrase(words: list[str]) -> str:
    return f'"{" ".join(words)}"' if len(words) > 1 else words[0]


def _stem_of(engine_field: str) -> str:
    for stem_field, raw in _RAW_FIELDS.items():
        if raw == engine_field:
            return stem_field
    return engine_field


def _number_filter(node: NumberRange, *, negated: bool) -> str:
    """A numeric range as 0.24 writes it; 0.24 has no numeric ``!=``, so negation uses ``[<a,>b]``."""
    name, low, high = node.field, node.low, node.high
    if not negated:
        if low is not None and low == high:
            return f"{name}:={low}"
        if low is not None and high is not None:
            return f"{name}:[{low}..{high}]"
        return f"{name}:>={low}" if low is not None else f"{name}:<={high}"
    if low is not None and high is not None:
        return f"{name}:[<{low},>{high}]"
    return f"{name}:<{low}" if low is not None else f"{name}:>{high}"


def describe(node: Node | None) -> Any:
    """A compact nested-tuple view of an AST, for tests and debugging output."""
    match node:
        case None:
            view: Any = None
        case And() | Or():
            view = (type(node).__name__, *(describe(part) for part in node.parts))
        case Not():
            view = ("Not", describe(node.part))
        case Word() | Phrase():
            view = (type(node).__name__, node.text)
        case FieldText():
            view = ("FieldText", node.field, node.text, node.phrase, node.boost)
        case FieldValue():
            view = ("FieldValue", node.field, node.value)
        case NumberRange():
            view = ("NumberRange", node.field, node.low, node.high)
    return view
