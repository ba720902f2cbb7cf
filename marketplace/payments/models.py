"""The double-entry ledger: accounts, journal entries and their lines.

Every movement of money is one journal entry whose lines sum to zero. An account's ``balance`` is the sum of its
lines, kept up to date in the same statement that posts them, so a spend can be refused atomically (a customer's
balance or a gift card can never go below zero, whatever the concurrency).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.db import Base, BigId, UTCDateTime, utcnow


class AccountKind(enum.StrEnum):
    CUSTOMER_BALANCE = "customer_balance"  # a shopper's stored value
    GIFT_CARD = "gift_card"  # the value left on one gift card
    PAYMENT_HOLDS = "payment_holds"  # tenders held for payments not yet captured
    GATEWAY_CLEARING = "gateway_clearing"  # money on its way in from (or back to) the payment gateway
    MERCHANT_PAYABLE = "merchant_payable"  # what the platform owes one shop
    PLATFORM_REVENUE = "platform_revenue"  # commission and fees the platform earned
    POINTS_FUNDING = "points_funding"  # the platform's cost of points redeemed as money


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
