"""The web app inside the whole gateway, over PostgreSQL and Redis, driven like a browser would.

``web_app`` is the gateway (``create_app``) with its lifespan running, so requests to
``/app`` go through a2wsgi and the loop portal exactly as in production; ``browser()``
makes an httpx client with its own cookie jar (one per person in a test).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from html import unescape

import httpx
import pytest
from fastapi import FastAPI

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app

PASSWORD = "correct horse battery staple 42"
LOCKOUT_THRESHOLD = 3

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
_FLASH = re.compile(r'<li class="flash flash-(\w+)">(.*?)</li>', re.S)


@pytest.fixture
def operator_email() -> str:
    """The address of this test's platform operator (no account has it until a test registers one)."""
    return f"{unique('operator')}@example.com"


@pytest.fixture
def web_settings(migrated_postgres: Settings, operator_email: str) -> Settings:
    """The PostgreSQL settings with cheap password hashing, a short lockout threshold and an operator.

    The operator's address is listed in capitals: ``security.platform_operators`` is
    compared without regard to case.
    """
    identity = migrated_postgres.identity.model_copy(
        update={
            "argon2_time_cost": 1,
            "argon2_memory_kib": 8_192,
            "argon2_parallelism": 1,
            "lockout_threshold": LOCKOUT_THRESHOLD,
        }
    )
    security = migrated_postgres.security.model_copy(update={"platform_operators": [operator_email.upper()]})
    return migrated_postgres.model_copy(
        update={"identity": identity, "security": security, "profile": "test"}
    )


@pytest.fixture
async def web_app(
    web_settings: Settings, pg_database: Database, redis_limiter: RateLimiter
) -> AsyncIterator[FastAPI]:
    """The gateway (web app mounted at /app) over PostgreSQL and Redis, its lifespan running."""
    platform = build_platform(web_settings, database=pg_database, rate_limiter=redis_limiter)
    app = create_app(web_settings, platform=platform)
    async with app.router.lifespan_context(app):
        yield app
    await platform.aclose()  # what it built for itself (the search client), not the shared fixtures


class Browser:
    """An httpx client with a cookie jar, plus the form handling a person does by eye."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str, **params: str) -> httpx.Response:
        """GET ``path`` following redirects."""
        return await self.client.get(path, params=params or None, follow_redirects=True)

    async def token(self, page: str = "/app/reset") -> str:
        """This session's CSRF token, as a form on ``page`` carries it."""
        return csrf_token((await self.get(page)).text)

    async def submit(
        self, page: str, data: dict[str, str], *, action: str | None = None, follow: bool = True
    ) -> httpx.Response:
        """Open ``page``, fill its form with ``data`` and its CSRF token, and post it (to ``action``)."""
        token = await self.token(page)
        return await self.client.post(
            action or page, data={"csrf_token": token, **data}, follow_redirects=follow
        )

    async def press(self, action: str, *, follow: bool = True, **extra: str) -> httpx.Response:
        """Press a button-only form (complete, delete, logout ...) posting to ``action``."""
        token = await self.token()
        return await self.client.post(action, data={"csrf_token": token, **extra}, follow_redirects=follow)


@dataclass(frozen=True)
class Shop:
    """A shop registered through the web app, and its owner's credentials."""

    slug: str
    name: str
    owner_email: str


def csrf_token(html: str) -> str:
    """The first CSRF token in a page."""
    found = _CSRF.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1) or found.group(2)


def flashes(response: httpx.Response) -> list[tuple[str, str]]:
    """The flash messages on a page: (category, text)."""
    return [(category, unescape(text).strip()) for category, text in _FLASH.findall(response.text)]


def unique(prefix: str) -> str:
    """A name no other test uses (the database is shared)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def browser(web_app: FastAPI) -> AsyncIterator[Callable[[], Browser]]:
    """Make browsers (each its own cookie jar) talking to ``web_app`` in-process."""
    clients: list[httpx.AsyncClient] = []

    def make() -> Browser:
        transport = httpx.ASGITransport(app=web_app)
        client = httpx.AsyncClient(transport=transport, base_url="http://folio.test")
        clients.append(client)
        return Browser(client)

    yield make
    for client in clients:
        await client.aclose()


async def register_shop(browser: Browser, *, name: str = "Kallio Books", email: str | None = None) -> Shop:
    """Register a shop through the web form; ``browser`` ends up signed in as its owner (``email``'s)."""
    slug, email = unique("kallio"), email or f"{unique('owner')}@example.com"
    response = await browser.submit(
        "/app/register",
        {
            "shop_name": name,
            "shop_slug": slug,
            "display_name": "Olga Owner",
            "email": email,
            "password": PASSWORD,
        },
    )
    assert response.url.path == "/app/tasks", flashes(response) or response.text[:2000]
    return Shop(slug=slug, name=name, owner_email=email)


async def log_in(browser: Browser, shop: Shop, email: str, password: str = PASSWORD) -> httpx.Response:
    """Submit the login form."""
    return await browser.submit("/app/login", {"shop_slug": shop.slug, "email": email, "password": password})


async def invite(owner: Browser, *, role: str, name: str = "Sam Staff", email: str | None = None) -> str:
    """Invite a member with ``role`` (``email``, else a fresh address) on the members page; returns it."""
    email = email or f"{unique(role)}@example.com"
    response = await owner.submit("/app/members", {"email": email, "display_name": name, "role": role})
    assert response.url.path == "/app/members", flashes(response)
    return email


async def reset_link_for(browser: Browser, email: str) -> str:
    """The newest set-a-password link mailed to ``email``, read off the dev outbox page."""
    page = await browser.get("/app/dev/outbox", to=email)
    links = re.findall(r'href="http://[^"/]+(/app/reset/[^"]+)"', page.text)
    assert links, f"no reset link for {email} in the outbox"
    return unescape(links[0])


async def join(
    owner: Browser, newcomer: Browser, shop: Shop, *, role: str, name: str = "Sam", email: str | None = None
) -> str:
    """Invite someone new with ``role`` (``email``, else a fresh address), let them set a password, log in."""
    email = await invite(owner, role=role, name=name, email=email)
    link = await reset_link_for(newcomer, email)
    response = await newcomer.submit(link, {"password": PASSWORD, "confirm": PASSWORD})
    assert response.url.path == "/app/login", flashes(response)
    response = await log_in(newcomer, shop, email)
    assert ("success", f"Welcome back, {name}.") in flashes(response)
    return email
