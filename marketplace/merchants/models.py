"""The merchant (tenant) and its API keys."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.db import Base, BigId, TenantScoped, TimestampMixin, UTCDateTime


class MerchantStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Merchant(TimestampMixin, Base):
    """A settled merchant and its shop. Its id is the ``tenant_id`` of every row it owns."""

    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[MerchantStatus] = mapped_column(
        Enum(MerchantStatus, native_enum=False, length=16), default=MerchantStatus.ACTIVE
    )
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_email: Mapped[str] = mapped_column(String(255), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")

    @property
    def audit_tenant_id(self) -> int:
        return self.id

    @property
    def is_active(self) -> bool:
        return self.status is MerchantStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Merchant id={self.id} {self.slug}>"


class ApiKey(TenantScoped, TimestampMixin, Base):
    """A key for a merchant's own systems. Only a SHA-256 of the secret is stored; it is shown once.

    The secret is 256 random bits, so a fast hash is enough (unlike passwords, it cannot be guessed);
    the ``prefix`` finds the row without scanning.
    """

    __tablename__ = "api_keys"
    __audit_ignore__ = ("last_used_at",)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    is_authenticated = True

    def can(self, permission: str) -> bool:
        return self.is_active and permission in self.permissions

    def __repr__(self) -> str:
        return f"<ApiKey id={self.id} {self.prefix}…>"
