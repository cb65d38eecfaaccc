"""Webhook signatures as Stripe makes them: verified by the official library's own checker."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import stripe

from folio.payments.models import WebhookEndpoint
from folio.payments.webhooks import live_secrets, sign, signature_header

pytestmark = pytest.mark.unit

PAYLOAD = '{"id":"evt_1","object":"event","type":"charge.succeeded"}'


def test_a_signature_verifies_with_the_library_and_only_with_its_secret() -> None:
    """t=...,v1=HMAC-SHA256 passes WebhookSignature.verify_header; another secret does not."""
    now = int(time.time())
    header = signature_header(PAYLOAD, ["whsec_a"], timestamp=now)

    assert header == f"t={now},v1={sign(PAYLOAD, 'whsec_a', now)}"
    assert stripe.WebhookSignature.verify_header(PAYLOAD, header, "whsec_a", tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(PAYLOAD, header, "whsec_b", tolerance=300)


def test_two_live_secrets_sign_twice_and_either_verifies() -> None:
    """During a roll the header carries a v1 per secret; a receiver holding either accepts it."""
    header = signature_header(PAYLOAD, ["whsec_new", "whsec_old"], timestamp=int(time.time()))

    assert header.count(",v1=") == 2
    for secret in ("whsec_new", "whsec_old"):
        assert stripe.WebhookSignature.verify_header(PAYLOAD, header, secret, tolerance=300)


def test_an_old_timestamp_is_refused_by_the_receiver() -> None:
    """A signature older than the receiver's tolerance fails (replayed deliveries are refused)."""
    header = signature_header(PAYLOAD, ["whsec_a"], timestamp=int(time.time()) - 301)

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(PAYLOAD, header, "whsec_a", tolerance=300)


def test_a_rolled_secret_signs_until_it_expires() -> None:
    """live_secrets holds the previous secret strictly before its expiry, then only the current one."""
    expiry = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    endpoint = WebhookEndpoint(
        secret="whsec_new", previous_secret="whsec_old", previous_secret_expires_at=expiry
    )

    assert live_secrets(endpoint, expiry - dt.timedelta(seconds=1)) == ["whsec_new", "whsec_old"]
    assert live_secrets(endpoint, expiry) == ["whsec_new"]
