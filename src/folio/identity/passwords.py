"""Passwords: argon2id hashing with the configured cost, and the password policy.

Hashing and verifying are deliberately slow (tens of milliseconds, ``argon2_memory_kib``
of memory); services call them through ``asyncio.to_thread`` so the event loop keeps
serving. A hash records its own parameters, so raising the cost in settings leaves old
hashes verifiable, and ``needs_rehash`` tells the login to upgrade them.

The password policy (``check_password_policy``) accepts a password when all of these hold:

1. at least ``identity.password_min_length`` characters, and at most ``MAX_PASSWORD_LENGTH``;
2. not mostly one character: no single character makes up half of it or more;
3. it does not contain the local part of the account's e-mail address (any case), when that
   local part is ``MIN_LOCAL_PART_CHECKED`` characters or longer;
4. it mixes at least ``MIN_CHARACTER_CLASSES`` of lowercase, uppercase, digits and other
   characters, unless it is a passphrase of ``PASSPHRASE_LENGTH`` characters or more.

Every rule broken is reported, at once, each as its own sentence.
"""

from __future__ import annotations

import functools
from collections import Counter

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from folio.core.errors import InvalidParam, ValidationFailedError
from folio.identity.settings import IdentitySettings

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "check_password_policy",
    "ensure_password_acceptable",
    "hash_password",
    "needs_rehash",
    "verify_dummy",
    "verify_password",
]

MAX_PASSWORD_LENGTH = 128
"""Longest password the policy accepts."""

PASSPHRASE_LENGTH = 16
"""From this length on, a password needs no mix of character classes."""

MIN_CHARACTER_CLASSES = 3
"""Character classes (lower, upper, digit, other) a shorter password must mix."""

MIN_LOCAL_PART_CHECKED = 3
"""E-mail local parts shorter than this are too common a substring to forbid."""

_DUMMY_PASSWORD = "folio-dummy-password-never-matches"  # noqa: S105 - hashed to equalise timing, never accepted


@functools.lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def password_hasher(settings: IdentitySettings) -> PasswordHasher:
    """The argon2id hasher for the configured cost (one per parameter set, reused)."""
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)


def hash_password(password: str, *, settings: IdentitySettings) -> str:
    """The argon2id hash of ``password`` (salted; encodes its own parameters)."""
    return password_hasher(settings).hash(password)


def verify_password(password_hash: str, password: str, *, settings: IdentitySettings) -> bool:
    """Whether ``password`` matches ``password_hash``; a malformed hash never matches."""
    try:
        return password_hasher(settings).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, *, settings: IdentitySettings) -> bool:
    """Whether ``password_hash`` was made with other parameters than the configured ones."""
    try:
        return password_hasher(settings).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.lru_cache(maxsize=8)
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash(_DUMMY_PASSWORD)


def verify_dummy(password: str, *, settings: IdentitySettings) -> None:
    """Spend the time a real verification would, for an account that does not exist.

    A login for an unknown e-mail then takes as long as one with a wrong password,
    so response times do not reveal which accounts exist.
    """
    params = (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    verify_password(_dummy_hash(*params), password + "\x00", settings=settings)


def _character_classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def check_password_policy(password: str, *, email: str, settings: IdentitySettings) -> list[str]:
    """Every rule of the policy (see the module docstring) ``password`` breaks; empty when it is fine."""
    problems: list[str] = []
    min_length = settings.password_min_length
    if len(password) < min_length:
        problems.append(f"The password must be at least {min_length} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.")
    if password and Counter(password).most_common(1)[0][1] * 2 >= len(password):
        problems.append("The password must not be mostly one repeated character.")
    local_part = email.partition("@")[0].strip().lower()
    if len(local_part) >= MIN_LOCAL_PART_CHECKED and local_part in password.lower():
        problems.append("The password must not contain your e-mail address's name.")
    if len(password) < PASSPHRASE_LENGTH and _character_classes(password) < MIN_CHARACTER_CLASSES:
        problems.append(
            f"The password must mix at least {MIN_CHARACTER_CLASSES} of lowercase letters, uppercase "
            f"letters, digits and symbols, or be a passphrase of {PASSPHRASE_LENGTH} characters or more."
        )
    return problems


def ensure_password_acceptable(
    password: str, *, email: str, settings: IdentitySettings, field: str = "body.password"
) -> None:
    """Raise ``ValidationFailedError`` listing every policy rule ``password`` breaks, under ``field``."""
    problems = check_password_policy(password, email=email, settings=settings)
    if problems:
        raise ValidationFailedError(
            "the password does not meet the password policy",
            errors=[InvalidParam(name=field, reason=problem) for problem in problems],
        )
