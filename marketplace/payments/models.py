"""The double-entry ledger: accounts, journal entries and their lines.

Every movement of money is one journal entry whose lines sum to zero. An account's ``balance`` is the sum of its
lines, kept up to date in the same statement that posts them, so a spend can be refused atomically (a customer's
balance or a gift card can never go below zero, whatever the concurrency).
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.db import Base, BigId, TimestampMixin, UTCDateTime, utcnow


class AccountKind(enum.StrEnum):
    CUSTOMER_BALANCE = "customer_balance"  # a shopper's stored value
    GIFT_CARD = "gift_card"  # the value left on one gift card
    PAYMENT_HOLDS = "payment_holds"  # tenders held for payments not yet captured
    GATEWAY_CLEARING = "gateway_clearing"  # money on its way in from (or back to) the payment gateway
    SALES_CLEARING = "sales_clearing"  # money paid by shoppers, not yet allocated to the shops' orders
    MERCHANT_PAYABLE = "merchant_payable"  # what the platform owes one shop
    PLATFORM_REVENUE = "platform_revenue"  # commission and fees the platform earned
    POINTS_FUNDING = "points_funding"  # the platform's cost of points redeemed as money
    PLATFORM_FUNDING = "platform_funding"  # the platform's own money put into shoppers' balances (top-ups)
    # Points are counted in points (currency "PTS"), never mixed with money: they balance among themselves.
    CUSTOMER_POINTS = "customer_points"  # a shopper's points
    POINTS_HOLDS = "points_holds"  # points held for payments not yet captured
    POINTS_ISSUED = "points_issued"  # the counterpart of every point granted or redeemed (may run negative)
    GIFT_CARD_ISSUED = (
        "gift_card_issued"  # the counterpart of value loaded onto gift cards (may run negative)
    )


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (CheckConstraint("allow_negative OR balance >= 0", name="balance_not_negative"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[AccountKind] = mapped_column(Enum(AccountKind, native_enum=False, length=32))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # Clearing and funding accounts mirror money outside the platform and may run negative; holders' may not.
    allow_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<LedgerAccount {self.code} {self.balance}>"


class JournalEntry(Base):
    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # topup, hold, capture, release, refund, ...
    memo: Mapped[str] = mapped_column(String(255), default="")
    payment_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lines: Mapped[list[JournalLine]] = relationship(back_populates="entry", order_by="JournalLine.id")

    def __repr__(self) -> str:
        return f"<JournalEntry id={self.id} {self.kind}>"


class JournalLine(Base):
    __tablename__ = "journal_lines"
    __table_args__ = (
        Index("ix_journal_lines_account_id_id", "account_id", "id"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("journal_entries.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)  # signed minor units: + into the account, - out of it

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # internal tenders held, the gateway part (if any) not yet paid
    PAID = "paid"  # every tender captured
    FAILED = "failed"  # the gateway refused or the shopper cancelled; holds released
    EXPIRED = "expired"  # not paid in time; holds released
    CANCELLED = "cancelled"  # the shopper cancelled the unpaid orders; holds released
    REFUNDED = "refunded"  # everything paid has been returned (partial refunds keep PAID)


class Payment(TimestampMixin, Base):
    """One payment for one checkout (the parent of its orders), split into tenders.

    Not tenant-scoped: one payment pays the orders of several shops.
    """

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    checkout_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    shopper_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[PaymentStatus] = mapped_column(
        Enum(PaymentStatus, native_enum=False, length=16), default=PaymentStatus.PENDING, index=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tenders: Mapped[list[PaymentTender]] = relationship(
        back_populates="payment", order_by="PaymentTender.sequence"
    )

    def __repr__(self) -> str:
        return f"<Payment {self.number} {self.status}>"


class TenderKind(enum.StrEnum):
    GIFT_CARD = "gift_card"
    POINTS = "points"
    BALANCE = "balance"
    GATEWAY = "gateway"


class TenderStatus(enum.StrEnum):
    HELD = "held"  # internal value moved to the holds account
    AWAITING = "awaiting"  # gateway part: waiting for the provider's callback
    CAPTURED = "captured"
    RELEASED = "released"  # held value given back before capture
    FAILED = "failed"  # gateway part refused or cancelled


class PaymentTender(Base):
    """One way of paying part of a payment, applied in ``sequence`` order and refunded in reverse."""

    __tablename__ = "payment_tenders"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund_within_amount"),
        UniqueConstraint("provider", "provider_txn_id", name="uq_payment_tenders_provider_provider_txn_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(BigId, ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[TenderKind] = mapped_column(Enum(TenderKind, native_enum=False, length=16))
    amount: Mapped[int] = mapped_column(BigInteger)  # money, minor units
    points: Mapped[int] = mapped_column(BigInteger, default=0)  # points spent, for a points tender
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[TenderStatus] = mapped_column(Enum(TenderStatus, native_enum=False, length=16))
    account_code: Mapped[str | None] = mapped_column(String(100))  # the ledger account the value came from
    gift_card_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("gift_cards.id"))
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_txn_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="tenders")


class GiftCard(TimestampMixin, Base):
    """A stored-value card redeemed with its code and PIN. Its balance lives in a ledger account."""

    __tablename__ = "gift_cards"
    __audit_ignore__ = ("failed_pin_attempts",)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    initial_value: Mapped[int] = mapped_column(BigInteger)
    account_code: Mapped[str] = mapped_column(String(100), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_pin_attempts: Mapped[int] = mapped_column(Integer, default=0)
    issued_by_id: Mapped[int | None] = mapped_column(BigInteger)
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)

    def __repr__(self) -> str:
        return f"<GiftCard {self.code}>"


class GatewayCallback(Base):
    """Every callback the gateway sent, accepted or refused, with why: the trail for disputes and attacks."""

    __tablename__ = "gateway_callbacks"
    __audit__ = False

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_txn_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    payment_number: Mapped[str] = mapped_column(String(32), default="", index=True)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(32))  # accepted, duplicate, bad_signature, stale, ...
    detail: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Refund(Base):
    """Money given back for (part of) a payment, e.g. a cancelled order of a multi-shop checkout."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(BigId, ForeignKey("payments.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(255), default="")
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
