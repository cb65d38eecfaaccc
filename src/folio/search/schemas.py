"""The search context's DTOs: results, facets, keys, synonyms, status."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from folio.core.text import CleanText

__all__ = [
    "FacetCount",
    "FacetRead",
    "IndexStatus",
    "ScopedKeyRead",
    "SearchHit",
    "SearchResults",
    "SearchStatus",
    "Suggestion",
    "SynonymRead",
    "SynonymWrite",
]

MAX_TERM = 200
"""Longest synonym term."""

SYNONYM_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


class SearchHit(BaseModel):
    """One matching document: a work, or a shop's listing of one."""

    id: str = Field(description="The work's id (works search) or the listing's id (shop search).")
    kind: str = Field(description="`work` or `listing`.")
    work_id: str = Field(description="The work's id.")
    title: str = Field(description="The title as catalogued.")
    authors: list[str] = Field(default_factory=list, description="Authors as catalogued.")
    publisher: str | None = Field(default=None, description="Publisher, when known.")
    year: int | None = Field(default=None, description="Year of publication, when known.")
    subjects: list[str] = Field(default_factory=list, description="Subjects.")
    isbn13: str | None = Field(default=None, description="ISBN-13, when the edition has one.")
    has_preview: bool = Field(default=False, description="Whether a text preview exists.")
    price_cents: int | None = Field(default=None, description="Listings: price in minor units.")
    currency: str | None = Field(default=None, description="Listings: ISO 4217 currency.")
    price_band: str | None = Field(default=None, description="Listings: price band (facet value).")
    condition: str | None = Field(default=None, description="Listings: condition.")
    stock: int | None = Field(default=None, description="Listings: copies in stock.")
    rank_id: int = Field(description="Stable sort key; pass the last one as `after` for keyset paging.")
    highlights: dict[str, str] = Field(
        default_factory=dict,
        description="HTML-escaped `title` and `authors` with `<mark>` around the matched words.",
    )


class FacetCount(BaseModel):
    """One facet value and how many hits have it."""

    value: str
    count: int


class FacetRead(BaseModel):
    """The counts of one facet field over all hits (not just this page)."""

    field: str = Field(description="`subject`, `year`, `publisher`, `price_band` or `condition`.")
    counts: list[FacetCount]


class SearchResults(BaseModel):
    """One page of search results."""

    query: str = Field(description="The query as given.")
    corrected_query: str | None = Field(
        default=None,
        description="Set when the hits are for a spelling-corrected query (`hamlt` -> `hamlet`): a word "
        "of `query` occurs in no title, author, publisher or description, and the corrected query finds "
        'hits. Show "Showing results for <corrected_query>; search instead for <query>" and link the '
        "latter with `correct=false`. Null when the hits are for `query` as typed.",
    )
    found: int = Field(description="How many documents match in all.")
    page: int | None = Field(description="The page number (null in keyset mode, `after`).")
    per_page: int
    hits: list[SearchHit]
    facets: list[FacetRead] = Field(default_factory=list)
    next_after: int | None = Field(
        default=None,
        description="Keyset mode: pass as `after` for the next page; null on the last page.",
    )
    search_time_ms: int = Field(default=0, description="Time the engine took.")


class Suggestion(BaseModel):
    """One autocomplete suggestion."""

    id: str
    work_id: str
    title: str
    highlight: str = Field(description="HTML-escaped title with the matched prefix marked.")


class ScopedKeyRead(BaseModel):
    """A search key for one shop's collection, to query Typesense directly from a browser."""

    key: str = Field(
        description="Scoped key: searches this shop's listings and the shared works, nothing else "
        "(any other collection answers 401)."
    )
    expires_at: dt.datetime = Field(description="When the key stops working.")
    collection: str = Field(description="The alias of the shop's listings, to query with it.")
    collections: list[str] = Field(
        description="Every alias the key may search: the shop's listings, then the shared works."
    )


class SynonymWrite(BaseModel):
    """A synonym set to create or replace."""

    model_config = ConfigDict(extra="forbid")

    synonyms: list[Annotated[str, CleanText(max_length=MAX_TERM, not_blank=True)]] = Field(
        min_length=1, max_length=50, description="Terms that mean the same (at least two without `root`)."
    )
    root: Annotated[str, CleanText(max_length=200)] | None = Field(
        default=None, description="One-way: a search for `root` also finds the synonyms."
    )

    @field_validator("synonyms")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        cleaned = [term.strip() for term in value]
        if any(not term or len(term) > MAX_TERM for term in cleaned):
            raise ValueError("each synonym is 1 to 200 characters")
        return list(dict.fromkeys(cleaned))

    @model_validator(mode="after")
    def _enough_terms(self) -> Self:
        """A multi-way set needs two terms; a one-way set one."""
        if self.root is None and len(self.synonyms) < 2:  # noqa: PLR2004 - "two terms" is the rule itself
            raise ValueError("a synonym set without `root` needs at least two distinct terms")
        return self


class SynonymRead(BaseModel):
    """A shop's synonym set."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(description="The set's name (lowercase letters, digits and dashes).")
    synonyms: list[str]
    root: str | None
    updated_by: uuid.UUID | None = Field(description="Who changed it last; null for an operator.")
    created_at: dt.datetime
    updated_at: dt.datetime


class IndexStatus(BaseModel):
    """One alias: where it points and how many documents that collection holds."""

    alias: str
    collection: str | None
    documents: int | None


class SearchStatus(BaseModel):
    """What ``folio search status`` reports."""

    engine_ok: bool
    pending_changes: int | None
    indexes: list[IndexStatus]
