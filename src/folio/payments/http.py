"""Payments' HTTP adapters: the Stripe-compatible API (``stripe_router``) and the secret keys' routes.

``stripe_router`` is mounted by the gateway under ``/stripe``, so the official library
works with ``stripe.api_base = "http://<gateway>/stripe"``. It speaks Stripe's wire
format, not Folio's: form-encoded bodies and query strings (nested with brackets),
``Authorization: Bearer sk_test_...``, JSON objects, and errors as Stripe's envelope
``{"error": {...}}`` with Stripe's statuses, never problem+json (``StripeRoute`` turns
every failure into it). Its routes are left out of Folio's OpenAPI document: Stripe's
own API reference is theirs. Unknown paths under it answer Stripe's 404.

Each request may carry ``Folio-Simulate`` (``decline``, ``timeout``, ``server_error``,
``delay_webhook``, ``duplicate_webhook``); it is honoured when
``payments.simulation_enabled`` and the profile is not ``prod``, and
``payments.simulate`` applies one to every request.

``keys_router`` (under ``/api/v1``, Folio's problem+json) lets a shop's owner issue,
list and revoke its secret keys.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, get_args
from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from folio.audit import api as audit
from folio.core.errors import FolioError
from folio.core.logging import correlation_id
from folio.core.security import MANAGER_ROLES, require_role
from folio.core.settings import Settings
from folio.httpkit import CurrentPrincipal, DatabaseDep, problem_responses
from folio.httpkit.wiring import platform_of
from folio.payments import checkout, customers, events, intents, refunds, webhooks
from folio.payments.calls import Call, Outcome, allowed_simulation
from folio.payments.errors import (
    ApiError,
    InvalidRequestError,
    PaymentsAuthenticationError,
    PaymentsError,
    ResourceMissingError,
)
from folio.payments.form_encoding import decode_form
from folio.payments.idempotency import Operation, fingerprint, perform
from folio.payments.keys import (
    OWNER_ONLY,
    create_secret_key,
    list_secret_keys,
    parse_secret_key,
    revoke_secret_key,
)
from folio.payments.schemas import (
    ChargeList,
    CheckoutSessionCreate,
    CheckoutSessionList,
    CustomerCreate,
    CustomerList,
    CustomerUpdate,
    EventList,
    ListParams,
    NoParams,
    PaymentIntentCancel,
    PaymentIntentCapture,
    PaymentIntentConfirm,
    PaymentIntentCreate,
    PaymentIntentList,
    PaymentIntentUpdate,
    PaymentMethodCreate,
    RefundCreate,
    RefundList,
    SecretKeyCreate,
    SecretKeyIssued,
    SecretKeyRead,
    WebhookEndpointCreate,
    WebhookEndpointRoll,
    WebhookEndpointUpdate,
    parse,
)
from folio.payments.settings import Simulation

__all__ = [
    "SIMULATE_HEADER",
    "STRIPE_ENDPOINTS",
    "StripeEndpoint",
    "StripeRoute",
    "keys_router",
    "stripe_router",
]

log = structlog.get_logger(__name__)

SIMULATE_HEADER = "Folio-Simulate"
MAX_BODY_BYTES = 256 * 1024
"""The largest form body accepted (Stripe's own requests are a few kilobytes)."""

_SIMULATIONS = frozenset(get_args(Simulation))
_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
)


def _request_id() -> str:
    return f"req_{correlation_id() or uuid.uuid4().hex}"


def _stripe_error(error: PaymentsError) -> Response:
    headers = {"Request-Id": _request_id(), **error.headers}
    return JSONResponse(error.envelope(), status_code=error.status, headers=headers)


class StripeRoute(APIRoute):
    """A route that answers every failure in Stripe's error envelope, never as a problem."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped: ``PaymentsError`` as itself, other failures as ``api_error``."""
        handler = super().get_route_handler()

        async def stripe_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except PaymentsError as exc:
                return _stripe_error(exc)
            except FolioError as exc:
                # The database down (503) and the like: Stripe's api_error, same status.
                log.info("payments.platform_error", code=exc.code, status=exc.status)
                error = ApiError(
                    exc.detail or exc.title, headers={**exc.headers, "Stripe-Should-Retry": "true"}
                )
                response = _stripe_error(error)
                response.status_code = exc.status
                return response
            except Exception as exc:
                log.exception(
                    "payments.unhandled_error", path=request.url.path, error_type=type(exc).__name__
                )
                # The unit of work rolled back and any idempotency claim was freed: a retry is safe.
                return _stripe_error(
                    ApiError(
                        "An unexpected error occurred in Folio; it has been logged.",
                        headers={"Stripe-Should-Retry": "true"},
                    )
                )

        return stripe_handler


