"""Checks of request fields every servicer shares: a malformed one is INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import uuid

from folio.core.errors import InvalidParam, ValidationFailedError

__all__ = ["parse_uuid"]


def parse_uuid(value: str, field: str) -> uuid.UUID:
    """``value`` as a UUID; ``ValidationFailedError`` (INVALID_ARGUMENT) naming ``field`` otherwise."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailedError(
            f"{field} must be a UUID", errors=[InvalidParam(name=field, reason="must be a UUID")]
        ) from None
