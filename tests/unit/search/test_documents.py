"""Index naming and the documents built from catalogue records (generated records, no server)."""

from __future__ import annotations

import uuid

import pytest

from folio.catalog.api import Condition
from folio.search.indexes import (
    PRICE_BANDS,
    IndexNames,
    SynonymSet,
    collection_schema,
    listing_document,
    price_band,
    rank_id,
    work_document,
)
from tests.support.search import generated_listing, generated_work

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("cents", "band"),
    [
        (0, "under-5"),
        (499, "under-5"),
        (500, "5-10"),
        (999, "5-10"),
        (1000, "10-20"),
        (4999, "20-50"),
        (5000, "50-plus"),
    ],
)
def test_price_bands_by_major_units(cents: int, band: str) -> None:
    """Bands are half-open ranges of major units."""
    assert price_band(cents) == band
    assert band in PRICE_BANDS


def test_rank_id_is_a_stable_positive_int64() -> None:
    """The same id always gives the same key, within int64."""
    some = uuid.uuid4()
    assert rank_id(some) == rank_id(uuid.UUID(str(some)))
    assert 0 <= rank_id(uuid.UUID(int=2**128 - 1)) < 2**63


def test_work_document_has_stemmed_copies_and_omits_empty_optionals() -> None:
    """*_stem fields hold the analysed text; absent optional fields are left out (0.24 rejects nulls)."""
    work = generated_work(
        "Running Horses", authors=("Ann Riders",), publisher=None, year=None, description="Galloping ponies"
    )
    document = work_document(work)
    assert document["title_stem"] == "run hors"
    assert document["authors_stem"] == "ann rider"
    assert document["description_stem"] == "gallop poni"
    assert document["tenant_id"] == "public"
    assert "publisher" not in document
    assert "year" not in document
    assert document["has_preview"] is False
    schema_fields = {field["name"] for field in collection_schema("x")["fields"]}
    assert set(document) - {"id"} <= schema_fields


def test_listing_document_adds_the_offer() -> None:
    """A listing document carries its work's fields, the shop, price band and condition value."""
    tenant_id = uuid.uuid4()
    item = generated_listing(generated_work("Sea Glass"), price_cents=1999, condition=Condition.LIKE_NEW)
    document = listing_document(item, tenant_id=tenant_id)
    assert document["id"] == str(item.listing.id)
    assert document["work_id"] == str(item.work.id)
    assert document["tenant_id"] == str(tenant_id)
    assert (document["price_band"], document["condition"], document["kind"]) == (
        "10-20",
        "like_new",
        "listing",
    )


def test_names_are_prefixed_and_versioned() -> None:
    """Aliases carry the prefix; versioned names are recognised as versions of their alias only."""
    names = IndexNames("t1_")
    tenant_id = uuid.uuid4()
    alias = names.shop(tenant_id)
    assert alias == f"t1_shop_{tenant_id.hex}"
    assert names.is_version_of(alias, names.versioned(alias, 7))
    assert not names.is_version_of(alias, names.versioned(names.works(), 7))
    assert not names.is_version_of(names.works(), alias)


def test_synonyms_are_pushed_stemmed_and_raw() -> None:
    """The engine gets each term's stemmed form (what the fields hold) and its raw form; roots stemmed."""
    terms = SynonymSet(name="s", synonyms=("Science Fiction", "scifi")).engine_synonyms()
    assert terms == ["scienc fiction", "science fiction", "scifi"]
    assert SynonymSet(name="s", synonyms=("x",), root="Classics").engine_root() == "classic"
