"""Catalogue tables. Products and SKUs belong to a shop (TenantScoped); categories, brands, tags to the platform.

The columns of ``products`` and ``skus`` are always the version on sale (the last approved one). A merchant's
edit of a listed product's title, images, prices or category waits in ``product_revisions`` until platform staff
approve it; only then is it copied onto the live rows.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
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

from marketplace.core.db import Base, BigId, TenantScoped, TimestampMixin, UTCDateTime


class Category(TimestampMixin, Base):
    """A node of the platform's category tree (any depth). ``path`` lists the ids from the root: ``/1/4/9/``."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Commission the platform keeps on sales in this category, in basis points (500 = 5.00 %).
    commission_rate_bp: Mapped[int] = mapped_column(Integer, default=500)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    path: Mapped[str] = mapped_column(String(255), default="/", index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)

    attributes: Mapped[list[CategoryAttribute]] = relationship(
        back_populates="category", order_by="CategoryAttribute.position", cascade="all, delete-orphan"
    )

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def __repr__(self) -> str:
        return f"<Category id={self.id} {self.name}>"


class CategoryAttribute(Base):
    """A spec of a category (colour, size) with its allowed values; spec attributes make the SKUs."""

    __tablename__ = "category_attributes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(50))
    values: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_spec: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    category: Mapped[Category] = relationship(back_populates="attributes")

    def __repr__(self) -> str:
        return f"<CategoryAttribute {self.name}>"


class Brand(TimestampMixin, Base):
    __tablename__ = "brands"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str] = mapped_column(String(100), default="")

    def __repr__(self) -> str:
        return f"<Brand {self.name}>"


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)

    def __repr__(self) -> str:
        return f"<Tag {self.name}>"


class ProductStatus(enum.StrEnum):
    """Approval state of the product's live version."""

    DRAFT = "draft"  # being prepared, never submitted
    PENDING = "pending"  # submitted, waiting for platform review
    APPROVED = "approved"  # may be listed
    REJECTED = "rejected"  # sent back with a reason; edit and submit again


class Product(TenantScoped, TimestampMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        Index("ix_products_tenant_id_id", "tenant_id", "id"),
        Index("ix_products_listing", "is_listed", "category_id", "min_price"),
        Index("ix_products_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description_html: Mapped[str] = mapped_column(Text, default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    weight_g: Mapped[int] = mapped_column(Integer, default=0)
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("categories.id"), index=True)
    brand_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("brands.id"), index=True)
    status: Mapped[ProductStatus] = mapped_column(
        Enum(ProductStatus, native_enum=False, length=16), default=ProductStatus.DRAFT
    )
    is_listed: Mapped[bool] = mapped_column(Boolean, default=False)
    shop_position: Mapped[int] = mapped_column(Integer, default=0)
    # [{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["M", "L"]}]
    specs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Other attributes shown on the page and used as filters: {"材质": "棉"}
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    # Denormalised for listing pages: kept by the services when SKUs change or an order is paid.
    min_price: Mapped[int] = mapped_column(BigInteger, default=0)
    max_price: Mapped[int] = mapped_column(BigInteger, default=0)
    sales_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Words and CJK bigrams of title, brand, category and tags (see marketplace/search/tokens.py).
    search_tokens: Mapped[str] = mapped_column(Text, default="")

    skus: Mapped[list[Sku]] = relationship(back_populates="product", order_by="Sku.position", lazy="selectin")
    images: Mapped[list[ProductImage]] = relationship(order_by="ProductImage.position", lazy="selectin")
    category: Mapped[Category] = relationship(lazy="joined")
    brand: Mapped[Brand | None] = relationship(lazy="joined")

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    @property
    def cover(self) -> ProductImage | None:
        return self.images[0] if self.images else None

    def __repr__(self) -> str:
        return f"<Product id={self.id} {self.title[:20]!r} {self.status}>"


class ProductTag(TenantScoped, Base):
    __tablename__ = "product_tags"

    product_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(BigId, ForeignKey("tags.id"), primary_key=True)


class ProductImage(TenantScoped, Base):
    """An uploaded picture (original and thumbnails in the media store under ``key``)."""

    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)


class Sku(TenantScoped, TimestampMixin, Base):
    """One sellable combination of a product's specs (red × M), with its own code, price and stock."""

    __tablename__ = "skus"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code", name="uq_skus_tenant_id_code"),
        UniqueConstraint("product_id", "spec_key", name="uq_skus_product_id_spec_key"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    barcode: Mapped[str | None] = mapped_column(String(64), index=True)
    spec_values: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    spec_key: Mapped[str] = mapped_column(String(255), default="")
    price: Mapped[int] = mapped_column(BigInteger)
    market_price: Mapped[int | None] = mapped_column(BigInteger)
    weight_g: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="skus")

    @property
    def spec_label(self) -> str:
        return " / ".join(self.spec_values.values()) or "—"

    def __repr__(self) -> str:
        return f"<Sku id={self.id} {self.code}>"


class RevisionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # replaced by a newer edit before review


class ProductRevision(TenantScoped, TimestampMixin, Base):
    """A proposed change to a listed product, reviewed by platform staff; ``data`` is the proposed snapshot."""

    __tablename__ = "product_revisions"
    __table_args__ = (Index("ix_product_revisions_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[RevisionStatus] = mapped_column(
        Enum(RevisionStatus, native_enum=False, length=16), default=RevisionStatus.PENDING
    )
    submitted_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(500))

    product: Mapped[Product] = relationship()


class ProductFacet(TenantScoped, Base):
    """One (name, value) of a listed product's specs and attributes, for storefront filters."""

    __tablename__ = "product_facets"
    __table_args__ = (Index("ix_product_facets_name_value", "name", "value", "product_id"),)

    product_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)
