"""The search page in the running gateway: highlights, escaping, facet links, pages, errors, lite mode.

The shop's listings and the catalogue's works are *generated* documents (made-up titles
from ``tests.support.search``) written straight into the real Typesense under the
gateway's index names: the shops are fresh (so are their aliases, dropped afterwards),
and the works a test adds to the shared ``works`` alias carry a word of their own and
are deleted again afterwards.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from folio.bootstrap import build_platform
from folio.catalog.api import Condition
from folio.core.db import Database, open_database
from folio.core.migrations import upgrade
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app
from folio.identity import api as identity
from folio.search.api import (
    MAX_RESULT_WINDOW,
    IndexNames,
    SearchEngine,
    listing_document,
    open_engine,
    work_document,
)
from folio.search.indexes import ensure_index
from folio.search.spelling import vocabulary_for
from folio.search.web import MAX_QUERY_LENGTH, PER_PAGE
from tests.conftest import free_port
from tests.integration.entrypoints.web.conftest import Browser, flashes, join, register_shop, unique
from tests.support.search import generated_listing, generated_work

pytestmark = pytest.mark.integration

BrowserFactory = Callable[[], Browser]

NAMES = IndexNames()  # the gateway's own names (no prefix): what the page searches

_HIT_TITLE = re.compile(r'<h3 class="hit-title">(.*?)</h3>', re.S)
_FACET = re.compile(
    r'<a class="facet-link( active)?" href="([^"]+)"[^>]*>\s*<span class="facet-value">(.*?)</span>\s*'
    r'<span class="facet-count">(\d+)</span>',
    re.S,
)


@dataclass
class Indexed:
    """What a test wrote to Typesense, so it can be removed afterwards."""

    engine: SearchEngine
    shops: list[uuid.UUID] = field(default_factory=list)
    works: list[str] = field(default_factory=list)

    async def stock(self, tenant_id: uuid.UUID, documents: list[dict[str, object]]) -> None:
        """Index ``documents`` as the listings of shop ``tenant_id``."""
        self.shops.append(tenant_id)
        alias = NAMES.shop(tenant_id)
        await ensure_index(self.engine, alias, names=NAMES)
        assert await self.engine.import_documents(alias, documents) == []

    async def catalogue(self, documents: list[dict[str, object]]) -> None:
        """Add ``documents`` to the shared works index."""
        alias = NAMES.works()
        await ensure_index(self.engine, alias, names=NAMES)
        self.works.extend(str(document["id"]) for document in documents)
        assert await self.engine.import_documents(alias, documents) == []


@pytest.fixture
async def indexed(settings: Settings, require_service: Callable[[str], None]) -> AsyncIterator[Indexed]:
    """A Typesense client and a record of what the test indexed; all of it is removed afterwards."""
    require_service("search")
    async with open_engine(settings) as engine:
        record = Indexed(engine)
        yield record
        for work_id in record.works:
            await engine.delete_document(NAMES.works(), work_id)
        for tenant_id in record.shops:
            alias = NAMES.shop(tenant_id)
            await engine.drop_alias(alias)
            for collection in await engine.list_collections():
                if NAMES.is_version_of(alias, str(collection["name"])):
                    await engine.drop_collection(str(collection["name"]))


def listing(
    title: str,
    *,
    tenant_id: uuid.UUID,
    authors: tuple[str, ...] = ("Generated Author",),
    subjects: tuple[str, ...] = ("fiction",),
    year: int = 2001,
    price_cents: int = 1250,
    condition: Condition = Condition.GOOD,
) -> dict[str, object]:
    """A generated listing document of a generated work called ``title``."""
    work = generated_work(title, authors=authors, subjects=subjects, year=year)
    offer = generated_listing(work, price_cents=price_cents, condition=condition)
    return listing_document(offer, tenant_id=tenant_id)


async def tenant_of(pg_database: Database, slug: str) -> uuid.UUID:
    """The id of the shop registered as ``slug``."""
    return (await identity.get_tenant_by_slug(pg_database, slug)).id


def hit_titles(response: httpx.Response) -> list[str]:
    """The hits' titles as shown (tags stripped, entities resolved)."""
    return [unescape(re.sub(r"<[^>]+>", "", title)).strip() for title in _HIT_TITLE.findall(response.text)]


def facet_links(response: httpx.Response, facet: str) -> dict[str, tuple[str, int, bool]]:
    """One facet group's links: label -> (href, count, active)."""
    section = re.search(rf'<section class="facet facet-{facet}">(.*?)</section>', response.text, re.S)
    assert section is not None, f"no {facet} facet on the page"
    return {
        unescape(label).strip(): (unescape(href), int(count), bool(active))
        for active, href, label, count in _FACET.findall(section.group(1))
    }


