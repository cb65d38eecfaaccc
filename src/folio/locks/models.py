"""The locks' table: the newest fencing token each protected resource accepted (not tenant-owned)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from folio.core.db import Base


class LockFence(Base):
    """One protected resource's fence: a write carrying a token below ``token`` is refused."""

    __tablename__ = "lock_fences"

    resource: Mapped[str] = mapped_column(Text, primary_key=True)
    token: Mapped[int] = mapped_column(BigInteger)
