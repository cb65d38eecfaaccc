"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from assets shipped with the package, under their own CSP.

FastAPI's default pages load their scripts from a public CDN: blank offline, and run
unpinned code with no integrity check. Here the scripts, stylesheet and favicon come
from the ``fastapi-offline`` wheel (a pinned dependency, in ``uv.lock`` with its hash)
and are served under ``/docs/assets``, so the pages name no other host.

The web app's policy (``default-src 'none'``, no script) cannot hold for pages that are
JavaScript applications, so these two pages carry their own, ``DOCS_CSP``: scripts only
from this origin plus the one inline start-up script of Swagger UI, pinned by its
SHA-256; fetches only to this origin (the OpenAPI document, "Try it out"); ReDoc's
search worker from a ``blob:``; ``'unsafe-inline'`` for styles only, because both UIs
set style attributes at run time (a style cannot run code).
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

__all__ = ["ASSETS_PATH", "docs_csp", "install_api_docs"]

ASSETS_PATH = "/docs/assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_csp(page: str) -> str:
    """The Content-Security-Policy of one docs page: its own inline scripts allowed by hash, no other."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    ]
    return "; ".join(
        [
            "default-src 'none'",
            " ".join(["script-src 'self'", *hashes]),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "worker-src blob:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _hardened(page: HTMLResponse) -> tuple[str, dict[str, str]]:
    """The page's HTML and the headers it is served with."""
    html = bytes(page.body).decode()
    return html, {
        "Content-Security-Policy": docs_csp(html),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }


def install_api_docs(app: FastAPI, *, openapi_url: str) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets (build the app with ``docs_url=None, redoc_url=None``)."""
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS_PATH, StaticFiles(directory=str(assets)), name="api-docs-assets")
    favicon = f"{ASSETS_PATH}/favicon.png"
    swagger = _hardened(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=favicon,
        )
    )
    redoc = _hardened(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
    )

    # The pages are the same for every request: rendered (and hashed) once.
    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger[0], headers=swagger[1])

    @app.get("/redoc", include_in_schema=False)
    async def redoc_ui() -> HTMLResponse:
        return HTMLResponse(redoc[0], headers=redoc[1])
