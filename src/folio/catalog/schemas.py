"""The catalog context's DTOs: works and listings in and out, the outbox rows, import reports.

Rules that both the API and the importer apply live here as plain functions
(``check_year``, ``normalise_currency``) so the two never disagree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from folio.catalog.isbn import InvalidIsbnError, parse_isbn
from folio.core.columns import utcnow
from folio.core.paging import CursorPage, Page
from folio.core.text import CleanText

__all__ = [
    "EARLIEST_YEAR",
    "ISBN_PATTERN",
    "CatalogChangeRead",
    "Condition",
    "ImportRunRead",
    "JunkWork",
    "ListingCreate",
    "ListingCursorPage",
    "ListingFilter",
    "ListingPage",
    "ListingRead",
    "ListingUpdate",
    "ListingWithWork",
    "QuarantinedRowRead",
    "WorkCreate",
    "WorkFilter",
    "WorkPage",
    "WorkRead",
    "WorkUpdate",
    "check_year",
    "latest_year",
]

EARLIEST_YEAR = 1000
"""The earliest publication year the catalogue accepts."""

CURRENCY_LENGTH = 3

ISBN_PATTERN = r"^[0-9Xx -]*$"
"""What an ISBN input may hold: digits, X, hyphens and spaces (the check digit is checked after)."""
URL_PATTERN = r"^https?://[^\s]+$"
"""A cover URL: http or https, no whitespace."""
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"
"""An ISO 4217 alphabetic code (upper-cased on the way in)."""


def latest_year(today: dt.date | None = None) -> int:
    """The latest publication year accepted: next year (announced books carry it)."""
    return (today or utcnow().date()).year + 1


def check_year(year: int, *, today: dt.date | None = None) -> int:
    """``year`` when it lies in ``EARLIEST_YEAR..latest_year()``; ``ValueError`` otherwise."""
    latest = latest_year(today)
    if not EARLIEST_YEAR <= year <= latest:
        raise ValueError(f"the year must be between {EARLIEST_YEAR} and {latest}, not {year}")
    return year


class Condition(StrEnum):
    """The state of a copy for sale, best first."""

    NEW = "new"
    LIKE_NEW = "like_new"
    VERY_GOOD = "very_good"
    GOOD = "good"
    ACCEPTABLE = "acceptable"


def normalise_currency(code: str) -> str:
    """An ISO 4217 alphabetic code, upper-cased; ``ValueError`` unless three ASCII letters."""
    cleaned = code.strip().upper()
    if len(cleaned) != CURRENCY_LENGTH or not cleaned.isascii() or not cleaned.isalpha():
        raise ValueError("a currency is an ISO 4217 code of three letters, e.g. EUR")
    return cleaned


def _clean_names(names: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        cleaned = " ".join(name.split())
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def _not_blank(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ValueError("must not be blank")
    return cleaned


class _YearRange:
    """A publication year's JSON schema bounds: 1000 to next year, as of when the schema is made."""

    @staticmethod
    def __get_pydantic_json_schema__(schema: Any, handler: Any) -> Any:
        json_schema = handler(schema)
        json_schema.update(minimum=EARLIEST_YEAR, maximum=latest_year())
        return json_schema


Title = Annotated[str, CleanText(min_length=1, max_length=500), Field(examples=["Moominsummer Madness"])]
Names = Annotated[
    list[Annotated[str, CleanText(max_length=200)]],
    Field(
        max_length=50,
        description="Names, in order; blanks and duplicates dropped.",
        examples=[["Tove Jansson"]],
    ),
]
Year = Annotated[
    int,
    _YearRange(),
    Field(description="Year of publication, 1000 to next year.", examples=[1954]),
]
PriceCents = Annotated[
    int, Field(gt=0, le=100_000_000, description="Price in minor units (cents).", examples=[1250])
]
Currency = Annotated[
    str,
    CleanText(min_length=3, max_length=3, pattern=CURRENCY_PATTERN),
    Field(description="ISO 4217 code; upper-cased.", examples=["EUR"]),
]
Isbn = Annotated[
    str,
    CleanText(min_length=10, max_length=32, pattern=ISBN_PATTERN),
    Field(
        description="ISBN-10 or ISBN-13, hyphens and spaces allowed; the check digit is verified.",
        examples=["978-0-306-40615-7"],
    ),
]
Publisher = Annotated[str, CleanText(max_length=300)]
Language = Annotated[str, CleanText(max_length=16, pattern=r"^[A-Za-z-]*$"), Field(examples=["en"])]
CoverUrl = Annotated[
    str,
    CleanText(max_length=1000, pattern=URL_PATTERN),
    Field(json_schema_extra={"format": "uri"}, examples=["https://covers.example.org/0306406152.jpg"]),
]
Description = Annotated[str, CleanText(multiline=True, max_length=20_000)]
Stock = Annotated[int, Field(ge=0, le=1_000_000, description="Copies on hand.", examples=[3])]


