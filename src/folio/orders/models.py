"""The orders context's tables: carts, orders and their frozen lines.

All three are tenant-owned (row-level security on PostgreSQL). Money is in integer
minor units of the order's one currency; a line's price is copied from the listing at
checkout and never changes after, whatever happens to the listing.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from folio.core.columns import UtcDateTime, utcnow
from folio.core.db import Base
from folio.core.tenancy import TenantOwned


class CartItem(TenantOwned, Base):
    """One listing in one customer's cart, with how many copies they want."""

    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("tenant_id", "owner_id", "listing_id", name="uq_cart_items_listing"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    listing_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Order(TenantOwned, Base):
    """An order: who placed it, where it stands, what it costs and how it is being paid."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "placed_by", "idempotency_key", name="uq_orders_idempotency"),
        Index("ix_orders_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_orders_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_orders_reservations", "status", "reserved_until"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    placed_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(Integer)
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    stock_held: Mapped[bool] = mapped_column(default=True)
    reserved_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    payment_reference: Mapped[str | None] = mapped_column(String(255))
    payment_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    lines: Mapped[list[OrderLine]] = relationship(
        lazy="selectin", order_by="OrderLine.position", cascade="all, delete-orphan"
    )


class OrderLine(TenantOwned, Base):
    """One listing on an order, its price frozen when the order was placed."""

    __tablename__ = "order_lines"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    listing_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    work_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
