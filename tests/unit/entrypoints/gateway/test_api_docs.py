"""/docs and /redoc work offline: their HTML names no other host and every asset it names is served here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from folio.core.settings import Settings, load_settings
from folio.entrypoints.gateway import create_app

pytestmark = pytest.mark.unit

ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture
def gateway_settings(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with SQLite in the test's own folder, counters in memory, and no .env file."""
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    return load_settings(env_file=clean_env / "absent.env")


@pytest.fixture
async def client(gateway_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client; the docs pages touch no dependency, so no lifespan is needed."""
    transport = httpx.ASGITransport(app=create_app(gateway_settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


def referenced_urls(html: str) -> list[str]:
    """Every src, href and spec-url attribute and every quoted URL in the page's scripts."""
    attributes = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html)
    in_scripts = re.findall(r"url: '([^']+)'", html)
    return attributes + in_scripts


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_page_names_only_local_urls_and_they_are_served(
    client: httpx.AsyncClient, page: str
) -> None:
    """No URL in the page has a scheme or host; each script, stylesheet and icon answers 200 with its type."""
    response = await client.get(page)
    assert response.status_code == 200
    urls = referenced_urls(response.text)

    assert urls
    assert [url for url in urls if not url.startswith("/") or url.startswith("//")] == []
    assert "http" not in response.text.lower().replace("http-equiv", "")
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = Path(url).suffix
        if suffix in ASSET_TYPES:
            assert ASSET_TYPES[suffix] in asset.headers["content-type"], url
            assert len(asset.content) > 1000, url


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_page_has_its_own_policy(client: httpx.AsyncClient, page: str) -> None:
    """Scripts from this origin only, inline ones by hash; no 'unsafe-inline' or other host for scripts."""
    response = await client.get(page)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )

    assert policy["default-src"] == "'none'"
    assert policy["script-src"].startswith("'self'")
    assert "unsafe" not in policy["script-src"]
    assert policy["connect-src"] == "'self'"
    inline_scripts = re.findall(r"<script>", response.text)
    assert policy["script-src"].count("'sha256-") == len(inline_scripts)
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_docs_are_absent_when_switched_off(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gateway.docs_enabled false: no /docs, /redoc, assets or /openapi.json."""
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    monkeypatch.setenv("FOLIO_GATEWAY_DOCS_ENABLED", "false")
    app = create_app(load_settings(env_file=clean_env / "absent.env"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        for path in ("/docs", "/redoc", "/docs/assets/swagger-ui.css", "/openapi.json"):
            assert (await http.get(path)).status_code == 404, path