def query_of(href: str) -> str:
    """The ``q`` a link carries."""
    return parse_qs(urlsplit(href).query).get("q", [""])[0]


async def test_listings_come_back_highlighted_escaped_and_faceted(
    browser: BrowserFactory, pg_database: Database, indexed: Indexed
) -> None:
    """A stemmed word finds its forms, marked; a title with markup is escaped; facets count every hit."""
    owner = browser()
    shop = await register_shop(owner)
    tenant_id = await tenant_of(pg_database, shop.slug)
    await indexed.stock(
        tenant_id,
        [
            listing("Running Brook", tenant_id=tenant_id, subjects=("Fiction",), year=1999, price_cents=450),
            listing(
                "<script>alert('x')</script> Runs Home",
                tenant_id=tenant_id,
                authors=("Ann <b>Bold</b>",),
                subjects=("Poetry",),
                year=2005,
                price_cents=1800,
                condition=Condition.LIKE_NEW,
            ),
            listing("Quiet Harbour", tenant_id=tenant_id, subjects=("Fiction",)),
        ],
    )

    page = await owner.get("/app/search", q="running")
    assert page.status_code == 200, page.text[:2000]
    assert sorted(hit_titles(page)) == ["<script>alert('x')</script> Runs Home", "Running Brook"]
    assert "<mark>Running</mark> Brook" in page.text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; <mark>Runs</mark> Home" in page.text
    assert "<script>" not in page.text
    assert "Ann &lt;b&gt;Bold&lt;/b&gt;" in page.text
    assert "<b>Bold</b>" not in page.text
    assert "4.50 EUR" in page.text
    assert "Like new" in page.text
    assert 'value="running"' in page.text
    assert '<option value="title:&#34;Running Brook&#34;">Running Brook</option>' in page.text

    subjects = facet_links(page, "subject")
    assert {label: count for label, (_href, count, _active) in subjects.items()} == {
        "Fiction": 1,
        "Poetry": 1,
    }
    assert facet_links(page, "year")["1999"][1] == 1
    assert set(facet_links(page, "price_band")) == {"Under 5", "10 to 20"}
    assert set(facet_links(page, "condition")) == {"Good", "Like new"}

    href, _count, active = subjects["Fiction"]
    assert not active
    assert query_of(href) == 'running subject:"Fiction"'
    narrowed = await owner.get(href)
    assert hit_titles(narrowed) == ["Running Brook"]
    applied, _count, active = facet_links(narrowed, "subject")["Fiction"]
    assert active  # shown as applied; its link takes the filter off again
    assert query_of(applied) == "running"

    cheap = facet_links(page, "price_band")["Under 5"][0]
    assert query_of(cheap) == "running price:<5"
    assert hit_titles(await owner.get(cheap)) == ["Running Brook"]

    everything = await owner.get("/app/search")
    assert len(hit_titles(everything)) == 3
    assert "3 listings" in everything.text


async def test_a_hostile_query_is_kept_escaped(browser: BrowserFactory, indexed: Indexed) -> None:
    """What a member types is echoed only escaped: in the box and summary, and in a syntax error's echo."""
    owner = browser()
    await register_shop(owner)
    hostile = "<img src=x onerror=alert(1)>"
    for query, status in ((hostile, 200), (f'{hostile} "', 400)):
        page = await owner.get("/app/search", q=query)
        assert page.status_code == status, query
        assert "<img" not in page.text
        assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


async def test_a_syntax_error_is_shown_at_the_box_with_the_query_kept(
    browser: BrowserFactory, indexed: Indexed
) -> None:
    """Bad DSL answers 400 with the parser's detail, what it expected and where, and keeps the query."""
    owner = browser()
    await register_shop(owner)
    page = await owner.get("/app/search", q='hamlet "prince')
    assert page.status_code == 400
    error = re.search(r'<div class="query-error" id="q-error" role="alert">(.*?)</div>', page.text, re.S)
    assert error is not None
    message = unescape(re.sub(r"<[^>]+>", "", error.group(1)))
    assert "never closed" in message
    assert "at position 14" in message
    assert 'Expected a closing "' in message
    assert 'value="hamlet &#34;prince"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert '<mark class="caret" title="position 14"> </mark>' in page.text  # the error is at the end

    unknown = await owner.get("/app/search", q="colour:red")
    assert unknown.status_code == 400
    assert "query-error" in unknown.text

    too_long = await owner.get("/app/search", q="a" * (MAX_QUERY_LENGTH + 1))
    assert too_long.status_code == 400
    assert f"the most is {MAX_QUERY_LENGTH}" in too_long.text


