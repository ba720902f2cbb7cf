"""Cart lines and checkouts (the parent of the orders one submission creates)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import Base, BigId, TimestampMixin, UTCDateTime, utcnow


class CartLine(Base):
    """One SKU in a cart: a member's (``user_id``) or a guest's (``cart_token`` from a signed cookie).

    The price when added is kept so the cart can show "price changed" instead of silently charging more.
    """

    __tablename__ = "cart_lines"
    __audit__ = False  # a shopper's scratch pad, not a business record
    __table_args__ = (
        UniqueConstraint("user_id", "sku_id", name="uq_cart_lines_user_id_sku_id"),
        UniqueConstraint("cart_token", "sku_id", name="uq_cart_lines_cart_token_sku_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("user_id IS NOT NULL OR cart_token IS NOT NULL", name="has_owner"),
        Index("ix_cart_lines_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    cart_token: Mapped[str | None] = mapped_column(String(64))
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("skus.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    price_when_added: Mapped[int] = mapped_column(BigInteger)
    selected: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CheckoutStatus(enum.StrEnum):
    PLACED = "placed"


class Checkout(TimestampMixin, Base):
    """One submission of the checkout page. ``idempotency_key`` makes a double submit create the orders once."""

    __tablename__ = "checkouts"
    __table_args__ = (
        UniqueConstraint("shopper_id", "idempotency_key", name="uq_checkouts_shopper_id_idempotency_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    shopper_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[CheckoutStatus] = mapped_column(
        Enum(CheckoutStatus, native_enum=False, length=16), default=CheckoutStatus.PLACED
    )
    goods_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_id: Mapped[int | None] = mapped_column(BigInteger)
