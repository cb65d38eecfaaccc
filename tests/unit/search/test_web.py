"""The search page's facet links: price bands come from search's one definition of them."""

from __future__ import annotations

import pytest

from folio.search.indexes import PRICE_BANDS, price_band
from folio.search.web import PRICE_BAND_CLAUSES, facet_clause, toggle_clause

pytestmark = pytest.mark.unit


def test_every_price_band_has_its_clause_and_label() -> None:
    """Each band the documents carry is a facet link with the DSL of its range and a readable label."""
    assert tuple(PRICE_BAND_CLAUSES) == PRICE_BANDS
    assert PRICE_BAND_CLAUSES == {
        "under-5": ("price:<5", "Under 5"),
        "5-10": ("price:>=5 price:<10", "5 to 10"),
        "10-20": ("price:>=10 price:<20", "10 to 20"),
        "20-50": ("price:>=20 price:<50", "20 to 50"),
        "50-plus": ("price:>=50", "50 and more"),
    }


@pytest.mark.parametrize(
    ("cents", "band"), [(0, "under-5"), (499, "under-5"), (500, "5-10"), (5000, "50-plus")]
)
def test_a_price_falls_in_the_band_whose_clause_matches_it(cents: int, band: str) -> None:
    """A listing's band and the band's facet clause agree at the edges (lower bound in, upper out)."""
    assert price_band(cents) == band
    assert facet_clause("price_band", band) == PRICE_BAND_CLAUSES[band][0]


def test_a_clause_toggles_whole() -> None:
    """Adding a band's clause and adding it again takes it off; price:<5 is not found inside price:<50."""
    query, present = toggle_clause("dickens price:<50", "price:<5")
    assert (query, present) == ("dickens price:<50 price:<5", False)
    assert toggle_clause(query, "price:<5") == ("dickens price:<50", True)
