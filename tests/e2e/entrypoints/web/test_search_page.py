"""The search page in a real browser: Chromium against a gateway process, PostgreSQL and Typesense.

The shop is registered in the browser; its stock is catalogued through the catalog
service (real public-domain works: titles, authors, subjects and first-publication
years as published; prices and conditions are made up) and indexed by the search
context's own ``reindex_shop``, as ``folio search reindex`` does. The shop's index is
dropped afterwards.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from folio.catalog import api as catalog
from folio.core.db import open_database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.identity import api as identity
from folio.search import api as search
from tests.e2e.entrypoints.web.conftest import Gateway

pytestmark = pytest.mark.e2e

T = TypeVar("T")

PASSWORD = "correct horse battery staple 42"


@dataclass(frozen=True)
class Book:
    """A public-domain work and the made-up offer the test shop lists it with."""

    title: str
    author: str
    year: int
    subjects: tuple[str, ...]
    price_cents: int
    condition: catalog.Condition


STOCK = (
    Book("The Adventures of Tom Sawyer", "Mark Twain", 1876, ("Fiction",), 450, catalog.Condition.GOOD),
    Book(
        "Adventures of Huckleberry Finn", "Mark Twain", 1884, ("Fiction",), 1250, catalog.Condition.VERY_GOOD
    ),
    Book(
        "The Adventures of Sherlock Holmes",
        "Arthur Conan Doyle",
        1892,
        ("Detective and mystery stories",),
        800,
        catalog.Condition.LIKE_NEW,
    ),
    Book("King Lear", "William Shakespeare", 1608, ("Tragedies",), 2500, catalog.Condition.GOOD),
    Book("Hamlet", "William Shakespeare", 1603, ("Tragedies",), 650, catalog.Condition.ACCEPTABLE),
    Book("The Taming of the Shrew", "William Shakespeare", 1623, ("Comedies",), 350, catalog.Condition.GOOD),
)


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a loop of its own in a worker thread.

    Playwright's sync API keeps its own event loop in the test's thread, so the
    services (coroutines) run in another thread with ``asyncio.run``.
    """

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


async def stock_shop(settings: Settings, *, slug: str, email: str) -> uuid.UUID:
    """Log the owner in at the service, catalogue and list ``STOCK``, reindex the shop; its tenant id.

    ``settings`` must hash passwords as the gateway does (else the login rehashes the password).
    """
    async with open_database(settings.database, settings.database_url) as db:
        owner = await identity.authenticate_password(
            db,
            settings=settings,
            limiter=RateLimiter("memory://"),
            shop_slug=slug,
            email=email,
            password=PASSWORD,
            client_ip="127.0.0.1",
        )
        for book in STOCK:
            work = await catalog.create_work(
                db,
                principal=owner,
                data=catalog.WorkCreate(
                    title=book.title, authors=[book.author], year=book.year, subjects=list(book.subjects)
                ),
            )
            await catalog.create_listing(
                db,
                settings=settings,
                principal=owner,
                data=catalog.ListingCreate(
                    work_id=work.id,
                    price_cents=book.price_cents,
                    currency="EUR",
                    stock=2,
                    condition=book.condition,
                ),
            )
        async with search.open_search(settings) as backend:
            report = await search.reindex_shop(db, backend, tenant_id=owner.tenant_id)
        assert report.documents == len(STOCK), report
        return owner.tenant_id


async def drop_shop_index(settings: Settings, tenant_id: uuid.UUID) -> None:
    """Remove the shop's alias and collections from Typesense."""
    names = search.IndexNames()
    alias = names.shop(tenant_id)
    async with search.open_engine(settings) as engine:
        await engine.drop_alias(alias)
        for collection in await engine.list_collections():
            if names.is_version_of(alias, str(collection["name"])):
                await engine.drop_collection(str(collection["name"]))


