"""Service tokens and end users' claims: signed, short-lived, addressed, and refused otherwise."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr, ValidationError

from folio.core.errors import AuthenticationRequiredError, InvalidCredentialsError
from folio.core.settings.grpc import GrpcSettings
from folio.grpckit.credentials import LEEWAY_S, ServiceCredentials

pytestmark = pytest.mark.unit

KEY = "k" * 40


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        """The time the test set."""
        return self.now


def grpc_settings(keys: dict[str, str] | None = None, active: str = "a", ttl: int = 60) -> GrpcSettings:
    """Settings with the given keys (by id), the active one, and the token lifetime."""
    keys = keys or {"a": KEY}
    return GrpcSettings(
        service_keys={kid: SecretStr(key) for kid, key in keys.items()},
        service_active_kid=active,
        token_ttl_s=ttl,
    )


def test_a_token_is_verified_by_its_audience_and_names_its_issuer() -> None:
    """The gateway's token for orders verifies at orders, which learns who called."""
    clock = Clock()
    gateway = ServiceCredentials(grpc_settings(), service="gateway", clock=clock)
    orders = ServiceCredentials(grpc_settings(), service="orders", clock=clock)

    claims = orders.verify_service_token(f"Bearer {gateway.service_token('orders')}")

    assert (claims.issuer, claims.audience, claims.expires_at) == ("gateway", "orders", clock.now + 60)


def test_a_token_for_another_service_or_missing_or_forged_is_refused() -> None:
    """Wrong audience, no token, another scheme, another installation's key: all refused."""
    gateway = ServiceCredentials(grpc_settings(), service="gateway")
    orders = ServiceCredentials(grpc_settings(), service="orders")
    stranger = ServiceCredentials(grpc_settings({"a": "s" * 40}), service="gateway")

    with pytest.raises(InvalidCredentialsError, match="not valid"):
        orders.verify_service_token(f"Bearer {gateway.service_token('users')}")
    with pytest.raises(AuthenticationRequiredError):
        orders.verify_service_token(None)
    with pytest.raises(InvalidCredentialsError, match="bearer"):
        orders.verify_service_token(f"Basic {gateway.service_token('orders')}")
    with pytest.raises(InvalidCredentialsError, match="not valid"):
        orders.verify_service_token(f"Bearer {stranger.service_token('orders')}")


def test_a_token_expires_after_its_lifetime_and_the_leeway() -> None:
    """Accepted until exp plus the leeway, refused after (even once it was verified and cached)."""
    clock = Clock()
    gateway = ServiceCredentials(grpc_settings(ttl=60), service="gateway", clock=clock)
    orders = ServiceCredentials(grpc_settings(ttl=60), service="orders", clock=clock)
    token = f"Bearer {gateway.service_token('orders')}"
    orders.verify_service_token(token)

    clock.now += 60 + LEEWAY_S - 1
    orders.verify_service_token(token)
    clock.now += 2
    with pytest.raises(InvalidCredentialsError, match="expired"):
        orders.verify_service_token(token)


def test_a_client_reuses_its_token_for_half_its_lifetime() -> None:
    """The same token for 30 s of a 60 s lifetime, a fresh one after."""
    clock = Clock()
    gateway = ServiceCredentials(grpc_settings(ttl=60), service="gateway", clock=clock)
    first = gateway.service_token("orders")

    clock.now += 29
    assert gateway.service_token("orders") == first
    clock.now += 2
    assert gateway.service_token("orders") != first


def test_keys_rotate_without_refusing_tokens_signed_with_the_previous_one() -> None:
    """A token signed under key a verifies where b is active and a is still known."""
    old = ServiceCredentials(grpc_settings({"a": KEY}), service="gateway")
    rotated = ServiceCredentials(grpc_settings({"a": KEY, "b": "b" * 40}, active="b"), service="orders")
    retired = ServiceCredentials(grpc_settings({"b": "b" * 40}, active="b"), service="orders")
    token = f"Bearer {old.service_token('orders')}"

    assert rotated.verify_service_token(token).issuer == "gateway"
    with pytest.raises(InvalidCredentialsError, match="no known key"):
        retired.verify_service_token(token)


def test_caller_claims_round_trip_and_cannot_pass_as_a_service_token() -> None:
    """The end user's claims verify as claims only: a key derived per purpose keeps the kinds apart."""
    gateway = ServiceCredentials(grpc_settings(), service="gateway")
    orders = ServiceCredentials(grpc_settings(), service="orders")
    tenant, key = uuid.uuid4(), uuid.uuid4()

    claims = gateway.caller_claims("orders", tenant_id=tenant, user_id=None, api_key_id=key, via="api_key")
    seen = orders.verify_caller_claims(claims)

    assert (seen.tenant_id, seen.user_id, seen.api_key_id, seen.via, seen.issuer) == (
        tenant,
        None,
        key,
        "api_key",
        "gateway",
    )
    with pytest.raises(InvalidCredentialsError):
        orders.verify_service_token(f"Bearer {claims}")
    with pytest.raises(InvalidCredentialsError):
        orders.verify_caller_claims(gateway.service_token("orders"))
    with pytest.raises(ValueError, match="user or an API key"):
        gateway.caller_claims("orders", tenant_id=tenant, user_id=None, api_key_id=None, via="token")


def test_the_settings_refuse_short_or_unknown_keys() -> None:
    """An active key id missing from the keys, or a key under 32 characters, is a configuration error."""
    with pytest.raises(ValidationError, match="not in service_keys"):
        grpc_settings(active="missing")
    with pytest.raises(ValidationError, match="at least 32"):
        grpc_settings({"a": "short"})