async def test_parameters_it_cannot_use_are_ignored_with_a_warning(
    browser: BrowserFactory, indexed: Indexed
) -> None:
    """A bad scope, page or ``after`` is flashed as a warning and the search runs with the defaults."""
    owner = browser()
    await register_shop(owner)
    page = await owner.get("/app/search", q="hamlet", scope="everything", page="two", after=str(2**64))
    assert page.status_code == 200
    warnings = [text for category, text in flashes(page) if category == "warning"]
    assert warnings == [
        "There is no search scope 'everything'; searching this shop.",
        "The page 'two' was not understood and was ignored.",
        f"The after '{2**64}' was not understood and was ignored.",
    ]
    assert 'aria-current="page">This shop</a>' in page.text


async def test_all_works_scope_searches_the_catalogue(
    browser: BrowserFactory, pg_database: Database, indexed: Indexed
) -> None:
    """The "All works" tab searches the shared works index and keeps the query across tabs."""
    owner = browser()
    shop = await register_shop(owner)
    tenant_id = await tenant_of(pg_database, shop.slug)
    word = f"zq{uuid.uuid4().hex[:8]}"  # a generated word no other work has
    await indexed.catalogue(
        [
            work_document(generated_work(f"{word.capitalize()} Lighthouse", subjects=("Travel",))),
            work_document(generated_work(f"{word.capitalize()} Garden", subjects=("Gardening",))),
        ]
    )
    await indexed.stock(tenant_id, [listing(f"{word.capitalize()} Lighthouse", tenant_id=tenant_id)])

    shop_page = await owner.get("/app/search", q=word)
    assert hit_titles(shop_page) == [f"{word.capitalize()} Lighthouse"]
    works_tab = re.search(r'<a class="count" href="([^"]+)">All works</a>', shop_page.text)
    assert works_tab is not None
    works = await owner.get(unescape(works_tab.group(1)))
    assert works.status_code == 200
    assert sorted(hit_titles(works)) == [f"{word.capitalize()} Garden", f"{word.capitalize()} Lighthouse"]
    assert 'aria-current="page">All works</a>' in works.text
    assert '<input type="hidden" name="scope" value="works">' in works.text
    assert "EUR" not in works.text.split('<ol class="hits">', 1)[1]  # works have no offer
    assert set(facet_links(works, "subject")) == {"Travel", "Gardening"}


async def test_a_misspelt_query_shows_the_corrected_results_and_a_way_back(
    browser: BrowserFactory, pg_database: Database, indexed: Indexed
) -> None:
    """A word no work contains shows the corrected word's hits, says so, and links the query as typed."""
    owner = browser()
    shop = await register_shop(owner)
    tenant_id = await tenant_of(pg_database, shop.slug)
    word = "zq" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])  # generated, letters only
    title = f"{word.capitalize()} Lighthouse"
    await indexed.catalogue([work_document(generated_work(title)), work_document(generated_work(title))])
    await indexed.stock(tenant_id, [listing(title, tenant_id=tenant_id)])
    assert await vocabulary_for(indexed.engine, NAMES.works(), fresh=True) is not None
    typo = word[:4] + word[5:]  # one letter dropped: a word no work contains

    page = await owner.get("/app/search", q=typo)
    assert page.status_code == 200, page.text[:2000]
    assert hit_titles(page) == [title]
    assert f"<mark>{word.capitalize()}</mark> Lighthouse" in page.text
    notice = re.search(r'<p class="did-you-mean" role="status">(.*?)</p>', page.text, re.S)
    assert notice is not None
    assert re.sub(r"<[^>]+>", "", notice.group(1)).split() == [
        "Showing",
        "results",
        "for",
        word + ";",
        "search",
        "instead",
        "for",
        typo,
    ]
    as_typed = re.search(r'<a class="as-typed" href="([^"]+)">', page.text)
    assert as_typed is not None
    exact = await owner.get(unescape(as_typed.group(1)))
    assert 'class="did-you-mean"' not in exact.text
    assert f"<mark>{word.capitalize()}</mark>" not in exact.text
    assert 'value="' + typo + '"' in exact.text


