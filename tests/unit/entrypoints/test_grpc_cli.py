"""``folio grpc token``: a service token (and user claims) an operator hands to grpcurl."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from folio.core.settings import Settings
from folio.entrypoints.cli import build_cli
from folio.grpckit import ServiceCredentials

pytestmark = pytest.mark.unit


def test_the_token_verifies_at_its_audience_with_the_users_claims(clean_env: Path) -> None:
    """The printed token is accepted by the service named, and the claims name the user in the shop."""
    tenant, user = uuid.uuid4(), uuid.uuid4()
    done = CliRunner().invoke(
        build_cli(), ["grpc", "token", "orders", "--tenant", str(tenant), "--user", str(user)]
    )

    assert done.exit_code == 0, done.output
    token, claims = done.output.split()
    orders = ServiceCredentials(Settings().grpc, service="orders")
    assert orders.verify_service_token(f"Bearer {token}").issuer == "operator"
    assert (orders.verify_caller_claims(claims).tenant_id, orders.verify_caller_claims(claims).user_id) == (
        tenant,
        user,
    )


def test_a_token_without_a_user_and_half_a_user(clean_env: Path) -> None:
    """Without --tenant/--user only the token is printed; --tenant alone is a usage error."""
    runner = CliRunner()
    alone = runner.invoke(build_cli(), ["grpc", "token", "users"])
    half = runner.invoke(build_cli(), ["grpc", "token", "users", "--tenant", str(uuid.uuid4())])

    assert alone.exit_code == 0
    assert len(alone.output.split()) == 1
    assert half.exit_code == 2
    assert "go together" in half.output
