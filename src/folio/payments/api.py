"""The payments context's public surface: what entry points, workers and other contexts may import.

Key contracts:

- Every state change of a payments object writes a ``payments_events`` row and an
  outbox event (topic ``TOPIC``, key and payload the event's id) in the transaction
  that makes it. The webhook worker consumes that topic and, per event,
  ``webhook_deliveries`` (the endpoints that want it, with the body and the secrets
  live now) then ``deliver_webhook`` for each (one signed POST; retries are the
  worker's). ``signature_header`` is Stripe's ``Stripe-Signature``, which
  ``stripe.Webhook.construct_event`` verifies.
- Secret keys (``sk_test_...``) name their shop; ``issue_secret_key`` shows a key once.
- Receipts: ``get_receipt`` / ``send_receipt`` for a succeeded charge, rendered by
  ``render_receipt_html`` and ``render_receipt_pdf``; the mail goes through the mail
  outbox.
- Folio's own orders reach a shop's account with ``orders_account`` (a derived key and
  the checkout saga's webhook endpoint) and verify its events with ``orders_webhook_secrets``.
- No money moves: only test mode exists.
"""

from __future__ import annotations

from folio.payments.cards import OUTCOMES, TEST_CARDS, CardOutcome, TestCard
from folio.payments.checkout import CheckoutView, PaymentAttempt
from folio.payments.connect import ORDERS_EVENTS, ORDERS_KEY_NAME, orders_account, orders_webhook_secrets
from folio.payments.errors import CardError, PaymentsError
from folio.payments.events import TOPIC
from folio.payments.keys import create_secret_key, issue_secret_key, list_secret_keys, revoke_secret_key
from folio.payments.receipts import Receipt, ReceiptLine, render_receipt_html, render_receipt_pdf
from folio.payments.schemas import EVENT_TYPES, CardDetails, SecretKeyCreate, SecretKeyIssued, SecretKeyRead
from folio.payments.service import (
    expire_overdue_checkout_sessions,
    get_receipt,
    pay_checkout_session,
    send_receipt,
    view_checkout_session,
)
from folio.payments.webhooks import (
    SIGNATURE_HEADER,
    DeliveryOutcome,
    WebhookDelivery,
    deliver_webhook,
    signature_header,
    webhook_deliveries,
)

__all__ = [
    "EVENT_TYPES",
    "ORDERS_EVENTS",
    "ORDERS_KEY_NAME",
    "OUTCOMES",
    "SIGNATURE_HEADER",
    "TEST_CARDS",
    "TOPIC",
    "CardDetails",
    "CardError",
    "CardOutcome",
    "CheckoutView",
    "DeliveryOutcome",
    "PaymentAttempt",
    "PaymentsError",
    "Receipt",
    "ReceiptLine",
    "SecretKeyCreate",
    "SecretKeyIssued",
    "SecretKeyRead",
    "TestCard",
    "WebhookDelivery",
    "create_secret_key",
    "deliver_webhook",
    "expire_overdue_checkout_sessions",
    "get_receipt",
    "issue_secret_key",
    "list_secret_keys",
    "orders_account",
    "orders_webhook_secrets",
    "pay_checkout_session",
    "render_receipt_html",
    "render_receipt_pdf",
    "revoke_secret_key",
    "send_receipt",
    "signature_header",
    "view_checkout_session",
    "webhook_deliveries",
]
