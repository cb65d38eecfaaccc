"""The query DSL parser: precedence, quotes, escapes, fields, and the position of every error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from folio.core.errors import FolioError
from folio.search.dsl import (
    MAX_QUERY_LENGTH,
    And,
    FieldText,
    Not,
    Query,
    QuerySyntaxError,
    Word,
    compile_query,
    describe,
    parse_query,
)

pytestmark = pytest.mark.unit


def tree(text: str) -> object:
    """The parsed tree of ``text`` as nested tuples."""
    return describe(parse_query(text).root)


def W(text: str) -> tuple[str, str]:  # noqa: N802  # a one-letter builder keeps the tables readable
    """A free word as ``describe`` shows it."""
    return ("Word", text)


def test_brief_example_parses_into_its_parts() -> None:
    """The canonical example: a field phrase, a field word, a year range and an exclusion."""
    assert tree('title:"king lear" author:shakespeare year:>1990 -used') == (
        "And",
        ("FieldText", "title", "king lear", True, None),
        ("FieldText", "author", "shakespeare", False, None),
        ("NumberRange", "year", 1991, None),
        ("Not", W("used")),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a b OR c", ("Or", ("And", W("a"), W("b")), W("c"))),
        ("a OR b c", ("Or", W("a"), ("And", W("b"), W("c")))),
        ("a AND b OR c AND d", ("Or", ("And", W("a"), W("b")), ("And", W("c"), W("d")))),
        ("(a OR b) c", ("And", ("Or", W("a"), W("b")), W("c"))),
        ("NOT a b", ("And", ("Not", W("a")), W("b"))),
        ("NOT (a OR b)", ("Not", ("Or", W("a"), W("b")))),
        ("-a -b", ("And", ("Not", W("a")), ("Not", W("b")))),
        ("NOT NOT a", ("Not", ("Not", W("a")))),
        ("a OR b OR c", ("Or", W("a"), W("b"), W("c"))),
        ("((a))", W("a")),
    ],
)
def test_and_binds_tighter_than_or(text: str, expected: object) -> None:
    """AND (explicit or implied by juxtaposition) binds tighter than OR; NOT and - bind tightest."""
    assert tree(text) == expected


def test_lower_case_operators_are_words() -> None:
    """Only upper-case AND/OR/NOT are operators: "to be or not" stays four words."""
    assert tree("to be or not") == ("And", W("to"), W("be"), W("or"), W("not"))


def test_quotes_and_escapes() -> None:
    """Backslash escapes a quote inside a phrase, and a colon, parenthesis or operator in a word."""
    assert tree(r'"the \"king\" lear"') == ("Phrase", 'the "king" lear')
    assert tree(r"title\:lear") == W("title:lear")
    assert tree(r"\(aside\)") == W("(aside)")
    assert tree(r"\AND") == W("AND")
    assert tree(r"-\-x") == ("Not", W("-x"))


def test_hyphen_inside_a_word_is_not_negation() -> None:
    """Only a leading '-' excludes: spider-man is one word."""
    assert tree("spider-man") == W("spider-man")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Title:Lear", ("FieldText", "title", "Lear", False, None)),
        ("author:shakespeare", ("FieldText", "author", "shakespeare", False, None)),
        ('publisher:"penguin books"', ("FieldText", "publisher", "penguin books", True, None)),
        ("title^3:lear", ("FieldText", "title", "lear", False, 3)),
        ("subject:poetry", ("FieldValue", "subjects", "poetry")),
        ('subject:"love  stories"', ("FieldValue", "subjects", "love stories")),
        ("condition:like-new", ("FieldValue", "condition", "like_new")),
        ('condition:"very good"', ("FieldValue", "condition", "very_good")),
        ("isbn:0-19-515344-8", ("FieldValue", "isbn13", "9780195153446")),
        ("isbn:978-0-306-40615-7", ("FieldValue", "isbn13", "9780306406157")),
        ("year:1990", ("NumberRange", "year", 1990, 1990)),
        ("year:>1990", ("NumberRange", "year", 1991, None)),
        ("year:>=1990", ("NumberRange", "year", 1990, None)),
        ("year:<2000", ("NumberRange", "year", None, 1999)),
        ("year:<=2000", ("NumberRange", "year", None, 2000)),
        ("year:1990..2000", ("NumberRange", "year", 1990, 2000)),
        ("price:<20", ("NumberRange", "price_cents", None, 1999)),
        ("price:5.50..20", ("NumberRange", "price_cents", 550, 2000)),
        ("price:>=9.99", ("NumberRange", "price_cents", 999, None)),
    ],
)
def test_field_values_are_checked_and_normalised(text: str, expected: object) -> None:
    """Each field's value is parsed for its kind: ISBNs to ISBN-13, prices to cents, ranges inclusive."""
    assert tree(text) == expected


def test_word_ending_in_colon_is_a_word() -> None:
    """'Dune: Messiah' is a title, not a field: a colon followed by a space does not start a value."""
    assert tree("Dune: messiah") == ("And", W("Dune:"), W("messiah"))


def test_blank_query_matches_everything() -> None:
    """An empty or blank query parses to no tree (the compiler sends q=*)."""
    assert parse_query("   ") == Query("   ", None)


