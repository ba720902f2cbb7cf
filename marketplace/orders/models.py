"""Orders, their lines, their history and their shipments, and the rules that send an order to review.

An order belongs to one shop (tenant). Address, titles and prices are copied onto the order when it is placed:
what the shopper bought must not change when the product or the address book does later.
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
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.db import Base, BigId, TenantScoped, TimestampMixin, UTCDateTime, utcnow


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    UNDER_REVIEW = "under_review"
    AWAITING_SHIPMENT = "awaiting_shipment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    RECEIVED = "received"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # before payment, or refunded before shipment
    CLOSED = "closed"  # ended after money moved (e.g. fully refunded after shipment)


class OrderChannel(enum.StrEnum):
    STOREFRONT = "storefront"
    PHONE = "phone"  # entered by platform customer service for a shopper
    GROUP_BUY = "group_buy"  # imported from a group-buy CSV
    GIFT = "gift"  # zero-amount gift order


class InvoiceType(enum.StrEnum):
    NONE = "none"
    PERSONAL = "personal"
    COMPANY = "company"


class Order(TenantScoped, TimestampMixin, Base):
    __tablename__ = "orders"
    __audit_ignore__ = ("admin_seen_at", "updated_at")
    __table_args__ = (
        Index("ix_orders_tenant_id_id", "tenant_id", "id"),
        Index("ix_orders_created_at_id", "created_at", "id"),
        Index("ix_orders_status_created_at", "status", "created_at"),
        Index("ix_orders_phone", "phone"),
        Index("ix_orders_recipient", "recipient"),  # the admin OMS's customer search
        Index("ix_orders_status_pay_deadline", "status", "pay_deadline"),
        # The admin OMS's "new" and "invalid" tabs, newest first: small partial indexes, so the tabs stay one
        # short index walk however many orders were seen long ago.
        Index(
            "ix_orders_unseen_created_at_id",
            "created_at",
            "id",
            postgresql_where=text("admin_seen_at IS NULL AND deleted_at IS NULL"),
            sqlite_where=text("admin_seen_at IS NULL AND deleted_at IS NULL"),
        ),
        Index(
            "ix_orders_invalid_created_at_id",
            "created_at",
            "id",
            postgresql_where=text("invalid_at IS NOT NULL"),
            sqlite_where=text("invalid_at IS NOT NULL"),
        ),
        CheckConstraint("total_amount >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    checkout_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("checkouts.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payments.id"), index=True)
    shopper_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    channel: Mapped[OrderChannel] = mapped_column(
        Enum(OrderChannel, native_enum=False, length=16), default=OrderChannel.STOREFRONT
    )
    status: Mapped[OrderStatus] = mapped_column(
        Enum(OrderStatus, native_enum=False, length=24), default=OrderStatus.PENDING_PAYMENT
    )
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    goods_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # The delivery address and contact, copied at placement.
    recipient: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    province: Mapped[str] = mapped_column(String(8), default="")
    city: Mapped[str] = mapped_column(String(50), default="")
    district: Mapped[str] = mapped_column(String(50), default="")
    address_detail: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    shipping_method: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    invoice_type: Mapped[InvoiceType] = mapped_column(
        Enum(InvoiceType, native_enum=False, length=16), default=InvoiceType.NONE
    )
    invoice_title: Mapped[str] = mapped_column(String(200), default="")
    invoice_tax_no: Mapped[str] = mapped_column(String(32), default="")
    # Product titles of the lines, for the admin's keyword search without a join.
    search_text: Mapped[str] = mapped_column(Text, default="")
    review_reason: Mapped[str] = mapped_column(String(255), default="")
    pay_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The admin OMS: highlighted until a staff member opens it.
    admin_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Marked invalid by staff (spam, test, fraud), then removed in bulk: a soft delete a super admin can undo.
    invalid_reason: Mapped[str] = mapped_column(String(255), default="")
    invalid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # The merchant's in-portal flag: new until someone of the shop opens it.
    merchant_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id")
    events: Mapped[list[OrderEvent]] = relationship(order_by="OrderEvent.id", viewonly=True)
    shipments: Mapped[list[Shipment]] = relationship(order_by="Shipment.id", viewonly=True)

    @property
    def is_invalid(self) -> bool:
        return self.invalid_at is not None

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.status}>"


class OrderLine(TenantScoped, Base):
    __tablename__ = "order_lines"
    __audit__ = False  # written once with the order; shipped quantities are audited through shipments
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "shipped_quantity >= 0 AND shipped_quantity <= quantity", name="shipped_within_quantity"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(BigInteger)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouses.id"))
    title: Mapped[str] = mapped_column(String(200))
    sku_code: Mapped[str] = mapped_column(String(64), default="")
    spec: Mapped[str] = mapped_column(String(200), default="")  # "Colour: red / Size: M"
    image_key: Mapped[str | None] = mapped_column(String(64))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    shipped_quantity: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(BigInteger)
    weight_grams: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.shipped_quantity


class OrderEvent(TenantScoped, Base):
    """One step of an order's history: a transition (``to_status`` set) or a note (address change, review)."""

    __tablename__ = "order_events"
    __audit__ = False  # this is the order's own audit trail

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(32))  # placed, paid, shipped, cancelled, address_changed, ...
    reason: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_label: Mapped[str] = mapped_column(String(100), default="")  # "system", a name, "shopper"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Shipment(TenantScoped, Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(50))
    waybill_no: Mapped[str] = mapped_column(String(64), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouses.id"))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lines: Mapped[list[ShipmentLine]] = relationship(order_by="ShipmentLine.id")


class ShipmentLine(TenantScoped, Base):
    __tablename__ = "shipment_lines"
    __audit__ = False
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id"))
    quantity: Mapped[int] = mapped_column(Integer)


class ReviewRuleKind(enum.StrEnum):
    AMOUNT_OVER = "amount_over"  # order total above ``threshold`` (minor units)
    ORDERS_PER_PHONE = (
        "orders_per_phone"  # more than ``threshold`` orders to one phone within ``window_hours``
    )
    NEW_ACCOUNT_VALUE = "new_account_value"  # account younger than ``window_hours`` and total above threshold


class OrderReviewRule(TimestampMixin, Base):
    """An automatic rule that sends a paid order to manual review instead of to the warehouse."""

    __tablename__ = "order_review_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[ReviewRuleKind] = mapped_column(Enum(ReviewRuleKind, native_enum=False, length=24))
    threshold: Mapped[int] = mapped_column(BigInteger)
    window_hours: Mapped[int] = mapped_column(Integer, default=24)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
