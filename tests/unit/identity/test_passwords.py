"""The password policy and argon2 hashing, without a database."""

from __future__ import annotations

import pytest

from folio.core.errors import ValidationFailedError
from folio.core.settings import Settings
from folio.identity.passwords import (
    check_password_policy,
    ensure_password_acceptable,
    hash_password,
    needs_rehash,
    verify_dummy,
    verify_password,
)
from folio.identity.settings import IdentitySettings

pytestmark = pytest.mark.unit


@pytest.fixture
def identity(settings: Settings) -> IdentitySettings:
    """Identity settings with the cheapest argon2 parameters and a 12-character minimum."""
    return settings.identity.model_copy(
        update={
            "argon2_time_cost": 1,
            "argon2_memory_kib": 8_192,
            "argon2_parallelism": 1,
            "password_min_length": 12,
        }
    )


@pytest.mark.parametrize(
    "password",
    ["Tidy-Shelves-42", "correct horse battery staple", "ABCdef123456", "lowercase passphrase here"],
)
def test_good_passwords_pass(identity: IdentitySettings, password: str) -> None:
    """Mixed passwords of 12+ characters and passphrases of 16+ characters are accepted."""
    assert check_password_policy(password, email="ada@example.com", settings=identity) == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Short-1", ["at least 12 characters"]),
        ("A1-" + "x" * 130, ["at most 128 characters", "mostly one repeated character"]),
        ("aaaaaaaaaaaaaaaaaaB1", ["mostly one repeated character"]),
        ("My-ada.lovelace-99", ["e-mail address's name"]),
        ("alllowercase", ["mix at least 3"]),
    ],
)
def test_each_broken_rule_is_named(identity: IdentitySettings, password: str, expected: list[str]) -> None:
    """Each rule a password breaks yields its own message, and only those."""
    problems = check_password_policy(password, email="Ada.Lovelace@example.com", settings=identity)
    assert len(problems) == len(expected)
    for fragment, problem in zip(expected, problems, strict=True):
        assert fragment in problem


def test_all_problems_come_at_once(identity: IdentitySettings) -> None:
    """One error lists every broken rule under the given field."""
    with pytest.raises(ValidationFailedError) as caught:
        ensure_password_acceptable(
            "aaaa", email="bob@example.com", settings=identity, field="body.new_password"
        )
    errors = caught.value.extra["errors"]
    assert len(errors) == 3
    assert {error.name for error in errors} == {"body.new_password"}


def test_short_local_parts_are_not_forbidden(identity: IdentitySettings) -> None:
    """A two-letter e-mail name is too common a substring to forbid."""
    assert check_password_policy("Bo-Tidy-Shelves-4", email="bo@example.com", settings=identity) == []


def test_hash_verifies_and_records_its_parameters(identity: IdentitySettings) -> None:
    """A hash verifies its password only, and needs a rehash once the cost changes."""
    digest = hash_password("Tidy-Shelves-42", settings=identity)
    assert digest.startswith("$argon2id$")
    assert verify_password(digest, "Tidy-Shelves-42", settings=identity)
    assert not verify_password(digest, "Tidy-Shelves-43", settings=identity)
    assert not verify_password("not a hash", "Tidy-Shelves-42", settings=identity)
    assert not needs_rehash(digest, settings=identity)
    assert needs_rehash(digest, settings=identity.model_copy(update={"argon2_time_cost": 2}))
    assert needs_rehash("not a hash", settings=identity)


def test_dummy_verification_accepts_nothing(identity: IdentitySettings) -> None:
    """The timing-equaliser runs without error whatever the input."""
    verify_dummy("", settings=identity)
    verify_dummy("folio-dummy-password-never-matches", settings=identity)