def test_nodes_carry_their_offsets() -> None:
    """Each node records where it starts in the text (used by compile-time errors)."""
    root = parse_query("one  -title:two").root
    assert isinstance(root, And)
    first, negated = root.parts
    assert first == Word("one", 0)
    assert isinstance(negated, Not)
    assert negated.position == 5
    assert negated.part == FieldText("title", "two", phrase=False, position=6)


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ('"king lear', 10, 'a closing "'),
        ('title:"king', 11, 'a closing "'),
        ('""', 0, "words between the quotes"),
        ("(a", 2, "')'"),
        ("x (y", 4, "')'"),
        ("a)", 1, "end of query"),
        ("()", 1, "a word"),
        ("a OR", 4, "a word"),
        ("OR a", 0, "a word"),
        ("a AND AND b", 6, "a word"),
        ("NOT", 3, "a word"),
        ("-", 1, "after -"),
        ("a - b", 3, "after -"),
        ("title:", 6, "right after title:"),
        ("title: lear", 6, "right after title:"),
        ("title:(a b)", 6, "right after title:"),
        ("auther:king", 0, "one of the fields"),
        ("title^x:a", 6, "a whole number 1-10"),
        ("title^11:a", 6, "a whole number 1-10"),
        ("year^2:1990", 4, "a boost only on"),
        ("year:abc", 5, "a year like"),
        ("year:19900", 5, "a year like"),
        ("year:2000..1990", 5, "not after its end"),
        ("year:1990..x", 11, "a year like"),
        ('year:"1990"', 5, "a year like"),
        ("price:1.234", 6, "a price like"),
        ("price:abc", 6, "a price like"),
        ("isbn:123", 5, "a valid ISBN"),
        ("isbn:0-19-515344-9", 5, "a valid ISBN"),
        ("condition:mint", 10, "one of new, like_new"),
        ("subject:`x`", 8, "without `"),
        ("lear\\", 4, "a character after"),
    ],
)
def test_every_syntax_error_names_its_position(text: str, position: int, expected: str) -> None:
    """Each mistake raises QuerySyntaxError at the 0-based offset where it is, saying what fits there."""
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(text)
    assert caught.value.position == position
    assert expected in caught.value.expected
    assert caught.value.query == text


def test_error_is_a_400_problem_with_position_and_expected() -> None:
    """The error is a FolioError whose problem body is type query-syntax, 400, with position and expected."""
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("(lear")
    error = caught.value
    assert isinstance(error, FolioError)
    body = error.to_problem().model_dump(exclude_none=True)
    assert body["type"] == "https://folio.dev/problems/query-syntax"
    assert body["status"] == 400
    assert body["position"] == 5
    assert body["expected"] == "')'"
    assert "never closed" in body["detail"]


def test_too_long_and_too_deep_queries_are_refused() -> None:
    """Length and nesting are bounded, so the recursive parser cannot be driven out of stack."""
    with pytest.raises(QuerySyntaxError) as long_error:
        parse_query("a" * (MAX_QUERY_LENGTH + 1))
    assert long_error.value.position == MAX_QUERY_LENGTH
    with pytest.raises(QuerySyntaxError) as deep_error:
        parse_query("(" * 40 + "a" + ")" * 40)
    assert "nested" in deep_error.value.reason
    parse_query("(" * 30 + "a" + ")" * 30)


# ------------------------------------------------------------------------------ property tests

_WORDS = st.sampled_from(["lear", "king", "Running", "café", "the", "x1", "don't", "spider-man"])
_FIELDED = st.sampled_from(
    ["title:lear", "author:shakespeare", "subject:poetry", "year:>1990", "price:5..20", "isbn:0195153448"]
)

# A generated query is (text, the tree it must parse into), built bottom-up.
Generated = tuple[str, object]


def _word(word: str) -> Generated:
    return word, W(word)


def _phrase(words: tuple[str, str]) -> Generated:
    return f'"{words[0]} {words[1]}"', ("Phrase", f"{words[0]} {words[1]}")


def _field(text: str) -> Generated:
    return text, tree(text)


def _not(child: Generated) -> Generated:
    return f"NOT {child[0]}", ("Not", child[1])


def _group(kind: str, children: list[Generated]) -> Generated:
    joiner = " AND " if kind == "And" else " OR "
    return "(" + joiner.join(text for text, _ in children) + ")", (
        kind,
        *(expected for _, expected in children),
    )


_TREES: st.SearchStrategy[Generated] = st.recursive(
    st.one_of(_WORDS.map(_word), st.tuples(_WORDS, _WORDS).map(_phrase), _FIELDED.map(_field)),
    lambda children: st.one_of(
        children.map(_not),
        st.builds(_group, st.sampled_from(["And", "Or"]), st.lists(children, min_size=2, max_size=3)),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(_TREES)
def test_generated_queries_parse_into_the_tree_they_were_made_from(generated: Generated) -> None:
    """Any well-formed query parses into the tree it was built from, extra spaces or not."""
    text, expected = generated
    assert tree(text) == expected
    assert tree("  " + text.replace("(", "( ").replace(")", " )") + " ") == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab ()"\\-:^<>.19ORNTDA')), max_size=40))
def test_arbitrary_text_parses_or_fails_cleanly(text: str) -> None:
    """Any text either parses and compiles, or raises QuerySyntaxError with a position inside it."""
    error: QuerySyntaxError | None = None
    try:
        compile_query(parse_query(text))
    except QuerySyntaxError as caught:
        error = caught
    if error is not None:
        assert 0 <= error.position <= len(text)
        assert error.expected
