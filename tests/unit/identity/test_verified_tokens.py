"""``VerifiedTokens``: a verified token is remembered until it expires, and at most RECHECK_S."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pydantic import SecretStr

from folio.core.errors import InvalidCredentialsError
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.identity.authentication import RECHECK_S, VerifiedTokens
from folio.identity.tokens import issue_access_token
from tests.support.cache import FakeClock

pytestmark = pytest.mark.unit

KEY = "verified-tokens-key-" + "0123456789abcdef" * 4
PRINCIPAL = Principal(
    tenant_id=uuid.UUID("00000000-0000-4000-8000-00000000000b"),
    role=Role.ADMIN,
    user_id=uuid.UUID("00000000-0000-4000-8000-000000000002"),
    via="token",
)


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    """Settings with one signing key, ``k1``."""
    identity = settings.identity.model_copy(
        update={"jwt_keys": {"k1": SecretStr(KEY)}, "jwt_active_kid": "k1"}
    )
    return settings.model_copy(update={"identity": identity})


def _now() -> FakeClock:
    """A fake clock set to the real time (tokens carry real timestamps)."""
    clock = FakeClock()
    clock.now = dt.datetime.now(dt.UTC).timestamp()
    return clock


def _retire_the_key(settings: Settings) -> None:
    """Remove the only signing key: its tokens no longer verify."""
    settings.identity.jwt_keys = {"k2": SecretStr(KEY[::-1])}


def test_a_verified_token_is_taken_on_trust_until_recheck(keyed: Settings) -> None:
    """A second use is answered from memory (even with its key gone); after RECHECK_S it is checked again."""
    clock = _now()
    tokens = VerifiedTokens(keyed, clock=clock)
    token = issue_access_token(keyed, PRINCIPAL)
    assert tokens.principal(token) == PRINCIPAL
    _retire_the_key(keyed)
    remembered = tokens.principal(token)
    assert remembered == PRINCIPAL
    assert remembered.actor_id == PRINCIPAL.user_id
    clock.now += RECHECK_S
    with pytest.raises(InvalidCredentialsError):
        tokens.principal(token)


def test_a_token_is_not_remembered_past_its_expiry(keyed: Settings) -> None:
    """An entry dies with its token's ``exp``, before RECHECK_S: the token is verified again then."""
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=keyed.identity.access_ttl_s - 5)
    token = issue_access_token(keyed, PRINCIPAL, now=issued)
    clock = _now()
    tokens = VerifiedTokens(keyed, clock=clock)
    assert tokens.principal(token) == PRINCIPAL
    _retire_the_key(keyed)
    assert tokens.principal(token) == PRINCIPAL  # remembered while the token lives
    clock.now += 6  # past exp, well inside RECHECK_S
    with pytest.raises(InvalidCredentialsError):
        tokens.principal(token)


def test_refused_tokens_are_never_remembered(keyed: Settings) -> None:
    """A bad token is refused on every use, and takes no room."""
    tokens = VerifiedTokens(keyed)
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            tokens.principal("not-a-token")
    assert len(tokens._verified) == 0
