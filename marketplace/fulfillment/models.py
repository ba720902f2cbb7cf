"""The warehouse's layout: zones, bin locations, the shops a warehouse serves, and stock per bin.

A warehouse (``inventory.Warehouse``) is divided into zones; a zone holds bins, each with a code unique in its
warehouse (``A-01-02``: aisle A, bay 1, level 2), a barcode unique everywhere (printed on the bin label) and a
``sort_key`` that orders bins along the pick route. ``BinStock`` says how many units of a SKU sit in a bin; it is
tenant-scoped (the goods belong to a shop) and can never go negative (CHECK constraint).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import Base, BigId, TenantScoped, TimestampMixin, UTCDateTime, utcnow


class Zone(TimestampMixin, Base):
    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("warehouse_id", "code", name="uq_zones_warehouse_id_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))

    def __repr__(self) -> str:
        return f"<Zone {self.code}>"


class BinKind(enum.StrEnum):
    STORAGE = "storage"
    PICK = "pick"
    RECEIVING = "receiving"
    PACKING = "packing"
    DAMAGED = "damaged"


class Bin(TimestampMixin, Base):
    __tablename__ = "bins"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "code", name="uq_bins_warehouse_id_code"),
        Index("ix_bins_warehouse_id_sort_key", "warehouse_id", "sort_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"))
    zone_id: Mapped[int] = mapped_column(BigId, ForeignKey("zones.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    # What the scanner reads off the bin label; defaults to "<warehouse code>-<bin code>".
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[BinKind] = mapped_column(
        Enum(BinKind, native_enum=False, length=16), default=BinKind.STORAGE
    )
    # Bins are visited in this order on a pick route (aisle, bay, level; numbers compare as numbers).
    sort_key: Mapped[str] = mapped_column(String(96))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<Bin {self.code}>"


class WarehouseShop(Base):
    """The warehouse holds this shop's goods (platform fulfilment)."""

    __tablename__ = "warehouse_shops"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "merchant_id", name="uq_warehouse_shops_warehouse_id_merchant_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"))
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())


class BinStock(TenantScoped, Base):
    """Units of one SKU in one bin. The sum over a warehouse's bins is that warehouse's on-hand stock."""

    __tablename__ = "bin_stocks"
    __table_args__ = (
        UniqueConstraint("bin_id", "sku_id", name="uq_bin_stocks_bin_id_sku_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_bin_stocks_warehouse_id_sku_id", "warehouse_id", "sku_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id", ondelete="CASCADE"))
    bin_id: Mapped[int] = mapped_column(BigId, ForeignKey("bins.id"))
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now()
    )

    def __repr__(self) -> str:
        return f"<BinStock bin={self.bin_id} sku={self.sku_id} quantity={self.quantity}>"


class PutawayStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class PutawayTask(TenantScoped, TimestampMixin, Base):
    """Received units of one SKU waiting to be put into a bin; done when ``quantity_done`` reaches ``quantity``."""

    __tablename__ = "putaway_tasks"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("quantity_done >= 0 AND quantity_done <= quantity", name="done_within_quantity"),
        Index("ix_putaway_tasks_warehouse_id_status", "warehouse_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"))
    # NULL: a task not made by a purchasing receipt.
    receipt_line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("receipt_lines.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    quantity_done: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[PutawayStatus] = mapped_column(
        Enum(PutawayStatus, native_enum=False, length=16), default=PutawayStatus.OPEN
    )
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def open_quantity(self) -> int:
        return max(self.quantity - self.quantity_done, 0)

    def __repr__(self) -> str:
        return f"<PutawayTask {self.id} sku={self.sku_id} {self.quantity_done}/{self.quantity}>"


class WaveStatus(enum.StrEnum):
    OPEN = "open"
    PICKING = "picking"
    PICKED = "picked"


class Wave(TimestampMixin, Base):
    """A batch of orders released together for picking; ``filters`` records what the supervisor chose."""

    __tablename__ = "waves"
    __table_args__ = (UniqueConstraint("warehouse_id", "number", name="uq_waves_warehouse_id_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[WaveStatus] = mapped_column(
        Enum(WaveStatus, native_enum=False, length=16), default=WaveStatus.OPEN
    )
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(BigInteger)

    def __repr__(self) -> str:
        return f"<Wave {self.number} {self.status}>"


class WaveOrder(Base):
    """An order released in a wave; an order is in one wave only."""

    __tablename__ = "wave_orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    wave_id: Mapped[int] = mapped_column(BigId, ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), unique=True)


class PickStatus(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    PICKED = "picked"
    SHORT = "short"


class PickTask(TenantScoped, TimestampMixin, Base):
    """Pick ``quantity`` units of one order line's SKU from one bin; tasks are walked in ``sequence`` order."""

    __tablename__ = "pick_tasks"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "quantity_picked >= 0 AND quantity_picked <= quantity", name="picked_within_quantity"
        ),
        Index("ix_pick_tasks_wave_id_status_sequence", "wave_id", "status", "sequence"),
        # "The picker's task in progress" on every scan: a small index of the claimed tasks only, so it stays
        # one short walk however long the pick history grows.
        Index(
            "ix_pick_tasks_claimed_by_sequence",
            "claimed_by",
            "sequence",
            "id",
            postgresql_where=text("status = 'CLAIMED'"),
            sqlite_where=text("status = 'CLAIMED'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    wave_id: Mapped[int] = mapped_column(BigId, ForeignKey("waves.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"))
    bin_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("bins.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    quantity_picked: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[PickStatus] = mapped_column(
        Enum(PickStatus, native_enum=False, length=16), default=PickStatus.OPEN
    )
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    sequence: Mapped[str] = mapped_column(String(96), default="")
    short_reason: Mapped[str] = mapped_column(String(200), default="")
    # The token of the scan that confirmed the pick: the same scan submitted twice is counted once.
    scan_token: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return (
            f"<PickTask {self.id} sku={self.sku_id} bin={self.bin_id} {self.quantity_picked}/{self.quantity}>"
        )