# --- works ----------------------------------------------------------------------------------


class _WorkFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("title", check_fields=False)
    @classmethod
    def _title(cls, title: str | None) -> str | None:
        return None if title is None else _not_blank(title)

    @field_validator("authors", "subjects", check_fields=False)
    @classmethod
    def _names(cls, names: list[str] | None) -> list[str] | None:
        return None if names is None else _clean_names(names)

    @field_validator("year", check_fields=False)
    @classmethod
    def _year(cls, year: int | None) -> int | None:
        return None if year is None else check_year(year)


class WorkCreate(_WorkFields):
    """A new work, private to the creating shop until the platform publishes it.

    An ISBN already catalogued is a 409 naming the existing work.
    """

    isbn: Isbn | None = None
    title: Title
    authors: Names = Field(default_factory=list)
    publisher: Publisher | None = None
    year: Year | None = None
    subjects: Names = Field(default_factory=list)
    language: Language | None = None
    cover_url: CoverUrl | None = None
    description: Description | None = None

    @field_validator("isbn")
    @classmethod
    def _isbn(cls, isbn: str | None) -> str | None:
        if isbn is None:
            return None
        try:
            return parse_isbn(isbn).isbn13
        except InvalidIsbnError as exc:
            raise ValueError(str(exc)) from None


class WorkUpdate(_WorkFields):
    """Changes to a work (owners and admins): only the fields sent change.

    The ISBN identifies the edition and is not changed here. ``publisher``, ``year``,
    ``language``, ``cover_url`` and ``description`` may be null to clear them.
    """

    title: Title | SkipJsonSchema[None] = None
    authors: Names | SkipJsonSchema[None] = None
    publisher: Publisher | None = None
    year: Year | None = None
    subjects: Names | SkipJsonSchema[None] = None
    language: Language | None = None
    cover_url: CoverUrl | None = None
    description: Description | None = None
    version: Annotated[int, Field(ge=1)] | SkipJsonSchema[None] = Field(
        default=None, description="The version last read; 409 if the work has moved on.", examples=[2]
    )

    @model_validator(mode="after")
    def _no_null_for_required_fields(self) -> Self:
        required = {"title", "authors", "subjects", "version"}
        nulled = [name for name in sorted(self.model_fields_set & required) if getattr(self, name) is None]
        if nulled:
            raise ValueError(f"{', '.join(nulled)} may be left out but not set to null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent (``version`` excluded), by column name."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "version"}


class WorkRead(BaseModel):
    """A work as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The work's id.")
    isbn13: str | None = Field(description="ISBN-13, when the work has one.", examples=["9780306406157"])
    isbn10: str | None = Field(description="ISBN-10, when the ISBN-13 has one (978 prefix).")
    title: str
    authors: list[str]
    publisher: str | None
    year: int | None
    subjects: list[str]
    language: str | None
    cover_url: str | None
    description: str | None
    source: str = Field(description="Where the record came from: `manual`, `book-crossing`, ...")
    source_key: str = Field(description="Its key in that source.")
    preview_key: str | None = Field(default=None, exclude=True)
    published: bool = Field(
        default=True, description="Shared with every shop; false: seen only by the shop that created it."
    )
    owner_tenant_id: uuid.UUID | None = Field(default=None, exclude=True)
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = Field(description="Bumped by every change; send it back (or `If-Match`) to update safely.")

    @computed_field(description="Whether a sample-chapter PDF can be fetched from `/preview`.")  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def has_preview(self) -> bool:
        """Whether a sample-chapter PDF is stored for the work."""
        return self.preview_key is not None

    @property
    def etag(self) -> str:
        """The strong entity tag of this version."""
        return f'"{self.version}"'


class WorkFilter(BaseModel):
    """Which works a list shows; every condition given must hold."""

    q: Annotated[str, CleanText(max_length=200)] | None = Field(
        default=None, description="Text in the title."
    )
    isbn: Isbn | None = Field(default=None, description="Exactly this ISBN (10 or 13).")
    author: Annotated[str, CleanText(max_length=200)] | None = Field(
        default=None, description="Text in an author's name."
    )
    year: int | None = Field(default=None, ge=0, le=9999, description="Published in this year.")


class WorkPage(Page[WorkRead]):
    """One numbered page of works."""


# --- listings -------------------------------------------------------------------------------


class ListingCreate(BaseModel):
    """A shop's copies of a work for sale; one listing per work and condition."""

    model_config = ConfigDict(extra="forbid")

    work_id: uuid.UUID = Field(description="The work on sale.")
    price_cents: PriceCents
    currency: Currency
    stock: Stock = 0
    condition: Condition = Field(default=Condition.NEW, description="The copies' condition.")

    _currency = field_validator("currency")(normalise_currency)


