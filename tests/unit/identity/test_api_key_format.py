"""The API key format: shop, key id and secret, parsed back without a database."""

from __future__ import annotations

import uuid

import pytest

from folio.core.errors import InvalidCredentialsError
from folio.identity.api_keys import format_key, parse_key

pytestmark = pytest.mark.unit


def test_keys_round_trip_even_with_underscores_in_the_secret() -> None:
    """The secret may hold '_' (URL-safe base64); parsing splits only the first three."""
    tenant, key_id = uuid.uuid4(), uuid.uuid4()
    key = format_key(tenant, key_id, "se_cr-et_")
    assert key.startswith(f"folio_{tenant.hex}_{key_id.hex}_")
    assert parse_key(key) == (tenant, key_id, "se_cr-et_")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "folio",
        "folio_x_y_z",
        f"folio_{'0' * 32}_{'1' * 32}_",
        f"other_{'0' * 32}_{'1' * 32}_s",
        f"folio_{'G' * 32}_{'1' * 32}_s",
    ],
)
def test_malformed_keys_are_invalid_credentials(key: str) -> None:
    """Anything not shaped like a key is refused before any lookup."""
    with pytest.raises(InvalidCredentialsError):
        parse_key(key)
