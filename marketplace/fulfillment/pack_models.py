"""Parcels: an order's picked units checked, weighed, packed and shipped at the pack station.

A parcel is opened when the packer scans a picked order of a wave. Its lines are what was picked for each order
line; checking scans every unit against them. Then the goods are weighed (a weight far from the expected one
must be confirmed), a box type is chosen, and shipping with a carrier and waybill ships exactly the checked
units through the order service, so the order becomes shipped and the shopper sees the waybill.
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.db import Base, BigId, TenantScoped, TimestampMixin, UTCDateTime


class BoxType(TimestampMixin, Base):
    """A carton size the warehouse packs in; its tare is added to the goods' weight on the label."""

    __tablename__ = "box_types"
    __table_args__ = (UniqueConstraint("warehouse_id", "code", name="uq_box_types_warehouse_id_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    length_mm: Mapped[int] = mapped_column(Integer, default=0)
    width_mm: Mapped[int] = mapped_column(Integer, default=0)
    height_mm: Mapped[int] = mapped_column(Integer, default=0)
    tare_g: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<BoxType {self.code}>"


class ParcelStatus(enum.StrEnum):
    CHECKING = "checking"
    CHECKED = "checked"
    WEIGHED = "weighed"
    PACKED = "packed"
    SHIPPED = "shipped"
    # The order was cancelled after picking: the picked units went back to stock through a putaway task.
    RETURNED = "returned"


class Parcel(TenantScoped, TimestampMixin, Base):
    """One order's picked units of one wave on their way out; at most one parcel per order and wave."""

    __tablename__ = "parcels"
    __table_args__ = (
        UniqueConstraint("wave_id", "order_id", name="uq_parcels_wave_id_order_id"),
        CheckConstraint("weight_g IS NULL OR weight_g > 0", name="weight_positive"),
        Index("ix_parcels_carrier_waybill_no", "carrier", "waybill_no"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"), index=True)
    wave_id: Mapped[int] = mapped_column(BigId, ForeignKey("waves.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[ParcelStatus] = mapped_column(
        Enum(ParcelStatus, native_enum=False, length=16), default=ParcelStatus.CHECKING
    )
    # Sum of the checked units' catalogue weights (grams); 0 when the catalogue knows no weights.
    expected_weight_g: Mapped[int] = mapped_column(Integer, default=0)
    weight_g: Mapped[int | None] = mapped_column(Integer)
    # The packer confirmed a weight outside the tolerance (kept for the supervisor to see).
    weight_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    box_type_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("box_types.id"))
    carrier: Mapped[str] = mapped_column(String(50), default="")
    waybill_no: Mapped[str] = mapped_column(String(64), default="")
    shipment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("shipments.id"))
    packer_id: Mapped[int | None] = mapped_column(BigInteger)
    # The last check scan's token: the same scan submitted twice is counted once.
    scan_token: Mapped[str | None] = mapped_column(String(64))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[ParcelLine]] = relationship(order_by="ParcelLine.id", viewonly=True)

    def __repr__(self) -> str:
        return f"<Parcel {self.id} order={self.order_id} {self.status}>"


class ParcelLine(TenantScoped, Base):
    """Units of one order line picked in the parcel's wave, and how many of them were checked by scan."""

    __tablename__ = "parcel_lines"
    __table_args__ = (
        UniqueConstraint("parcel_id", "order_line_id", name="uq_parcel_lines_parcel_id_order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "quantity_checked >= 0 AND quantity_checked <= quantity", name="checked_within_quantity"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(BigId, ForeignKey("parcels.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    quantity_checked: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def left(self) -> int:
        return self.quantity - self.quantity_checked

    def __repr__(self) -> str:
        return f"<ParcelLine {self.id} sku={self.sku_id} {self.quantity_checked}/{self.quantity}>"
