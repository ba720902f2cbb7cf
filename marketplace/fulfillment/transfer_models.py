"""Customer-return and transfer receipts.

A :class:`ReturnReceipt` records goods a customer sent back against a shipped order of one shop: per order line
the good units (booked into stock, with a putaway task) and the damaged ones (recorded only, never stock). A
:class:`Transfer` moves one shop's goods from one warehouse to another: a draft lists the lines (and, from a
warehouse with bins, the bin each comes from); shipping takes the units out of the source; each scan-booked
receipt at the destination is a :class:`TransferReceiptLine` with its stock movement and putaway task.
Every row carries the goods' shop (``TenantScoped``); a transfer holds the goods of one shop only.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.db import Base, BigId, TenantScoped, TimestampMixin, UTCDateTime, utcnow


class ReturnReceipt(TenantScoped, Base):
    """One parcel a customer sent back, received in a warehouse against the original order."""

    __tablename__ = "return_receipts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"))
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    # The after-sales case this parcel belongs to (free text until after-sales cases exist).
    case_reference: Mapped[str] = mapped_column(String(64), default="")
    received_by_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())

    lines: Mapped[list[ReturnReceiptLine]] = relationship(
        back_populates="receipt", order_by="ReturnReceiptLine.id"
    )

    def __repr__(self) -> str:
        return f"<ReturnReceipt {self.number}>"


class ReturnReceiptLine(TenantScoped, Base):
    __tablename__ = "return_receipt_lines"
    __table_args__ = (
        CheckConstraint("quantity_good >= 0", name="quantity_good_not_negative"),
        CheckConstraint("quantity_damaged >= 0", name="quantity_damaged_not_negative"),
        CheckConstraint("quantity_good + quantity_damaged > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(BigId, ForeignKey("return_receipts.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"))
    quantity_good: Mapped[int] = mapped_column(Integer, default=0)
    quantity_damaged: Mapped[int] = mapped_column(Integer, default=0)
    # The task that puts the good units away (NULL when all units were damaged).
    putaway_task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("putaway_tasks.id"))

    receipt: Mapped[ReturnReceipt] = relationship(back_populates="lines")

    @property
    def quantity(self) -> int:
        return self.quantity_good + self.quantity_damaged


class TransferStatus(enum.StrEnum):
    DRAFT = "draft"
    SHIPPED = "shipped"  # in transit
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class Transfer(TenantScoped, TimestampMixin, Base):
    """One shop's goods moving from one warehouse to another."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("from_warehouse_id <> to_warehouse_id", name="different_warehouses"),
        Index("ix_transfers_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    from_warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"), index=True)
    to_warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"), index=True)
    status: Mapped[TransferStatus] = mapped_column(
        Enum(TransferStatus, native_enum=False, length=24), default=TransferStatus.DRAFT
    )
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(BigInteger)
    shipped_by_id: Mapped[int | None] = mapped_column(BigInteger)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[TransferLine]] = relationship(back_populates="transfer", order_by="TransferLine.id")

    @property
    def quantity_sent(self) -> int:
        return sum(line.quantity_sent for line in self.lines)

    @property
    def quantity_received(self) -> int:
        return sum(line.quantity_received for line in self.lines)

    def __repr__(self) -> str:
        return f"<Transfer {self.number} {self.status}>"


class TransferLine(TenantScoped, Base):
    """Units of one SKU sent (from one bin when the source has bins) and how many arrived so far."""

    __tablename__ = "transfer_lines"
    __table_args__ = (
        CheckConstraint("quantity_sent > 0", name="quantity_sent_positive"),
        CheckConstraint("quantity_received >= 0", name="quantity_received_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transfer_id: Mapped[int] = mapped_column(BigId, ForeignKey("transfers.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"), index=True)
    # The source bin the units leave from (NULL: the source warehouse has no bins, e.g. a shop's own).
    from_bin_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("bins.id"))
    quantity_sent: Mapped[int] = mapped_column(Integer)
    quantity_received: Mapped[int] = mapped_column(Integer, default=0)

    transfer: Mapped[Transfer] = relationship(back_populates="lines")

    @property
    def open_quantity(self) -> int:
        return max(self.quantity_sent - self.quantity_received, 0)


class TransferReceiptLine(TenantScoped, Base):
    """Units of a transfer line booked in at the destination by one receipt (one scan session)."""

    __tablename__ = "transfer_receipt_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transfer_id: Mapped[int] = mapped_column(BigId, ForeignKey("transfers.id"), index=True)
    transfer_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("transfer_lines.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # Set when the units were more than was sent and a supervisor confirmed them.
    confirmed_by_id: Mapped[int | None] = mapped_column(BigInteger)
    # The task that puts the units away (NULL when the destination has no bins).
    putaway_task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("putaway_tasks.id"))
    received_by_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())
