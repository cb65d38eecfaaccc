"""Generated catalogue records and a private index namespace for search tests.

Every work and listing here is *generated* test data (titles made up for the test or
classic titles used as plain strings); nothing is taken from a real catalogue.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

from folio.catalog.api import Condition, ListingRead, ListingWithWork, WorkRead
from folio.search.api import IndexNames, SearchBackend, SearchEngine

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def generated_work(
    title: str,
    *,
    authors: tuple[str, ...] = ("Generated Author",),
    publisher: str | None = "Generated Press",
    year: int | None = 2001,
    subjects: tuple[str, ...] = ("fiction",),
    description: str | None = None,
    isbn13: str | None = None,
    work_id: uuid.UUID | None = None,
) -> WorkRead:
    """A generated ``WorkRead`` (not from any real catalogue)."""
    return WorkRead(
        id=work_id or uuid.uuid4(),
        isbn13=isbn13,
        isbn10=None,
        title=title,
        authors=list(authors),
        publisher=publisher,
        year=year,
        subjects=list(subjects),
        language="en",
        cover_url=None,
        description=description,
        source="generated",
        source_key=uuid.uuid4().hex,
        created_at=NOW,
        updated_at=NOW,
        version=1,
    )


def generated_listing(
    work: WorkRead, *, price_cents: int = 1250, condition: Condition = Condition.GOOD, stock: int = 1
) -> ListingWithWork:
    """A generated listing of ``work``."""
    return ListingWithWork(
        listing=ListingRead(
            id=uuid.uuid4(),
            work_id=work.id,
            title=work.title,
            authors=list(work.authors),
            price_cents=price_cents,
            currency="EUR",
            stock=stock,
            condition=condition,
            created_by=uuid.uuid4(),
            created_at=NOW,
            updated_at=NOW,
            version=1,
        ),
        work=work,
    )


def fresh_prefix() -> str:
    """A fresh alias/collection prefix, so a test's indexes never meet another's."""
    return f"t{uuid.uuid4().hex[:10]}_"


async def drop_namespace(engine: SearchEngine, prefix: str) -> None:
    """Delete every alias, collection and shop parent key whose names start with ``prefix``."""
    for key in await engine.list_keys():
        collections = key.get("collections") or []
        if collections and all(str(name).startswith(prefix) for name in collections):
            await engine.delete_key(int(key["id"]))
    for alias in await engine.list_aliases():
        if alias.startswith(prefix):
            await engine.drop_alias(alias)
    for collection in await engine.list_collections():
        if str(collection["name"]).startswith(prefix):
            await engine.drop_collection(str(collection["name"]))


async def backend_in_namespace(engine: SearchEngine) -> AsyncIterator[SearchBackend]:
    """A backend on ``engine`` with a fresh prefix; drops what it created afterwards."""
    prefix = fresh_prefix()
    try:
        yield SearchBackend(engine, IndexNames(prefix))
    finally:
        await drop_namespace(engine, prefix)