class ListingUpdate(BaseModel):
    """Changes to a listing: only the fields sent change; none may be null."""

    model_config = ConfigDict(extra="forbid")

    price_cents: PriceCents | SkipJsonSchema[None] = None
    currency: Currency | SkipJsonSchema[None] = None
    stock: Stock | SkipJsonSchema[None] = None
    condition: Condition | SkipJsonSchema[None] = None
    version: Annotated[int, Field(ge=1)] | SkipJsonSchema[None] = Field(
        default=None, description="The version last read; 409 if the listing has moved on."
    )

    @field_validator("currency")
    @classmethod
    def _currency(cls, code: str | None) -> str | None:
        return None if code is None else normalise_currency(code)

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        nulled = [name for name in sorted(self.model_fields_set) if getattr(self, name) is None]
        if nulled:
            raise ValueError(f"{', '.join(nulled)} may be left out but not set to null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent (``version`` excluded), by column name; enums as their values."""
        return {
            name: value.value if isinstance(value, StrEnum) else value
            for name in self.model_fields_set
            if name != "version" and (value := getattr(self, name)) is not None
        }


class ListingRead(BaseModel):
    """A listing as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    work_id: uuid.UUID
    title: str = Field(description="The listed work's title.")
    authors: list[str] = Field(description="The listed work's authors.")
    price_cents: int
    currency: str
    stock: int
    condition: Condition
    created_by: uuid.UUID
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @property
    def etag(self) -> str:
        """The strong entity tag of this version."""
        return f'"{self.version}"'


class ListingFilter(BaseModel):
    """Which listings a list shows."""

    work_id: uuid.UUID | None = Field(default=None, description="Only listings of this work.")
    condition: Condition | None = Field(default=None, description="Only listings in this condition.")
    in_stock: bool | None = Field(
        default=None, description="Only listings with (true) or without (false) stock."
    )


class ListingPage(Page[ListingRead]):
    """One numbered page of listings (v1)."""


class ListingCursorPage(CursorPage[ListingRead]):
    """One page of listings after a keyset cursor (v2), newest first."""


class ListingWithWork(BaseModel):
    """A listing and its work: what the search index stores per shop."""

    listing: ListingRead
    work: WorkRead


# --- outbox and imports -----------------------------------------------------------------------


class CatalogChangeRead(BaseModel):
    """One outbox row: something the search index must catch up with."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    entity: str = Field(description="`work`, `listing`, or `catalog` (with op `reindex`).")
    entity_id: uuid.UUID | None
    tenant_id: uuid.UUID | None = Field(description="The listing's shop; None for works.")
    op: str = Field(description="`upsert`, `delete` or `reindex`.")
    created_at: dt.datetime
    attempts: int
    traceparent: str | None = Field(
        default=None,
        description="The W3C `traceparent` of the span that wrote the change (None when untraced), "
        "so a consumer's span can continue the writer's trace.",
    )


class ImportRunRead(BaseModel):
    """One import run and its counts."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    counts: dict[str, int]
    reasons: dict[str, int]


class JunkWork(BaseModel):
    """A work the curator's junk criteria name, and which ones (``folio.catalog.curation``)."""

    id: uuid.UUID
    title: str
    source: str
    published: bool
    owner_tenant_id: uuid.UUID | None
    created_at: dt.datetime
    reasons: list[str] = Field(description="Codes of `JUNK_REASONS`.")


class QuarantinedRowRead(BaseModel):
    """An input row an import refused, and why."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    run_id: uuid.UUID
    line_no: int
    reason: str
    detail: str
    raw: str
