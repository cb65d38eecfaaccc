"""Access tokens without a database: what verification accepts, and everything it refuses."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import Any, cast

import jwt
import pytest
from pydantic import SecretStr

from folio.core.db import Database
from folio.core.errors import InvalidCredentialsError
from folio.core.security import Principal, Role
from folio.core.settings import Settings
from folio.identity.tokens import (
    TokenType,
    decode_token,
    issue_access_token,
    issue_token_pair,
    verify_access_token,
)

pytestmark = pytest.mark.unit

OLD_KEY = "old-signing-key-" + "0123456789abcdef" * 4
NEW_KEY = "new-signing-key-" + "fedcba9876543210" * 4
PRINCIPAL = Principal(
    tenant_id=uuid.UUID("00000000-0000-4000-8000-00000000000a"),
    role=Role.STAFF,
    user_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
    via="token",
)


def _with_keys(settings: Settings, keys: dict[str, str], active: str, **identity: Any) -> Settings:
    updated = settings.identity.model_copy(
        update={"jwt_keys": {kid: SecretStr(key) for kid, key in keys.items()}, "jwt_active_kid": active}
        | identity
    )
    return settings.model_copy(update={"identity": updated})


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    """Settings with one known key, ``old``, active."""
    return _with_keys(settings, {"old": OLD_KEY}, "old")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(settings: Settings, **overrides: Any) -> dict[str, Any]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims: dict[str, Any] = {
        "iss": settings.identity.jwt_issuer,
        "sub": str(PRINCIPAL.user_id),
        "tid": str(PRINCIPAL.tenant_id),
        "role": PRINCIPAL.role.value,
        "typ": "access",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 600,
    }
    return claims | overrides


def _hand_made(header: dict[str, Any], claims: dict[str, Any], key: str) -> str:
    """A JWT assembled by hand (any header), HMAC-SHA256-signed with ``key``."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def test_issued_access_token_verifies_to_the_principal(keyed: Settings) -> None:
    """An access token round-trips to the same principal, marked as authenticated by token."""
    token = issue_access_token(keyed, PRINCIPAL)
    assert jwt.get_unverified_header(token)["kid"] == "old"
    assert verify_access_token(keyed, token) == PRINCIPAL


def test_access_token_carries_the_documented_claims(keyed: Settings) -> None:
    """Claims: iss, sub, tid, role, typ=access, jti, iat, and exp = iat + access_ttl_s."""
    claims = jwt.decode(issue_access_token(keyed, PRINCIPAL), options={"verify_signature": False})
    assert set(claims) == {"iss", "sub", "tid", "role", "typ", "jti", "iat", "exp"}
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == keyed.identity.access_ttl_s


def test_expired_token_is_rejected(keyed: Settings) -> None:
    """A token issued longer ago than access_ttl_s, signed with the real key, is refused."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=keyed.identity.access_ttl_s + 5)
    token = issue_access_token(keyed, PRINCIPAL, now=past)
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


def test_token_issued_in_the_future_is_rejected(keyed: Settings) -> None:
    """An ``iat`` after now (a forged or clock-skewed token) is refused."""
    token = jwt.encode(
        _claims(keyed, iat=int(dt.datetime.now(dt.UTC).timestamp()) + 3600),
        OLD_KEY,
        algorithm="HS256",
        headers={"kid": "old"},
    )
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


@pytest.mark.parametrize("part", [0, 1, 2], ids=["header", "payload", "signature"])
def test_tampered_token_is_rejected(keyed: Settings, part: int) -> None:
    """Changing one character of any part of the token breaks it."""
    token = issue_access_token(keyed, PRINCIPAL)
    pieces = token.split(".")
    piece = pieces[part]
    middle = len(piece) // 2
    pieces[part] = piece[:middle] + ("A" if piece[middle] != "A" else "B") + piece[middle + 1 :]
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, ".".join(pieces))


def test_role_escalation_in_the_payload_is_rejected(keyed: Settings) -> None:
    """Re-encoding the payload with ``role: owner`` and the old signature fails verification."""
    header, payload, signature = issue_access_token(keyed, PRINCIPAL).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = _b64(json.dumps(claims | {"role": "owner"}).encode())
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, f"{header}.{forged}.{signature}")


def test_alg_none_is_rejected(keyed: Settings) -> None:
    """An unsigned token (``alg: none``) is refused even with a known kid and valid claims."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "old"}).encode())
    payload = _b64(json.dumps(_claims(keyed)).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        with pytest.raises(InvalidCredentialsError):
            verify_access_token(keyed, token)


def test_other_hmac_algorithm_is_rejected(keyed: Settings) -> None:
    """HS512 with the right key is still refused: only HS256 is accepted."""
    token = jwt.encode(_claims(keyed), OLD_KEY, algorithm="HS512", headers={"kid": "old"})
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256", "EdDSA"])
def test_asymmetric_algorithm_confusion_is_rejected(keyed: Settings, alg: str) -> None:
    """A token claiming an asymmetric algorithm (key-confusion attempt) is refused."""
    token = _hand_made({"alg": alg, "typ": "JWT", "kid": "old"}, _claims(keyed), OLD_KEY)
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


def test_hand_made_hs256_token_with_right_key_is_accepted(keyed: Settings) -> None:
    """The hand-made tokens above fail for their algorithm, not their construction."""
    token = _hand_made({"alg": "HS256", "typ": "JWT", "kid": "old"}, _claims(keyed), OLD_KEY)
    assert verify_access_token(keyed, token) == PRINCIPAL


def test_unknown_kid_is_rejected(keyed: Settings) -> None:
    """A token whose kid names no configured key is refused, whatever key signed it."""
    token = jwt.encode(_claims(keyed), OLD_KEY, algorithm="HS256", headers={"kid": "stolen"})
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


def test_missing_kid_is_rejected(keyed: Settings) -> None:
    """A token without a kid header is refused."""
    token = jwt.encode(_claims(keyed), OLD_KEY, algorithm="HS256")
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


def test_wrong_key_under_known_kid_is_rejected(keyed: Settings) -> None:
    """A token signed with another key but labelled with a known kid fails its signature."""
    token = jwt.encode(_claims(keyed), NEW_KEY, algorithm="HS256", headers={"kid": "old"})
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


def test_wrong_issuer_is_rejected(keyed: Settings) -> None:
    """A correctly signed token from another issuer is refused."""
    token = jwt.encode(_claims(keyed, iss="someone-else"), OLD_KEY, algorithm="HS256", headers={"kid": "old"})
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "jti", "typ", "tid", "role", "iss"])
def test_token_missing_a_required_claim_is_rejected(keyed: Settings, claim: str) -> None:
    """Every documented claim is required."""
    claims = _claims(keyed)
    del claims[claim]
    token = jwt.encode(claims, OLD_KEY, algorithm="HS256", headers={"kid": "old"})
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


