"""Payments' errors, in Stripe's shape: ``{"error": {"type", "code", "decline_code", "message", "param"}}``.

Each is a ``FolioError`` (so the web page and the CLI show it like any other), carrying
what Stripe's error object holds: its ``type`` (``invalid_request_error``,
``card_error``, ``idempotency_error``, ``api_error``), an optional ``code``,
``decline_code`` and ``param``, and the HTTP status Stripe answers it with. The
``/stripe`` routes answer them as Stripe's envelope (``envelope``), never as a problem:
the official ``stripe`` library picks its exception class from status and ``type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from folio.core.errors import FolioError

__all__ = [
    "ApiError",
    "CardError",
    "IdempotencyError",
    "IdempotencyKeyInUseError",
    "InvalidRequestError",
    "PaymentsAuthenticationError",
    "PaymentsError",
    "ResourceMissingError",
    "no_such",
]


class PaymentsError(FolioError, code="payment-request-failed", title="Payment request failed", status=400):
    """A request to the Stripe-compatible API that Stripe would refuse the same way."""

    stripe_type: ClassVar[str] = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        related: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, headers=headers)
        self.message = message
        self.stripe_code = code
        self.param = param
        self.decline_code = decline_code
        self.related = dict(related or {})
        """Objects the error concerns, as Stripe attaches them (``payment_intent``, ``charge``)."""

    def error_object(self) -> dict[str, Any]:
        """Stripe's error object: ``type``, ``message`` and the optional members that are set."""
        body: dict[str, Any] = {"type": self.stripe_type, "message": self.message}
        if self.stripe_code is not None:
            body["code"] = self.stripe_code
            body["doc_url"] = f"https://stripe.com/docs/error-codes/{self.stripe_code.replace('_', '-')}"
        if self.decline_code is not None:
            body["decline_code"] = self.decline_code
        if self.param is not None:
            body["param"] = self.param
        body.update(self.related)
        return body

    def envelope(self) -> dict[str, Any]:
        """The response body: ``{"error": <error object>}``."""
        return {"error": self.error_object()}


class InvalidRequestError(PaymentsError, code="payment-invalid-request", title="Invalid payment request"):
    """A parameter is missing, unknown or invalid, or the object's state forbids the call (400)."""


class ResourceMissingError(
    InvalidRequestError, code="payment-resource-missing", title="No such object", status=404
):
    """The object named does not exist in the caller's account (404, code ``resource_missing``)."""


class PaymentsAuthenticationError(
    PaymentsError, code="payment-authentication-failed", title="Invalid API key", status=401
):
    """No secret key, a malformed one, an unknown one or a revoked one (401)."""


class CardError(PaymentsError, code="payment-card-declined", title="Card declined", status=402):
    """The card was declined or could not be charged (402, type ``card_error``)."""

    stripe_type = "card_error"


class IdempotencyError(PaymentsError, code="payment-idempotency-mismatch", title="Idempotency key reused"):
    """An ``Idempotency-Key`` came back with other parameters than its first request (400)."""

    stripe_type = "idempotency_error"


class IdempotencyKeyInUseError(
    PaymentsError, code="payment-idempotency-in-flight", title="Idempotency key in use", status=409
):
    """A request with the same ``Idempotency-Key`` is still running (409; retry it later)."""


class ApiError(PaymentsError, code="payment-api-error", title="Payments API error", status=500):
    """Something went wrong on Folio's side (500, type ``api_error``); nothing was changed."""

    stripe_type = "api_error"


def no_such(object_name: str, object_id: str, *, param: str = "id") -> ResourceMissingError:
    """Stripe's 404 for an unknown id: ``No such customer: 'cus_...'``, code ``resource_missing``."""
    return ResourceMissingError(f"No such {object_name}: '{object_id}'", code="resource_missing", param=param)
