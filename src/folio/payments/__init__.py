"""Payments: a Stripe-compatible test mode (customers, intents, checkout, refunds, events, webhooks)."""
