"""Column types every context's models share, so both backends behave the same."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

__all__ = ["JsonDocument", "UtcDateTime", "utcnow"]


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC (the only kind of datetime Folio stores)."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A ``timestamptz`` that refuses naive datetimes and always reads back aware UTC.

    SQLite keeps no zone and hands back naive values; without this a row would
    compare differently on the two backends.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, _dialect: Dialect) -> dt.datetime | None:
        """Store ``value`` in UTC; a naive datetime is a bug, not a guess."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs a timezone-aware datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, _dialect: Dialect) -> dt.datetime | None:
        """Read back aware UTC whatever the backend returned."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


JsonDocument: Any = JSON().with_variant(JSONB(), "postgresql")
"""JSON on SQLite, JSONB (indexable, ``@>``) on PostgreSQL."""
