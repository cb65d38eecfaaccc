"""The web app's own promises that need no database: headers, CSRF, guards, dev pages, helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from folio.core.settings import Settings
from folio.entrypoints.web.app import create_web_app
from folio.entrypoints.web.dev import linkify
from folio.webkit.security import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.unit

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class MountedClient(FlaskClient):
    """A test client whose requests reach the app under ``/app``, as the gateway mounts it."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        """Open a URL relative to ``/app``."""
        kwargs.setdefault("base_url", "http://localhost/app")
        return super().open(*args, **kwargs)


def lite_settings(settings: Settings, home: Path, *, profile: str = "dev") -> Settings:
    """The suite's settings in lite mode (file sessions under ``home``) with ``profile``."""
    cache = settings.cache.model_copy(update={"backend": "memory", "url": None})
    return settings.model_copy(update={"home": home, "cache": cache, "profile": profile})


@pytest.fixture
def web_app(settings: Settings, tmp_path: Path) -> Flask:
    """The web app alone (no gateway, so no portal: pages that call a service answer 503)."""
    return create_web_app(lite_settings(settings, tmp_path))


@pytest.fixture
def client(web_app: Flask) -> Iterator[FlaskClient]:
    """A Flask test client of the web app, as mounted: under ``/app`` (the cookie's path)."""
    web_app.test_client_class = MountedClient
    with web_app.test_client() as client:
        yield client


def test_every_page_carries_the_security_headers(client: FlaskClient) -> None:
    """The login page has the strict CSP, anti-framing, nosniff, referrer and COOP headers, and no-store."""
    response = client.get("/login")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client: FlaskClient) -> None:
    """The CSP forbids inline code, so the pages must not rely on any."""
    for path in ("/login", "/register", "/reset", "/reset/some-token"):
        html = client.get(path).get_data(as_text=True)
        assert "<script" not in html
        assert "style=" not in html
        assert "<style" not in html


def test_the_stylesheet_is_served_with_the_headers_and_may_be_cached(client: FlaskClient) -> None:
    """The CSS file is served by the app, hardened too, and not marked no-store."""
    response = client.get("/static/folio.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_session_cookie_flags(client: FlaskClient) -> None:
    """The session cookie is folio_session, HttpOnly, SameSite=Lax and scoped to the web app."""
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("folio_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/app" in cookie
    assert "Secure" not in cookie  # identity.cookie_secure is false in dev


def test_secure_cookie_when_configured(settings: Settings, tmp_path: Path) -> None:
    """With identity.cookie_secure the cookie is sent over HTTPS only."""
    base = lite_settings(settings, tmp_path)
    secure = base.model_copy(update={"identity": base.identity.model_copy(update={"cookie_secure": True})})
    with create_web_app(secure).test_client() as client:
        assert "Secure" in client.get("/login").headers["Set-Cookie"]


def test_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    """A POST with no CSRF token gets the 400 page, before any service is called."""
    response = client.post("/login", data={"shop_slug": "x", "email": "a@b.c", "password": "p"})
    assert response.status_code == 400
    assert "The form expired or was not sent by this site" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_post_with_a_forged_csrf_token_is_refused(client: FlaskClient) -> None:
    """A token from elsewhere (not this session's) is refused too."""
    client.get("/login")
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400


def test_invalid_form_shows_field_errors(client: FlaskClient) -> None:
    """A login form with its token but no fields is answered with the form and its errors (422)."""
    token = CSRF_INPUT.search(client.get("/login").get_data(as_text=True))
    assert token is not None
    response = client.post("/login", data={"csrf_token": token.group(1)})
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/tasks", "/tasks/new", "/members"])
def test_staff_pages_send_anonymous_visitors_to_login(client: FlaskClient, path: str) -> None:
    """Without a session the board and member pages redirect to the login page, remembering where to."""
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/app/login?next=/app/")


def test_landing_sends_anonymous_visitors_to_login(client: FlaskClient) -> None:
    """The web app's root goes to the login page when nobody is signed in."""
    assert client.get("/").headers["Location"] == "/app/login"


def test_service_pages_without_the_gateway_answer_503(client: FlaskClient) -> None:
    """Outside the gateway there is no loop portal: a page that needs a service says so, politely."""
    response = client.get("/dev/outbox")
    assert response.status_code == 503
    assert "not connected to the gateway" in response.get_data(as_text=True)


def test_outbox_is_absent_in_prod(settings: Settings, tmp_path: Path) -> None:
    """The developer pages are not even routed in the prod profile."""
    with create_web_app(lite_settings(settings, tmp_path, profile="prod")).test_client() as client:
        response = client.get("/dev/outbox")
        assert response.status_code == 404
        assert "Outbox" not in response.get_data(as_text=True)


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    """A path the app does not know gets the app's 404 page, not a framework default."""
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "belongs to another shop" in response.get_data(as_text=True)


def test_unexpected_error_is_a_friendly_500_with_the_correlation_id(web_app: Flask) -> None:
    """An unexpected exception becomes the 500 page quoting the correlation id, never a traceback."""
    import structlog

    @web_app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    structlog.contextvars.bind_contextvars(correlation_id="corr-1234")
    try:
        with web_app.test_client() as client:
            response = client.get("/boom")
    finally:
        structlog.contextvars.unbind_contextvars("correlation_id")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "corr-1234" in body
    assert "secret internals" not in body
    assert "Traceback" not in body


def test_lite_mode_keeps_sessions_in_files(web_app: Flask, settings: Settings, tmp_path: Path) -> None:
    """With cache.backend = memory, sessions are files under <home>/web-sessions."""
    with web_app.test_client() as client:
        client.get("/login")  # the CSRF token makes the session worth saving
    assert any((tmp_path / "web-sessions").iterdir())


def test_linkify_escapes_before_linking() -> None:
    """Mail bodies are escaped, then their http(s) URLs become links."""
    html = linkify('Go <b>now</b>: https://folio.test/app/reset/abc?x=1&y=2 "quoted"')
    assert "&lt;b&gt;now&lt;/b&gt;" in html
    assert '<a href="https://folio.test/app/reset/abc?x=1&amp;y=2">' in html
    assert "<b>" not in html


def test_linkify_leaves_other_schemes_alone() -> None:
    """Only http and https URLs are linked (no javascript: links)."""
    assert "<a" not in linkify("javascript:alert(1)")