stripe_router = APIRouter(route_class=StripeRoute, include_in_schema=False)
keys_router = APIRouter(tags=["payments"])


def _secret_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        # curl -u sk_test_...: the key is the user name, the password is empty.
        try:
            user, _, _ = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise PaymentsAuthenticationError(_NO_KEY) from None
        if user:
            return user
    raise PaymentsAuthenticationError(_NO_KEY)


async def _body(request: Request) -> str:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdecimal() and int(declared) > MAX_BODY_BYTES:
        raise InvalidRequestError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InvalidRequestError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode()
    except UnicodeDecodeError:
        raise InvalidRequestError("The request body is not valid UTF-8.") from None


def _simulation(request: Request, settings: Settings) -> Simulation | None:
    asked = request.headers.get(SIMULATE_HEADER)
    if asked is not None and asked not in _SIMULATIONS:
        raise InvalidRequestError(
            f"Invalid {SIMULATE_HEADER} header: must be one of {', '.join(sorted(_SIMULATIONS))}.",
            param=SIMULATE_HEADER,
        )
    return allowed_simulation(settings, asked)  # type: ignore[arg-type]  # checked against the Literal just above


@dataclass(frozen=True)
class StripeCall:
    """One request to the Stripe-compatible API: its key, shop, decoded parameters and simulation."""

    request: Request
    call: Call
    secret_key: str
    params: dict[str, Any]

    async def run(self, operation: Operation) -> Response:
        """Run ``operation`` (idempotently for a POST) and answer with its status and body."""
        settings = self.call.settings.payments
        if self.call.simulate == "server_error":
            raise ApiError(
                f"Simulated server error ({SIMULATE_HEADER}: server_error): nothing was changed.",
                headers={"Stripe-Should-Retry": "true"},
            )
        method = self.request.method
        print_ = fingerprint(method, self.request.url.path, self.params) if method == "POST" else None
        answer = await perform(
            platform_of(self.request).database,
            self.call,
            secret_key=self.secret_key,
            operation=operation,
            fingerprint_=print_,
        )
        if self.call.simulate == "timeout" and not answer.replayed:
            # Committed and stored: the client times out and its retry gets the replay.
            await asyncio.sleep(settings.simulated_timeout_s)
        headers = {"Request-Id": self.call.request_id or _request_id()}
        if self.call.idempotency_key is not None and print_ is not None:
            headers["Idempotency-Key"] = self.call.idempotency_key
        if answer.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(
            answer.body, status_code=answer.status, media_type="application/json", headers=headers
        )


async def _stripe_call(request: Request) -> StripeCall:
    """Authenticate the request's secret key, decode its parameters, read its simulation."""
    secret_key = _secret_key(request)
    tenant_id, _, _ = parse_secret_key(secret_key)
    settings = platform_of(request).settings
    if request.method in {"GET", "DELETE"}:
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
    else:
        pairs = parse_qsl(await _body(request), keep_blank_values=True)
    params = decode_form(pairs)
    call = Call(
        tenant_id=tenant_id,
        settings=settings,
        base_url=str(request.base_url),
        request_id=_request_id(),
        idempotency_key=request.headers.get("idempotency-key") if request.method == "POST" else None,
        simulate=_simulation(request, settings),
    )
    return StripeCall(request=request, call=call, secret_key=secret_key, params=params)


Stripe = Annotated[StripeCall, Depends(_stripe_call)]


# --- the Stripe-compatible routes: one table, one handler shape --------------------------------------


@dataclass(frozen=True)
class StripeEndpoint:
    """One route of the Stripe-compatible API and the use case that answers it.

    The use case is called as ``operation(session, call, *path_ids, params)``, or without
    ``params`` when ``takes_params`` is False (a delete: its parameters must be empty).
    """

    method: str
    path: str
    params: type[BaseModel]
    operation: Callable[..., Awaitable[Outcome]]
    summary: str
    takes_params: bool = True


