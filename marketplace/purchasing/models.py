"""Suppliers, purchase orders (and returns to suppliers), receipts against them.

Purchasing is platform-level: the platform buys for its self-operated goods or on behalf of shops whose goods
its warehouse fulfils. A purchase order is not tenant-scoped; each of its lines names a shop's SKU and keeps
that shop's id as a plain column. A return order (``kind = return``) is the same document in the other
direction: its "receipts" take stock out of the warehouse back to the supplier.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.db import Base, BigId, TimestampMixin, UTCDateTime, utcnow


class Supplier(TimestampMixin, Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    contact_person: Mapped[str] = mapped_column(String(80), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    terms: Mapped[str] = mapped_column(Text, default="")
    payment_days: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    documents: Mapped[list[SupplierDocument]] = relationship(
        back_populates="supplier", order_by="SupplierDocument.id"
    )

    def __repr__(self) -> str:
        return f"<Supplier {self.name}>"


class DocumentKind(enum.StrEnum):
    CONTRACT = "contract"
    INVOICE = "invoice"


class SupplierDocument(Base):
    __tablename__ = "supplier_documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("suppliers.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(Enum(DocumentKind, native_enum=False, length=16))
    storage_key: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    supplier: Mapped[Supplier] = relationship(back_populates="documents")


class PoKind(enum.StrEnum):
    PURCHASE = "purchase"
    RETURN = "return"


class PoStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class PurchaseOrder(TimestampMixin, Base):
    __tablename__ = "purchase_orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("suppliers.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"), index=True)
    kind: Mapped[PoKind] = mapped_column(Enum(PoKind, native_enum=False, length=16), default=PoKind.PURCHASE)
    status: Mapped[PoStatus] = mapped_column(
        Enum(PoStatus, native_enum=False, length=24), default=PoStatus.DRAFT, index=True
    )
    expected_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(BigInteger)
    approved_by_id: Mapped[int | None] = mapped_column(BigInteger)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    supplier: Mapped[Supplier] = relationship()
    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="po", order_by="PurchaseOrderLine.id"
    )
    receipts: Mapped[list[Receipt]] = relationship(back_populates="po", order_by="Receipt.id")

    @property
    def is_return(self) -> bool:
        return self.kind == PoKind.RETURN

    @property
    def total_cost(self) -> int:
        return sum(line.quantity_ordered * line.unit_cost for line in self.lines)

    def __repr__(self) -> str:
        return f"<PurchaseOrder {self.number} {self.status}>"


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        CheckConstraint("quantity_ordered > 0", name="quantity_ordered_positive"),
        CheckConstraint("quantity_received >= 0", name="quantity_received_not_negative"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    po_id: Mapped[int] = mapped_column(BigId, ForeignKey("purchase_orders.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"), index=True)
    # The SKU's shop, kept as a plain column: the order itself belongs to the platform, not to a tenant.
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    quantity_ordered: Mapped[int] = mapped_column(Integer)
    quantity_received: Mapped[int] = mapped_column(Integer, default=0)
    unit_cost: Mapped[int] = mapped_column(BigInteger, default=0)

    po: Mapped[PurchaseOrder] = relationship(back_populates="lines")

    @property
    def open_quantity(self) -> int:
        return max(self.quantity_ordered - self.quantity_received, 0)


class Receipt(Base):
    """One delivery against a purchase order (for a return order: one shipment back to the supplier)."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    po_id: Mapped[int] = mapped_column(BigId, ForeignKey("purchase_orders.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouses.id"))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    received_by_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())

    po: Mapped[PurchaseOrder] = relationship(back_populates="receipts")
    lines: Mapped[list[ReceiptLine]] = relationship(back_populates="receipt", order_by="ReceiptLine.id")

    @property
    def total_cost(self) -> int:
        return sum(line.good_quantity * line.unit_cost for line in self.lines)


class ReceiptLine(Base):
    __tablename__ = "receipt_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "damaged_quantity >= 0 AND damaged_quantity <= quantity", name="damaged_within_quantity"
        ),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(BigId, ForeignKey("receipts.id"), index=True)
    # NULL: an item the order did not list (accepted only with a supervisor's confirmation).
    po_line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("purchase_order_lines.id"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    damaged_quantity: Mapped[int] = mapped_column(Integer, default=0)
    # The cost of one unit on this receipt, in fen, for finance (the order line's cost, or the one given).
    unit_cost: Mapped[int] = mapped_column(BigInteger, default=0)
    confirmed_by_id: Mapped[int | None] = mapped_column(BigInteger)

    receipt: Mapped[Receipt] = relationship(back_populates="lines")

    @property
    def good_quantity(self) -> int:
        return self.quantity - self.damaged_quantity
