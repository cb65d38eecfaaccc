"""Browser-facing hardening of every web app response: CSP and the security headers.

The policy is strict on purpose: the pages are server-rendered HTML with one CSS file
and no JavaScript at all, so ``default-src 'none'`` loses nothing and an injected
``<script>`` or inline ``style`` cannot run (there is no ``'unsafe-inline'``).
``form-action 'self'`` keeps a tampered form from posting credentials elsewhere and
``frame-ancestors 'none'`` (with ``X-Frame-Options`` for old browsers) stops
clickjacking. Pages that show a signed-in member's data are ``no-store`` so a shared
computer's back button or a proxy cannot replay them after logout.
"""

from __future__ import annotations

from flask import Flask, Response, request

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "install_security_headers"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
"""The Content-Security-Policy of every web app response."""

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
"""Headers set on every response of the web app (static files included)."""

STATIC_ENDPOINT = "static"


def install_security_headers(app: Flask) -> None:
    """Add ``SECURITY_HEADERS`` to every response and ``no-store`` to every page."""

    @app.after_request
    def _harden(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != STATIC_ENDPOINT:
            # Pages may show a member's data; never let a cache or the back button keep them.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response
