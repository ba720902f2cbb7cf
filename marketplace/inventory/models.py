"""Warehouses, stock levels per SKU per warehouse, and the stock-movement ledger.

``available = on_hand - reserved`` is stored, not derived, so a reservation is one conditional UPDATE
(``... SET available = available - :n WHERE available >= :n``) backed by CHECK constraints: stock can never go
negative, whatever the concurrency.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import Base, BigId, TenantScoped, TimestampMixin, UTCDateTime, utcnow


class Warehouse(TimestampMixin, Base):
    """A place stock sits: a merchant's own warehouse (``merchant_id`` set) or a platform warehouse (NULL).

    Not tenant-scoped: a platform warehouse holds the goods of many shops. Merchant-facing queries filter on
    ``merchant_id`` explicitly; the stock levels inside it are tenant-scoped as usual.
    """

    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    merchant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def is_platform(self) -> bool:
        return self.merchant_id is None

    def __repr__(self) -> str:
        return f"<Warehouse {self.code}>"


# The most units one number may say (the stock columns are 32-bit integers); the services refuse more.
MAX_UNITS = 1_000_000_000


class StockLevel(TenantScoped, Base):
    __tablename__ = "stock_levels"
    __audit__ = False  # every change is a StockMovement row, which is the audit trail of stock
    __table_args__ = (
        UniqueConstraint("sku_id", "warehouse_id", name="uq_stock_levels_sku_id_warehouse_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("available = on_hand - reserved", name="available_is_on_hand_less_reserved"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    available: Mapped[int] = mapped_column(Integer, default=0)
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=0)
    # Set when a low-stock alert went out; cleared when stock rises above the threshold again, so one dip
    # sends one alert, not one per order.
    low_stock_alerted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def __repr__(self) -> str:
        return f"<StockLevel sku={self.sku_id} on_hand={self.on_hand} available={self.available}>"


class MovementKind(enum.StrEnum):
    INITIAL = "initial"
    ADJUST = "adjust"
    IMPORT = "import"
    RESERVE = "reserve"
    RELEASE = "release"
    SHIP = "ship"
    RECEIVE = "receive"
    COUNT = "count"


class StockMovement(TenantScoped, Base):
    __tablename__ = "stock_movements"
    __audit__ = False
    __table_args__ = (Index("ix_stock_movements_sku_id_id", "sku_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[MovementKind] = mapped_column(Enum(MovementKind, native_enum=False, length=16))
    # Signed change of on_hand and of reserved; the before/after of available for the person reading the ledger.
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    available_before: Mapped[int] = mapped_column(Integer)
    available_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
