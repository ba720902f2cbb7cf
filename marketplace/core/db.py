"""Declarative base, shared mixins and the Money value object.

Every table of the platform derives from :class:`Base`. Merchant-owned tables also mix in
:class:`TenantScoped`, which is what the tenancy filter and the row-level-security policies key on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, MetaData, TypeDecorator, func
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; BIGINT ids elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    # Models that must never be written to the audit log (the log itself, throttling counters, ...).
    __audit__ = True

    def __repr__(self) -> str:
        ident = getattr(self, "id", None)
        return f"<{type(self).__name__} id={ident}>"


class UTCDateTime(TypeDecorator):
    """Timezone-aware timestamps; SQLite hands back naive values, so they are tagged as UTC on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):  # type: ignore[override]
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


class TenantScoped:
    """A merchant-owned row. While a tenant context is active, queries only ever see that tenant's rows."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(BigId, ForeignKey("merchants.id"), nullable=False, index=True)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units (fen, cents) and its currency. Never a float."""

    amount: int
    currency: str = "CNY"

    SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€"}

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money amounts are integer minor units")

    @classmethod
    def parse(cls, text: str, currency: str = "CNY") -> Money:
        """Parse a decimal string such as ``"12.34"`` into minor units, refusing sub-cent precision."""
        value = Decimal(text.strip()) * 100
        if value != value.to_integral_value():
            raise ValueError(f"{text!r} has more than two decimal places")
        return cls(int(value), currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def format(self) -> str:
        sign = "-" if self.amount < 0 else ""
        major, minor = divmod(abs(self.amount), 100)
        symbol = self.SYMBOLS.get(self.currency, self.currency + " ")
        return f"{sign}{symbol}{major:,}.{minor:02d}"

    def __str__(self) -> str:
        return self.format()
