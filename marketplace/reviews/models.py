"""Product reviews. A review belongs to the shop of its product (TenantScoped), so the shop sees only its own.

Only approved reviews are public and count in the product's rating (``Product.rating_count`` / ``rating_sum``);
the moderation services keep those two columns exact in the same transaction as the status change.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
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

from marketplace.catalog.models import Product
from marketplace.core.db import Base, BigId, TenantScoped, TimestampMixin, UTCDateTime
from marketplace.identity.models import User


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"  # written, waiting for moderation; not public
    APPROVED = "approved"  # public, counts in the rating
    HIDDEN = "hidden"  # taken down by the platform, with a reason


class Review(TenantScoped, TimestampMixin, Base):
    __tablename__ = "reviews"
    __table_args__ = (
        # One review per product and order (a NULL order id, before the order issue wires it, never clashes).
        UniqueConstraint("order_id", "product_id", name="uq_reviews_order_id_product_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_between_1_and_5"),
        Index("ix_reviews_status_id", "status", "id"),  # the moderation queue
        Index("ix_reviews_product_id_status_id", "product_id", "status", "id"),  # a product's public reviews
        Index("ix_reviews_tenant_id_status_id", "tenant_id", "status", "id"),  # the shop's reply page
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    # The completed order the review is about; the orders domain adds the foreign key when it exists.
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    image_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[ReviewStatus] = mapped_column(
        Enum(ReviewStatus, native_enum=False, length=16), default=ReviewStatus.PENDING
    )
    hide_reason: Mapped[str | None] = mapped_column(String(500))
    moderated_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merchant_reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    product: Mapped[Product] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def author_label(self) -> str:
        """The reviewer as the public sees them: the first character of the name, then stars (张**)."""
        name = (self.user.name or self.user.email) if self.user is not None else ""
        return f"{name[:1]}**" if name else "**"

    def __repr__(self) -> str:
        return f"<Review id={self.id} product={self.product_id} {self.rating}★ {self.status}>"