STRIPE_ENDPOINTS: tuple[StripeEndpoint, ...] = (
    # customers
    StripeEndpoint("POST", "/v1/customers", CustomerCreate, customers.create_customer, "Create a customer."),
    StripeEndpoint("GET", "/v1/customers", CustomerList, customers.list_customers, "List customers."),
    StripeEndpoint(
        "GET", "/v1/customers/{customer_id}", NoParams, customers.retrieve_customer, "Retrieve a customer."
    ),
    StripeEndpoint(
        "POST", "/v1/customers/{customer_id}", CustomerUpdate, customers.update_customer, "Update a customer."
    ),
    StripeEndpoint(
        "DELETE",
        "/v1/customers/{customer_id}",
        NoParams,
        customers.delete_customer,
        "Delete a customer.",
        takes_params=False,
    ),
    # payment methods, payment intents, charges
    StripeEndpoint(
        "POST",
        "/v1/payment_methods",
        PaymentMethodCreate,
        intents.create_payment_method,
        "Create a card payment method (test numbers).",
    ),
    StripeEndpoint(
        "GET",
        "/v1/payment_methods/{method_id}",
        NoParams,
        intents.retrieve_payment_method,
        "Retrieve a payment method.",
    ),
    StripeEndpoint(
        "POST",
        "/v1/payment_intents",
        PaymentIntentCreate,
        intents.create_payment_intent,
        "Create (and with `confirm=true` confirm) a payment intent.",
    ),
    StripeEndpoint(
        "GET", "/v1/payment_intents", PaymentIntentList, intents.list_payment_intents, "List payment intents."
    ),
    StripeEndpoint(
        "GET",
        "/v1/payment_intents/{intent_id}",
        NoParams,
        intents.retrieve_payment_intent,
        "Retrieve a payment intent.",
    ),
    StripeEndpoint(
        "POST",
        "/v1/payment_intents/{intent_id}",
        PaymentIntentUpdate,
        intents.update_payment_intent,
        "Update a payment intent.",
    ),
    StripeEndpoint(
        "POST",
        "/v1/payment_intents/{intent_id}/confirm",
        PaymentIntentConfirm,
        intents.confirm_payment_intent,
        "Confirm a payment intent: charge its card.",
    ),
    StripeEndpoint(
        "POST",
        "/v1/payment_intents/{intent_id}/capture",
        PaymentIntentCapture,
        intents.capture_payment_intent,
        "Capture an authorised payment intent.",
    ),
    StripeEndpoint(
        "POST",
        "/v1/payment_intents/{intent_id}/cancel",
        PaymentIntentCancel,
        intents.cancel_payment_intent,
        "Cancel a payment intent.",
    ),
    StripeEndpoint("GET", "/v1/charges", ChargeList, intents.list_charges, "List charges."),
    StripeEndpoint("GET", "/v1/charges/{charge_id}", NoParams, intents.retrieve_charge, "Retrieve a charge."),
    # refunds
    StripeEndpoint(
        "POST", "/v1/refunds", RefundCreate, refunds.create_refund, "Refund a charge, in full or in part."
    ),
    StripeEndpoint("GET", "/v1/refunds", RefundList, refunds.list_refunds, "List refunds."),
    StripeEndpoint("GET", "/v1/refunds/{refund_id}", NoParams, refunds.retrieve_refund, "Retrieve a refund."),
    # checkout sessions
    StripeEndpoint(
        "POST",
        "/v1/checkout/sessions",
        CheckoutSessionCreate,
        checkout.create_checkout_session,
        "Create a checkout session (its `url` is the hosted payment page).",
    ),
    StripeEndpoint(
        "GET",
        "/v1/checkout/sessions",
        CheckoutSessionList,
        checkout.list_checkout_sessions,
        "List checkout sessions.",
    ),
    StripeEndpoint(
        "GET",
        "/v1/checkout/sessions/{session_id}",
        NoParams,
        checkout.retrieve_checkout_session,
        "Retrieve a checkout session.",
    ),
    StripeEndpoint(
        "GET",
        "/v1/checkout/sessions/{session_id}/line_items",
        ListParams,
        checkout.list_line_items,
        "List a checkout session's line items.",
    ),
    StripeEndpoint(
        "POST",
        "/v1/checkout/sessions/{session_id}/expire",
        NoParams,
        checkout.expire_checkout_session,
        "Expire an open checkout session.",
    ),
    # events and webhook endpoints
    StripeEndpoint("GET", "/v1/events", EventList, events.list_events, "List events."),
    StripeEndpoint("GET", "/v1/events/{event_id}", NoParams, events.retrieve_event, "Retrieve an event."),
    StripeEndpoint(
        "POST",
        "/v1/webhook_endpoints",
        WebhookEndpointCreate,
        webhooks.create_webhook_endpoint,
        "Create a webhook endpoint (the answer carries its `secret`).",
    ),
    StripeEndpoint(
        "GET", "/v1/webhook_endpoints", ListParams, webhooks.list_webhook_endpoints, "List webhook endpoints."
    ),
    StripeEndpoint(
        "GET",
        "/v1/webhook_endpoints/{endpoint_id}",
        NoParams,
        webhooks.retrieve_webhook_endpoint,
        "Retrieve a webhook endpoint.",
    ),
    StripeEndpoint(
        "POST",
        "/v1/webhook_endpoints/{endpoint_id}",
        WebhookEndpointUpdate,
        webhooks.update_webhook_endpoint,
        "Update a webhook endpoint.",
    ),
    StripeEndpoint(
        "POST",
        "/v1/webhook_endpoints/{endpoint_id}/roll_secret",
        WebhookEndpointRoll,
        webhooks.roll_webhook_secret,
        "Roll a webhook endpoint's secret (Folio's): the old one signs on for `expires_in` seconds.",
    ),
    StripeEndpoint(
        "DELETE",
        "/v1/webhook_endpoints/{endpoint_id}",
        NoParams,
        webhooks.delete_webhook_endpoint,
        "Delete a webhook endpoint.",
        takes_params=False,
    ),
)
"""Every route of the Stripe-compatible API Folio serves, in the order they are matched."""


