"""Compiling DSL queries to Typesense 0.24 parameters: q, filter_by, weights, and refused constructs."""

from __future__ import annotations

import pytest

from folio.search.dsl import (
    DEFAULT_TUNING,
    STEM_FIELDS,
    TUNINGS,
    EngineQuery,
    QuerySyntaxError,
    Tuning,
    compile_query,
    get_tuning,
    parse_query,
)

pytestmark = pytest.mark.unit


def compiled(text: str, tuning: Tuning = DEFAULT_TUNING) -> EngineQuery:
    """``text`` parsed and compiled under ``tuning``."""
    return compile_query(parse_query(text), tuning=tuning)


def any_stem_field(term: str) -> str:
    """The filter a free word under OR becomes: a token match on any stemmed field."""
    return "(" + " || ".join(f"{name}:`{term}`" for name in STEM_FIELDS) + ")"


@pytest.mark.parametrize(
    ("text", "q", "filter_by"),
    [
        ("", "*", ""),
        ("running", "run", ""),
        ("The Running Man", "run man", ""),
        ('"king lear"', '"king lear"', ""),
        ('"the tempest"', "tempest", ""),
        ("king -richard", "king -richard", ""),
        ("-used", "-use", ""),
        ('lear -"king lear"', 'lear -"king lear"', ""),
        ("NOT (lear OR pride)", "-lear -pride", ""),
        ("NOT NOT lear", "lear", ""),
        (
            'title:"king lear" author:shakespeare year:>1990 -used',
            '"king lear" shakespear -use',
            "title_stem:`king lear` && authors_stem:`shakespear` && year:>=1991",
        ),
        ("title:king's", "king", "title_stem:`king`"),
        ("publisher:penguin", "penguin", "publisher_stem:`penguin`"),
        ("subject:poetry", "*", "subjects:=`poetry`"),
        ("NOT subject:poetry", "*", "subjects:!=`poetry`"),
        ("condition:like-new", "*", "condition:=`like_new`"),
        ("-condition:new", "*", "condition:!=`new`"),
        ("isbn:0-19-515344-8", "*", "isbn13:=`9780195153446`"),
        ("-isbn:9780195153446", "*", "isbn13:!=`9780195153446`"),
        ("year:1990", "*", "year:=1990"),
        ("year:1990..2000", "*", "year:[1990..2000]"),
        ("year:<=2000", "*", "year:<=2000"),
        ("NOT year:1990", "*", "year:[<1990,>1990]"),
        ("NOT year:1990..2000", "*", "year:[<1990,>2000]"),
        ("NOT year:>1990", "*", "year:<1991"),
        ("NOT year:>=1990", "*", "year:<1990"),
        ("NOT year:<1990", "*", "year:>1989"),
        ("price:<20", "*", "price_cents:<=1999"),
        ("price:5.50..20", "*", "price_cents:[550..2000]"),
        (
            "(tragedy OR comedy) AND author:shakespeare",
            "shakespear",
            f"({any_stem_field('tragedi')} || {any_stem_field('comedi')}) && authors_stem:`shakespear`",
        ),
        ("subject:drama OR year:<1700", "*", "(subjects:=`drama` || year:<=1699)"),
        (
            "NOT (subject:drama OR condition:new)",
            "*",
            "subjects:!=`drama` && condition:!=`new`",
        ),
        (
            "NOT (subject:drama AND year:1990)",
            "*",
            "(subjects:!=`drama` || year:[<1990,>1990])",
        ),
        (
            "(subject:drama AND year:>2000) OR title:lear",
            "*",
            "((subjects:=`drama` && year:>=2001) || title_stem:`lear`)",
        ),
    ],
)
def test_queries_compile_to_what_typesense_0_24_understands(text: str, q: str, filter_by: str) -> None:
    """Free text goes to q (stemmed, phrases quoted, exclusions as -word); the rest to filter_by."""
    result = compiled(text)
    assert (result.q, result.filter_by) == (q, filter_by)


