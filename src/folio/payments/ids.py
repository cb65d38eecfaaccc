"""Stripe-style object ids that carry their shop: ``pi_`` + the shop's id + a random part, base62.

Stripe's ids are opaque strings with a type prefix. Folio's are too, to a client, but
the first 22 characters after the prefix encode the owning shop's UUID: a public page
(the hosted checkout page, a receipt) finds the shop of the object it shows from the
id alone and reads it inside that shop's tenant scope, and an id of another shop is
refused before any query. The random part is 96 bits (17 characters), so ids are
unguessable; a checkout session's id is the capability to pay it, as at Stripe.
"""

from __future__ import annotations

import secrets
import uuid

__all__ = [
    "PREFIXES",
    "b62decode",
    "b62encode",
    "new_id",
    "random_token",
    "tenant_of",
]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(ALPHABET)}

UUID_CHARS = 22
"""Base62 characters of a 128-bit value (62**22 > 2**128)."""

RANDOM_BYTES = 12
RANDOM_CHARS = 17
"""Base62 characters of the 96-bit random part (62**17 > 2**96)."""

PREFIXES = {
    "customer": "cus",
    "payment_intent": "pi",
    "payment_method": "pm",
    "charge": "ch",
    "refund": "re",
    "checkout.session": "cs_test",
    "event": "evt",
    "webhook_endpoint": "we",
    "line_item": "li",
    "price": "price",
    "product": "prod",
}
"""The id prefix of each object type (test-mode checkout sessions are ``cs_test_`` at Stripe)."""


def b62encode(data: bytes, width: int) -> str:
    """``data`` as a big-endian number in base62, left-padded with ``0`` to ``width`` characters."""
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while number:
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    if len(chars) > width:
        raise ValueError(f"{len(data)} bytes do not fit in {width} base62 characters")
    return "".join(reversed(chars)).rjust(width, "0")


def b62decode(text: str, size: int) -> bytes:
    """The ``size`` bytes ``text`` encodes; ``ValueError`` for a character outside base62 or an overflow."""
    number = 0
    for char in text:
        digit = _INDEX.get(char)
        if digit is None:
            raise ValueError(f"not a base62 character: {char!r}")
        number = number * 62 + digit
    try:
        return number.to_bytes(size, "big")
    except OverflowError as exc:
        raise ValueError(f"{text!r} is more than {size} bytes") from exc


def random_token(size: int = RANDOM_BYTES) -> str:
    """``size`` random bytes in base62 (a secret's, or an id's random part)."""
    return b62encode(secrets.token_bytes(size), _width(size))


def _width(size: int) -> int:
    width = 1
    while 62**width < 256**size:
        width += 1
    return width


def new_id(object_type: str, tenant_id: uuid.UUID) -> str:
    """A fresh id for an object of ``object_type`` (a key of ``PREFIXES``) owned by ``tenant_id``."""
    return f"{PREFIXES[object_type]}_{b62encode(tenant_id.bytes, UUID_CHARS)}{random_token()}"


def tenant_of(object_id: str) -> uuid.UUID | None:
    """The shop an id of ``new_id`` names, or None when ``object_id`` is not one (any prefix)."""
    _, _, body = object_id.rpartition("_")
    if len(body) != UUID_CHARS + RANDOM_CHARS:
        return None
    try:
        return uuid.UUID(bytes=b62decode(body[:UUID_CHARS], 16))
    except ValueError:
        return None
