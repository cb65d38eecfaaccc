"""The staff web app's Flask factory: the assembly of every context's pages, and the shared frame.

``create_web_app(settings)`` builds the WSGI app and connects to nothing (the session
store and the services are the platform's, reached per request through the loop
portal, see ``folio.webkit.bridge``). The gateway mounts it under ``/app``
(``folio.entrypoints.web.mount_web_app``).

The pages live in their contexts (``folio.identity.web``, ``folio.tasks.web``,
``folio.search.web``, ``folio.payments.web``, ``folio.orders.web``, each a blueprint
with its templates); the shared mechanics in ``folio.webkit``. This module only
registers the blueprints, installs the shared mechanics (sessions, CSRF, security
headers, the signed-in caller with identity's lookup and operator check) and owns what every page
shares: the base layout, the stylesheet, the error pages and the developer pages
(``dev``).

Error pages: a ``FolioError`` a view does not handle becomes a page with its status
and detail (404 for anything another shop owns, 403 for a role that may not); any
other exception is logged with its traceback and answered by a friendly 500 page
that quotes the request's correlation id, never the traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from http import HTTPStatus

import structlog
from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]  # ships no py.typed
from werkzeug.exceptions import HTTPException

from folio.core.errors import (
    AuthenticationRequiredError,
    FolioError,
    RateLimitedError,
)
from folio.core.logging import correlation_id
from folio.core.security import Principal
from folio.core.settings import Settings
from folio.entrypoints.web import dev
from folio.identity import api as identity
from folio.identity import web as identity_web
from folio.live import web as live_web
from folio.orders import web as orders_web
from folio.payments import web as payments_web
from folio.search import web as search_web
from folio.slo import web as slo_web
from folio.tasks import web as tasks_web
from folio.traces import web as traces_web
from folio.webkit.access import current_principal, install_signed_in_caller, is_operator
from folio.webkit.security import install_security_headers
from folio.webkit.sessions import configure_sessions

__all__ = ["MOUNT_PATH", "create_web_app"]

log = structlog.get_logger(__name__)

MOUNT_PATH = "/app"
"""Where the gateway mounts the web app; also the session cookie's path."""

DEV_PROFILES = frozenset({"dev", "test"})
"""Profiles that serve the developer pages (the mail outbox); ``prod`` answers 404 there."""

SERVER_ERROR = 500


def create_web_app(settings: Settings) -> Flask:
    """Build the web app for ``settings`` (nothing connects until a request needs it)."""
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        SECRET_KEY=settings.security.secret_key.get_secret_value(),
        MAX_CONTENT_LENGTH=1_000_000,
        # A form's CSRF token lives as long as the session that issued it.
        WTF_CSRF_TIME_LIMIT=settings.identity.session_ttl_s,
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
    )
    app.extensions["folio.settings"] = settings
    configure_sessions(app, settings, cookie_path=MOUNT_PATH)
    CSRFProtect(app)
    install_security_headers(app)
    install_signed_in_caller(
        app,
        lookup=identity.principal_for,
        # The live settings: a reload of ``security.platform_operators`` applies on the next click.
        operator_check=functools.partial(identity.is_platform_operator, settings=settings),
    )

    @app.context_processor
    def _page_context() -> dict[str, object]:
        principal: Principal | None = current_principal()
        return {
            "principal": principal,
            "operator": is_operator(),
            "dev_pages": settings.profile in DEV_PROFILES,
        }

    app.add_template_filter(_reject_keys, "reject_keys")
    app.register_blueprint(identity_web.auth_blueprint)
    app.register_blueprint(tasks_web.blueprint, url_prefix="/tasks")
    app.register_blueprint(identity_web.members_blueprint, url_prefix="/members")
    app.register_blueprint(search_web.blueprint, url_prefix="/search")
    app.register_blueprint(payments_web.blueprint, url_prefix="/pay")
    app.register_blueprint(orders_web.blueprint, url_prefix="/shop")
    app.register_blueprint(live_web.blueprint, url_prefix="/live")
    app.register_blueprint(slo_web.blueprint, url_prefix="/ops")
    app.register_blueprint(traces_web.blueprint, url_prefix="/traces")
    if settings.profile in DEV_PROFILES:
        app.register_blueprint(dev.blueprint, url_prefix="/dev")
    _install_error_pages(app)
    return app


def _reject_keys(args: Mapping[str, str], *keys: str) -> dict[str, str]:
    """The query ``args`` without ``keys`` (and without empty values), for links that change one filter."""
    return {key: value for key, value in args.items() if key not in keys and value}


def _install_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError) -> ResponseReturnValue:
        log.warning("web.csrf_rejected", path=request.path, reason=exc.description)
        return _error_page(
            HTTPStatus.BAD_REQUEST,
            "The form expired or was not sent by this site. Reload the page and try again.",
        )

    @app.errorhandler(AuthenticationRequiredError)
    def _login_first(_exc: AuthenticationRequiredError) -> ResponseReturnValue:
        flash("Please log in first.", "info")
        return redirect(url_for("auth.login"))

    @app.errorhandler(FolioError)
    def _domain_error(exc: FolioError) -> ResponseReturnValue:
        if exc.status >= SERVER_ERROR:
            log.error("web.domain_error", code=exc.code, detail=exc.detail)
        response = _error_page(HTTPStatus(exc.status), exc.detail or exc.title)
        if isinstance(exc, RateLimitedError):
            response[2]["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        return _error_page(HTTPStatus(exc.code or SERVER_ERROR), None)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        log.error("web.unhandled_error", path=request.path, error_type=type(exc).__name__, exc_info=exc)
        return _error_page(HTTPStatus.INTERNAL_SERVER_ERROR, None)


ERROR_MESSAGES = {
    HTTPStatus.FORBIDDEN: "Your role in this shop does not allow this page.",
    HTTPStatus.NOT_FOUND: "There is nothing here, or it belongs to another shop.",
    HTTPStatus.METHOD_NOT_ALLOWED: "That action is not available this way.",
    HTTPStatus.INTERNAL_SERVER_ERROR: "Something went wrong on our side. It has been logged.",
}


def _error_page(status: HTTPStatus, detail: str | None) -> tuple[str, int, dict[str, str]]:
    message = detail or ERROR_MESSAGES.get(status, status.description)
    body = render_template(
        "error.html",
        status=status.value,
        title=status.phrase,
        message=message,
        correlation_id=correlation_id(),
        customer_on_board=status is HTTPStatus.FORBIDDEN
        and request.blueprint == "board"
        and (principal := current_principal()) is not None
        and not principal.is_staff,
    )
    return body, status.value, {}
