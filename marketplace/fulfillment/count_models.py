"""Cycle counts: blind counts of bins or SKUs and their variance review.

A :class:`CycleCount` covers some bins of one platform warehouse (a bin list, a zone, or every bin holding one
SKU). At creation each bin's stock becomes a :class:`CycleCountLine` with the expected quantity snapshotted;
the counter never sees it (blind count). Each scan is a :class:`CycleCountScan` whose one-time token is unique,
so a double-submitted scan counts once; an item found where nothing was expected adds a line (expected 0).
After submission a supervisor approves or rejects each variance with a reason; an approved one moves the bin's
stock and the warehouse's on-hand stock by the variance.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import Base, BigId, TenantScoped, TimestampMixin, UTCDateTime, utcnow


class CountScope(enum.StrEnum):
    BINS = "bins"
    ZONE = "zone"
    SKU = "sku"


class CountStatus(enum.StrEnum):
    OPEN = "open"  # being counted
    COUNTED = "counted"  # submitted, variances waiting for review
    CLOSED = "closed"  # every variance decided


class CountDecision(enum.StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class CycleCount(TimestampMixin, Base):
    """One count order of a warehouse; ``bin_ids`` are the bins in scope (snapshotted at creation)."""

    __tablename__ = "cycle_counts"
    __table_args__ = (UniqueConstraint("warehouse_id", "number", name="uq_cycle_counts_warehouse_id_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"))
    number: Mapped[int] = mapped_column(Integer)
    scope: Mapped[CountScope] = mapped_column(Enum(CountScope, native_enum=False, length=16))
    zone_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("zones.id"))
    sku_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("skus.id", ondelete="SET NULL"))
    bin_ids: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[CountStatus] = mapped_column(
        Enum(CountStatus, native_enum=False, length=16), default=CountStatus.OPEN
    )
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(BigInteger)
    submitted_by_id: Mapped[int | None] = mapped_column(BigInteger)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<CycleCount {self.number} {self.status}>"


class CycleCountLine(TenantScoped, TimestampMixin, Base):
    """One SKU in one bin of a count. ``expected_quantity`` is never shown to the counter."""

    __tablename__ = "cycle_count_lines"
    __table_args__ = (
        UniqueConstraint("count_id", "bin_id", "sku_id", name="uq_cycle_count_lines_count_id_bin_id_sku_id"),
        CheckConstraint("expected_quantity >= 0", name="expected_not_negative"),
        CheckConstraint("counted_quantity IS NULL OR counted_quantity >= 0", name="counted_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    count_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("cycle_counts.id", ondelete="CASCADE"), index=True
    )
    bin_id: Mapped[int] = mapped_column(BigId, ForeignKey("bins.id"))
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id", ondelete="CASCADE"))
    expected_quantity: Mapped[int] = mapped_column(Integer, default=0)
    # NULL until scanned; lines nobody scanned count 0 when the count is submitted.
    counted_quantity: Mapped[int | None] = mapped_column(Integer)
    counted_by_id: Mapped[int | None] = mapped_column(BigInteger)
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # True: the counter found this SKU in the bin where nothing was expected.
    found_extra: Mapped[bool] = mapped_column(default=False)
    decision: Mapped[CountDecision | None] = mapped_column(Enum(CountDecision, native_enum=False, length=16))
    decision_reason: Mapped[str] = mapped_column(String(200), default="")
    decided_by_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def variance(self) -> int | None:
        """Counted minus expected (None while not counted): positive is a gain, negative a loss."""
        if self.counted_quantity is None:
            return None
        return self.counted_quantity - self.expected_quantity

    def __repr__(self) -> str:
        return f"<CycleCountLine bin={self.bin_id} sku={self.sku_id} {self.counted_quantity}/{self.expected_quantity}>"


class CycleCountScan(TenantScoped, Base):
    """One scan of a counter; the unique token makes a resent scan a no-op."""

    __tablename__ = "cycle_count_scans"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_cycle_count_scans_line_id", "line_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_id: Mapped[int] = mapped_column(BigId, ForeignKey("cycle_count_lines.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    quantity: Mapped[int] = mapped_column(Integer)
    counted_by_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())