def test_default_tuning_parameters() -> None:
    """The default tuning searches the stemmed fields title 4, authors 3, publisher 1, description 1."""
    result = compiled("lear")
    assert result.query_by == ["title_stem", "authors_stem", "publisher_stem", "description_stem"]
    assert result.query_by_weights == [4, 3, 1, 1]
    assert result.extra == {"num_typos": 2, "prefix": "true", "drop_tokens_threshold": 1}
    assert result.params() == {
        "q": "lear",
        "query_by": "title_stem,authors_stem,publisher_stem,description_stem",
        "query_by_weights": "4,3,1,1",
        "num_typos": 2,
        "prefix": "true",
        "drop_tokens_threshold": 1,
    }


def test_params_carry_filter_by_only_when_there_is_one() -> None:
    """filter_by appears in the parameters exactly when the query filters."""
    assert compiled("year:1990").params()["filter_by"] == "year:=1990"
    assert "filter_by" not in compiled("lear").params()


def test_unstemmed_tuning_searches_the_raw_fields_with_raw_words() -> None:
    """The unstemmed variant matches the display fields with normalised, unstemmed words, stopwords kept."""
    result = compiled("The Running Café -kings", TUNINGS["unstemmed"])
    assert result.q == "the running cafe -kings"
    assert result.query_by == ["title", "authors", "publisher"]
    assert result.query_by_weights == [4, 3, 1]
    # Highlighting always works on analysed terms, whatever the tuning searched.
    assert result.highlight_terms == frozenset({"run", "cafe"})


def test_filters_do_not_depend_on_the_tuning() -> None:
    """A tuning changes ranking only: field filters stay on the stemmed fields."""
    assert compiled("author:austen", TUNINGS["unstemmed"]).filter_by == "authors_stem:`austen`"


def test_named_tunings() -> None:
    """title-heavy doubles the title weight, no-typos turns typos and prefixes off; names are looked up."""
    assert compiled("x", get_tuning("title-heavy")).query_by_weights == [8, 2, 1, 1]
    assert compiled("x", get_tuning("no-typos")).extra == {
        "num_typos": 0,
        "prefix": "false",
        "drop_tokens_threshold": 1,
    }
    assert set(TUNINGS) >= {"default", "unstemmed", "title-heavy", "no-typos"}
    with pytest.raises(KeyError, match="known: default"):
        get_tuning("nope")


def test_field_boost_multiplies_that_fields_weight() -> None:
    """title^3:lear triples the title weight for the whole query (0.24 has no per-term boost)."""
    assert compiled("title^3:lear").query_by_weights == [12, 3, 1, 1]
    assert compiled("title^2:lear title^3:king author^2:x").query_by_weights == [12, 6, 1, 1]
    assert compiled("author^2:austen", TUNINGS["unstemmed"]).query_by_weights == [4, 6, 1]


def test_highlight_terms_are_the_positive_analysed_terms() -> None:
    """Highlight terms: analysed free and field words, including OR alternatives; never excluded ones."""
    result = compiled('"Running Men" title:kings (tragedy OR comedy) -lear')
    assert result.highlight_terms == frozenset({"run", "men", "king", "tragedi", "comedi"})


def test_stopword_only_free_text_matches_everything() -> None:
    """Stopwords are not indexed, so a query of only stopwords searches for nothing in particular."""
    assert compiled("the of and").q == "*"


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("-title:lear", 1, "-word"),
        ("lear NOT author:king", 9, "-word"),
        ('("king lear" OR hamlet)', 1, "phrase as its own top-level term"),
        ('(title:"king lear" OR hamlet)', 1, "phrase as its own top-level term"),
        ("(lear OR -hamlet)", 10, "exclusion (-word) as its own top-level term"),
        ("NOT (lear AND year:1990)", 5, "exclusion (-word)"),
        ("(the OR lear)", 1, "not a stopword"),
        ("title:the", 0, "not a stopword"),
        ("(title:of OR lear)", 1, "not a stopword"),
    ],
)
def test_what_the_engine_cannot_express_is_refused_with_its_position(
    text: str, position: int, expected: str
) -> None:
    """Excluding a word from one field, phrases or exclusions under OR, stopword-only terms: refused."""
    with pytest.raises(QuerySyntaxError) as caught:
        compiled(text)
    assert caught.value.position == position
    assert expected in caught.value.expected
    assert "Typesense" in caught.value.reason or "stopword" in caught.value.reason
