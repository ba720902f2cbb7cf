"""The merchant (tenant), its API keys, its onboarding application and its shipping templates."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    # The shop profile shoppers see: logo (an image key of core.storage), description, customer service.
    logo_key: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    service_phone: Mapped[str] = mapped_column(String(32), default="", server_default="")
    service_email: Mapped[str] = mapped_column(String(255), default="", server_default="")
    service_hours: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # Where shoppers send returns.
    return_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    return_phone: Mapped[str] = mapped_column(String(32), default="", server_default="")
    return_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # Order push: orders ready to ship are POSTed here, signed with HMAC-SHA256 under ``webhook_secret``.
    webhook_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    webhook_secret: Mapped[str] = mapped_column(String(64), default="", server_default="")

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


# --- onboarding -------------------------------------------------------------------------------


class ApplicationStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # waiting for a reviewer
    NEEDS_INFO = (
        "needs_info"  # the reviewer asked the applicant for more; the applicant may edit and resubmit
    )
    APPROVED = "approved"  # the shop and its owner account exist (``merchant_id``)
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self in (ApplicationStatus.SUBMITTED, ApplicationStatus.NEEDS_INFO)


OPEN_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.NEEDS_INFO)


class MerchantApplication(TimestampMixin, Base):
    """A company's request to open a shop, made on the storefront and decided in the admin portal.

    Not tenant-scoped: until it is approved there is no tenant. ``reference`` is an unguessable token that
    opens the applicant's status page; it is never written to the audit log.
    """

    __tablename__ = "merchant_applications"
    __audit_ignore__ = ("reference",)
    __table_args__ = (Index("ix_merchant_applications_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[ApplicationStatus] = mapped_column(
        Enum(ApplicationStatus, native_enum=False, length=16), default=ApplicationStatus.SUBMITTED
    )
    company_name: Mapped[str] = mapped_column(String(200))
    licence_number: Mapped[str] = mapped_column(String(32))
    licence_document_key: Mapped[str] = mapped_column(String(64))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(255))
    shop_name: Mapped[str] = mapped_column(String(100), index=True)
    category_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    category_note: Mapped[str] = mapped_column(String(500), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))  # of the last decision
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merchant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id"))

    @property
    def audit_tenant_id(self) -> int | None:
        return self.merchant_id

    def __repr__(self) -> str:
        return f"<MerchantApplication id={self.id} {self.status.value} {self.shop_name}>"


# --- shipping ---------------------------------------------------------------------------------


class ShippingTemplate(TenantScoped, TimestampMixin, Base):
    """How a shop charges for delivery: a first-weight fee, a fee per additional weight step, an optional
    free-shipping threshold on the goods amount, and per-region overrides (:class:`ShippingRule`).

    Every amount is integer fen; weights are grams.
    """

    __tablename__ = "shipping_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_shipping_templates_tenant_id_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    free_shipping_threshold: Mapped[int | None] = mapped_column(BigInteger)  # None: never free
    first_weight_g: Mapped[int] = mapped_column(Integer)
    first_fee: Mapped[int] = mapped_column(BigInteger)
    additional_weight_g: Mapped[int] = mapped_column(Integer)
    additional_fee: Mapped[int] = mapped_column(BigInteger)

    rules: Mapped[list[ShippingRule]] = relationship(
        back_populates="template",
        order_by="ShippingRule.id",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    def __repr__(self) -> str:
        return f"<ShippingTemplate id={self.id} {self.name}>"


class ShippingRule(TenantScoped, Base):
    """A region's own fees within a template: ``provinces`` lists GB/T 2260 province codes."""

    __tablename__ = "shipping_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    template_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("shipping_templates.id", ondelete="CASCADE"), index=True
    )
    region_name: Mapped[str] = mapped_column(String(100))
    provinces: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_weight_g: Mapped[int] = mapped_column(Integer)
    first_fee: Mapped[int] = mapped_column(BigInteger)
    additional_weight_g: Mapped[int] = mapped_column(Integer)
    additional_fee: Mapped[int] = mapped_column(BigInteger)

    template: Mapped[ShippingTemplate] = relationship(back_populates="rules")

    def __repr__(self) -> str:
        return f"<ShippingRule id={self.id} {self.region_name}>"