def _handler(endpoint: StripeEndpoint) -> Callable[[Request, StripeCall], Awaitable[Response]]:
    """The route handler of ``endpoint``: parse its parameters, run its use case (idempotently)."""

    async def handle(request: Request, stripe: Stripe) -> Response:
        params = parse(endpoint.params, stripe.params)  # a 400 in Stripe's envelope when they do not fit
        args = (
            (*request.path_params.values(), params) if endpoint.takes_params else request.path_params.values()
        )
        return await stripe.run(lambda session, call: endpoint.operation(session, call, *args))

    handle.__doc__ = endpoint.summary
    return handle


for _endpoint in STRIPE_ENDPOINTS:
    stripe_router.add_api_route(
        _endpoint.path,
        _handler(_endpoint),
        methods=[_endpoint.method],
        name=_endpoint.operation.__name__,
        summary=_endpoint.summary,
    )


@stripe_router.api_route("/{path:path}", methods=["GET", "POST", "DELETE", "PUT", "PATCH"])
async def unrecognized(path: str, request: Request) -> Response:
    """Stripe's 404 for a path it does not serve (also what a wrong method on a known path gets)."""
    raise ResourceMissingError(
        f"Unrecognized request URL ({request.method}: /{path}). Folio serves a subset of Stripe's API: "
        "see its payments documentation."
    )


# --- Folio's own routes: the secret keys ----------------------------------------------------------


@keys_router.post(
    "/payments/keys",
    summary="Issue a payments secret key",
    status_code=201,
    response_model=SecretKeyIssued,
    responses=problem_responses(401, 403, 422, 429),
)
async def issue_key(data: SecretKeyCreate, principal: CurrentPrincipal, db: DatabaseDep) -> SecretKeyIssued:
    """Issue an `sk_test_` secret key for the caller's shop (owners only), shown only in this answer.

    Point the official `stripe` library at `<gateway>/stripe` with it.
    """
    return await create_secret_key(db, principal=principal, name=data.name)


@keys_router.get(
    "/payments/keys",
    summary="List the shop's payments secret keys",
    response_model=list[SecretKeyRead],
    responses=problem_responses(401, 403, 429),
)
async def list_keys(principal: CurrentPrincipal, db: DatabaseDep) -> list[SecretKeyRead]:
    """The shop's secret keys, revoked ones included, newest first (owners and admins; never the keys)."""
    require_role(principal, MANAGER_ROLES, action="list payments keys")
    return await list_secret_keys(db, tenant_id=principal.tenant_id)


@keys_router.delete(
    "/payments/keys/{key_id}",
    summary="Revoke a payments secret key",
    response_model=SecretKeyRead,
    responses=problem_responses(401, 403, 404, 429),
)
async def revoke_key(key_id: uuid.UUID, principal: CurrentPrincipal, db: DatabaseDep) -> SecretKeyRead:
    """Revoke a secret key at once (owners only)."""
    require_role(principal, OWNER_ONLY, action="revoke payments keys")
    actor_kind, actor_id = audit.actor_of(principal)
    return await revoke_secret_key(
        db, tenant_id=principal.tenant_id, key_id=key_id, actor_kind=actor_kind, actor_id=actor_id
    )