async def test_pages_and_the_keyset_walk(
    browser: BrowserFactory, pg_database: Database, indexed: Indexed
) -> None:
    """More than a page of hits gets numbered pages; past the cap a 400 names the keyset walk, which works."""
    owner = browser()
    shop = await register_shop(owner)
    tenant_id = await tenant_of(pg_database, shop.slug)
    count = PER_PAGE + 3
    await indexed.stock(
        tenant_id,
        [listing(f"Harbour Volume {n}", tenant_id=tenant_id, condition=Condition.NEW) for n in range(count)],
    )
    first = await owner.get("/app/search", q="harbour")
    assert len(hit_titles(first)) == PER_PAGE
    assert '<span class="current" aria-current="page">1</span>' in first.text
    second = await owner.get("/app/search", q="harbour", page="2")
    assert len(hit_titles(second)) == count - PER_PAGE
    assert not set(hit_titles(first)) & set(hit_titles(second))

    too_deep = MAX_RESULT_WINDOW // PER_PAGE + 1
    deep = await owner.get("/app/search", q="harbour", page=str(too_deep))
    assert deep.status_code == 400
    assert "after" in deep.text
    walk = re.search(r'<a href="([^"]+)">Walk all results in catalogue order</a>', deep.text)
    assert walk is not None
    walked = await owner.get(unescape(walk.group(1)))
    assert walked.status_code == 200
    assert len(hit_titles(walked)) == PER_PAGE
    assert "in catalogue order" in walked.text
    more = re.search(r'<a class="more" rel="next" href="([^"]+)">More [^<]*</a>', walked.text)
    assert more is not None
    rest = await owner.get(unescape(more.group(1)))
    assert len(hit_titles(rest)) == count - PER_PAGE
    assert set(hit_titles(walked)) | set(hit_titles(rest)) == {f"Harbour Volume {n}" for n in range(count)}


async def test_any_member_may_search_but_visitors_must_log_in(
    browser: BrowserFactory, pg_database: Database, indexed: Indexed
) -> None:
    """A customer sees the shop's listings (and the nav link); a visitor is sent to the login page."""
    owner, customer = browser(), browser()
    shop = await register_shop(owner)
    tenant_id = await tenant_of(pg_database, shop.slug)
    await indexed.stock(tenant_id, [listing("Orchard Letters", tenant_id=tenant_id)])
    await join(owner, customer, shop, role="customer", name="Cai")
    page = await customer.get("/app/search", q="orchard")
    assert page.status_code == 200
    assert hit_titles(page) == ["Orchard Letters"]
    assert '<a href="/app/search">Search</a>' in page.text

    visitor = await browser().get("/app/search", q="orchard")
    assert visitor.url.path == "/app/login"


@pytest.fixture
async def lite_web(settings: Settings, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The gateway on a fresh SQLite file with in-memory limits and file sessions: lite mode, no servers."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'folio.db'}"
    upgrade(url)
    cheap = {"argon2_time_cost": 1, "argon2_memory_kib": 8_192, "argon2_parallelism": 1}
    lite = settings.model_copy(
        update={
            "home": tmp_path,
            "profile": "test",
            "database": settings.database.model_copy(
                update={"backend": "sqlite", "url": None, "sqlite_path": tmp_path / "folio.db"}
            ),
            "cache": settings.cache.model_copy(update={"backend": "memory", "url": None}),
            "identity": settings.identity.model_copy(update=cheap),
        }
    )
    async with open_database(lite.database, url) as database:
        platform = build_platform(lite, database=database, rate_limiter=RateLimiter("memory://"))
        app = create_app(lite, platform=platform)
        async with app.router.lifespan_context(app):
            yield app
        await platform.aclose()


async def test_lite_mode_says_search_is_unavailable(lite_web: FastAPI) -> None:
    """In lite mode the page answers 503 saying why, and still shows the box with the query."""
    transport = httpx.ASGITransport(app=lite_web)
    async with httpx.AsyncClient(transport=transport, base_url="http://folio.test") as client:
        member = Browser(client)
        await register_shop(member, name=unique("Lite Books"))
        page = await member.get("/app/search", q="hamlet")
    assert page.status_code == 503
    assert "Search is unavailable" in page.text
    assert "lite mode" in page.text
    assert 'value="hamlet"' in page.text


@pytest.fixture
async def engine_down_web(
    web_settings: Settings, pg_database: Database, redis_limiter: RateLimiter
) -> AsyncIterator[FastAPI]:
    """The gateway on PostgreSQL and Redis whose search server address has nothing listening."""
    search_down = web_settings.services.search.model_copy(update={"port": free_port()})
    settings = web_settings.model_copy(
        update={"services": web_settings.services.model_copy(update={"search": search_down})}
    )
    platform = build_platform(settings, database=pg_database, rate_limiter=redis_limiter)
    app = create_app(settings, platform=platform)
    async with app.router.lifespan_context(app):
        yield app
    await platform.aclose()  # what it built for itself (the search client), not the shared fixtures


async def test_an_engine_that_does_not_answer_is_a_503_page(engine_down_web: FastAPI) -> None:
    """With Typesense unreachable the page answers 503, says search is unavailable, and keeps the query."""
    transport = httpx.ASGITransport(app=engine_down_web)
    async with httpx.AsyncClient(transport=transport, base_url="http://folio.test") as client:
        member = Browser(client)
        await register_shop(member)
        page = await member.get("/app/search", q="hamlet")
    assert page.status_code == 503
    assert "Search is unavailable" in page.text
    assert "The search engine did not answer" in page.text
    assert "lite mode" not in page.text
    assert 'value="hamlet"' in page.text