@pytest.mark.parametrize(
    ("claim", "value"), [("sub", "not-a-uuid"), ("tid", "42"), ("role", "superuser"), ("jti", "x")]
)
def test_token_with_malformed_claims_is_rejected(keyed: Settings, claim: str, value: str) -> None:
    """Claims that do not parse (a non-UUID id, an unknown role) make the token invalid."""
    token = jwt.encode(_claims(keyed, **{claim: value}), OLD_KEY, algorithm="HS256", headers={"kid": "old"})
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


def test_refresh_token_is_not_an_access_token(keyed: Settings) -> None:
    """A token with ``typ: refresh`` is refused where an access token is expected."""
    claims = _claims(keyed, typ="refresh", fam=uuid.uuid4().hex)
    token = jwt.encode(claims, OLD_KEY, algorithm="HS256", headers={"kid": "old"})
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, token)


def test_access_token_is_not_a_refresh_token(keyed: Settings) -> None:
    """An access token is refused where a refresh token is expected."""
    token = issue_access_token(keyed, PRINCIPAL)
    with pytest.raises(InvalidCredentialsError):
        decode_token(keyed, token, typ=TokenType.REFRESH)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "....", "Bearer x"])
def test_garbage_is_rejected(keyed: Settings, garbage: str) -> None:
    """Strings that are not JWTs are invalid credentials, not crashes."""
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(keyed, garbage)


def test_rejection_detail_does_not_say_why(keyed: Settings) -> None:
    """Every rejection carries the same detail; the reason goes only to the log."""
    expired = issue_access_token(
        keyed, PRINCIPAL, now=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=keyed.identity.access_ttl_s + 5)
    )
    details = set()
    for token in (expired, "garbage", jwt.encode(_claims(keyed), NEW_KEY, headers={"kid": "old"})):
        with pytest.raises(InvalidCredentialsError) as caught:
            verify_access_token(keyed, token)
        details.add(caught.value.detail)
    assert len(details) == 1


def test_key_rotation_keeps_old_tokens_valid_until_the_old_key_is_removed(keyed: Settings) -> None:
    """Rotation without downtime: add a key and make it active; old tokens verify until their key goes."""
    old_token = issue_access_token(keyed, PRINCIPAL)

    rotated = _with_keys(keyed, {"old": OLD_KEY, "new": NEW_KEY}, "new")
    new_token = issue_access_token(rotated, PRINCIPAL)
    assert jwt.get_unverified_header(new_token)["kid"] == "new"
    assert verify_access_token(rotated, old_token) == PRINCIPAL
    assert verify_access_token(rotated, new_token) == PRINCIPAL

    retired = _with_keys(keyed, {"new": NEW_KEY}, "new")
    assert verify_access_token(retired, new_token) == PRINCIPAL
    with pytest.raises(InvalidCredentialsError):
        verify_access_token(retired, old_token)


async def test_api_key_principals_get_no_tokens(keyed: Settings) -> None:
    """Tokens name a member; asking for them for an API key's principal is a programming error."""
    key_principal = Principal(
        tenant_id=PRINCIPAL.tenant_id, role=Role.STAFF, api_key_id=uuid.uuid4(), via="api_key"
    )
    with pytest.raises(ValueError, match="members"):
        issue_access_token(keyed, key_principal)
    with pytest.raises(ValueError, match="members"):
        await issue_token_pair(cast("Database", None), settings=keyed, principal=key_principal)