@pytest.fixture
def page(chromium: Browser, gateway: Gateway, require_service: Callable[[str], None]) -> Iterator[Page]:
    """A fresh browser context on the gateway (Typesense required); fails on any CSP violation."""
    require_service("search")
    context = chromium.new_context(base_url=gateway.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    yield page
    context.close()
    assert not violations, f"the pages broke their own CSP: {violations}"


def register(page: Page, *, slug: str, email: str) -> None:
    """Open a shop through the registration form."""
    page.goto("/app/register")
    page.get_by_label("Shop name").fill("Globe Books")
    page.get_by_label("Shop address").fill(slug)
    page.get_by_label("Your name").fill("Gale Globe")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Open the shop").click()
    expect(page).to_have_url(re.compile(r"/app/tasks$"))


def search_for(page: Page, query: str) -> None:
    """Type ``query`` in the search box and send it (a box with suggestions is a combobox, found by id)."""
    page.locator("#q").fill(query)
    page.get_by_role("button", name="Search", exact=True).click()


def test_staff_search_stemmed_words_then_narrow_by_facet(
    page: Page,
    migrated_postgres: Settings,
    artifacts: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """A stemmed query finds and marks each form of a word; a facet click narrows; errors show at the box."""
    slug, email = f"globe-{uuid.uuid4().hex[:8]}", f"gale-{uuid.uuid4().hex[:8]}@example.com"
    register(page, slug=slug, email=email)
    cheap = {"argon2_time_cost": 1, "argon2_memory_kib": 8_192, "argon2_parallelism": 1}  # as the gateway's
    settings = migrated_postgres.model_copy(
        update={"identity": migrated_postgres.identity.model_copy(update=cheap)}
    )
    tenant_id = run_async(lambda: stock_shop(settings, slug=slug, email=email))
    try:
        page.get_by_role("link", name="Search", exact=True).click()
        expect(page).to_have_url(re.compile(r"/app/search$"))
        expect(page.locator(".hit")).to_have_count(len(STOCK))

        search_for(page, "adventure")
        hits = page.locator(".hit")
        expect(hits).to_have_count(3)
        expect(page.locator(".hit-title mark")).to_have_text(["Adventures"] * 3)
        expect(page.locator(".summary")).to_contain_text("3 listings match")

        subject = page.locator(".facet-subject .facet-link", has_text="Detective and mystery stories")
        expect(subject.locator(".facet-count")).to_have_text("1")
        subject.click()
        expect(hits).to_have_count(1)
        expect(hits.first).to_contain_text("The Adventures of Sherlock Holmes")
        expect(hits.first).to_contain_text("8.00 EUR")
        expect(page.locator("#q")).to_have_value('adventure subject:"Detective and mystery stories"')
        expect(page.locator(".facet-link.active")).to_contain_text("Detective and mystery stories")

        page.locator(".facet-link.active").click()  # takes the filter off again
        expect(hits).to_have_count(3)
        page.locator(".facet-price_band .facet-link", has_text="Under 5").click()
        expect(hits).to_have_count(1)
        expect(hits.first).to_contain_text("The Adventures of Tom Sawyer")

        search_for(page, "tamed")
        expect(hits).to_have_count(1)
        expect(page.locator(".hit-title mark")).to_have_text("Taming")

        search_for(page, 'hamlet "prince')
        expect(page.locator("#q-error")).to_contain_text("never closed")
        expect(page.locator("#q")).to_have_value('hamlet "prince')

        search_for(page, "author:shakespeare")
        expect(hits).to_have_count(3)
        screenshot = artifacts / "web-search.png"
        page.screenshot(path=str(screenshot), full_page=True)
        record_property("screenshot", str(screenshot))

        page.set_viewport_size({"width": 375, "height": 800})
        search_for(page, "adventures")
        expect(hits).to_have_count(3)
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, "the search page scrolls sideways at 375px"
        page.screenshot(path=str(artifacts / "web-search-375.png"), full_page=True)

        page.get_by_role("link", name="All works").click()
        expect(page.get_by_label("Search all works in the catalogue")).to_have_value("adventures")
    finally:
        run_async(lambda: drop_shop_index(migrated_postgres, tenant_id))
