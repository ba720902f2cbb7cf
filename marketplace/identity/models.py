"""Users, roles, login attempts and the admin portal's IP allowlist."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.db import Base, BigId, TimestampMixin, UTCDateTime, utcnow


class UserKind(enum.StrEnum):
    """Which portal a user belongs to; each portal only admits its own kind."""

    STAFF = "staff"  # platform staff: admin portal
    MERCHANT = "merchant"  # merchant owners and sub-accounts: merchant portal and API
    WAREHOUSE = "warehouse"  # warehouse staff: WMS portal
    SHOPPER = "shopper"  # members of the storefront


user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", BigId, ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Role(TimestampMixin, Base):
    """A named set of permissions for one kind of user. System roles are seeded and cannot be deleted."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("kind", "code", name="uq_roles_kind_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[UserKind] = mapped_column(Enum(UserKind, native_enum=False, length=16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_system: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def label(self) -> str:
        """The name to show: system role names are translated, custom ones are shown as typed."""
        if not self.is_system:
            return self.name
        from flask_babel import gettext

        return gettext(self.name)

    def __repr__(self) -> str:
        return f"<Role {self.kind}:{self.code}>"


class User(TimestampMixin, Base):
    """One login. ``session_version`` is part of the session id: bumping it signs out every session."""

    __tablename__ = "users"
    # Login bookkeeping is logged as login attempts, not as edits of the user.
    __audit_ignore__ = ("failed_logins", "locked_until", "last_login_at", "last_login_ip", "preferred_locale")
    __table_args__ = (
        UniqueConstraint("kind", "email", name="uq_users_kind_email"),
        Index("ix_users_tenant_id_id", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[UserKind] = mapped_column(Enum(UserKind, native_enum=False, length=16))
    email: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Merchant staff belong to one shop (tenant); the owner manages that shop's sub-accounts.
    tenant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("merchants.id"))
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_ip: Mapped[str | None] = mapped_column(String(64))
    preferred_locale: Mapped[str | None] = mapped_column(String(16))

    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin", order_by=Role.id)

    # --- Flask-Login ---
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    # --- permissions ---
    @property
    def permissions(self) -> frozenset[str]:
        cached = self.__dict__.get("_permission_cache")
        if cached is None:
            cached = frozenset(p for role in self.roles for p in role.permissions)
            self.__dict__["_permission_cache"] = cached
        return cached

    def can(self, permission: str) -> bool:
        return self.is_active and permission in self.permissions

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def audit_tenant_id(self) -> int | None:
        return self.tenant_id

    def __repr__(self) -> str:
        return f"<User id={self.id} {self.kind}:{self.email}>"


class LoginAttempt(Base):
    """Every login try, kept for throttling by address and for the security report."""

    __tablename__ = "login_attempts"
    __audit__ = False
    __table_args__ = (Index("ix_login_attempts_ip_created_at", "ip", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AdminIpRule(TimestampMixin, Base):
    """One CIDR range allowed into the admin portal. No rules at all means every address is allowed."""

    __tablename__ = "admin_ip_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cidr: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<AdminIpRule {self.cidr}>"
