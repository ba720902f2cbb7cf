"""The search domain's tables: the storefront's listing index and the search log.

``listed_products`` holds exactly the products shoppers may see - listed, approved, of an active shop - one row
each, with what listing pages sort, filter and show. Database triggers on ``products``, ``product_facets`` and
``merchants.status`` keep it in the same transaction as the change (migration 0005_search), so no service has to
remember it. It exists because of row-level security: ``products`` is a tenant table with a forced policy, and
under a policy PostgreSQL (1) estimates every scan at a fraction of a percent of its real rows, which picks
nested loops over thousands of rows, and (2) may use an index only for *leakproof* operators, so the full-text
``@@`` and trigram operators could never use their GIN indexes there (docs/search.md has the plans and the
figures). This table carries nothing secret - only what the storefront shows to anyone - so it is a platform
table without a tenant policy.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from marketplace.catalog.models import ProductImage
from marketplace.core.db import Base, BigId, UTCDateTime, utcnow

FACET_SEPARATOR = "\x1f"  # between a facet's name and value in ``listed_products.facets``


class ListedProduct(Base):
    """A product shoppers may see, as listing pages and search see it (kept by triggers; never written by code)."""

    __tablename__ = "listed_products"
    __audit__ = False
    __table_args__ = (
        Index("ix_listed_products_category_id_sales_count", "category_id", "sales_count"),
        Index("ix_listed_products_shop_id_shop_position", "shop_id", "shop_position"),
        Index("ix_listed_products_sales_count", "sales_count"),
        Index("ix_listed_products_listed_at", "listed_at"),
        # Full text (PostgreSQL; on SQLite an ordinary index that LIKE does not use, there for schema parity).
        Index("ix_listed_products_search", "search_vector", postgresql_using="gin"),
    )

    # The product's id, under the name product cards use.
    id: Mapped[int] = mapped_column(
        "product_id", BigId, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    shop_id: Mapped[int] = mapped_column(BigId)  # the merchant (tenant) that sells it
    category_id: Mapped[int] = mapped_column(BigId)
    brand_id: Mapped[int | None] = mapped_column(BigId)
    title: Mapped[str] = mapped_column(String(200))
    min_price: Mapped[int] = mapped_column(BigInteger)
    max_price: Mapped[int] = mapped_column(BigInteger)
    sales_count: Mapped[int] = mapped_column(Integer)
    rating_count: Mapped[int] = mapped_column(Integer)
    rating_sum: Mapped[int] = mapped_column(Integer)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shop_position: Mapped[int] = mapped_column(Integer)
    # products.search_tokens (marketplace/catalog/tokens.py) as a tsvector of the 'simple' configuration (every
    # token as it is, no stemming) on PostgreSQL, stored so that no query re-parses it row by row; the same
    # space-separated text on SQLite.
    search_vector: Mapped[str] = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"))
    # "name<US>value" of each row of product_facets: an array on PostgreSQL, a JSON list on SQLite.
    facets: Mapped[list[str]] = mapped_column(ARRAY(Text()).with_variant(JSON(), "sqlite"))

    images: Mapped[list[ProductImage]] = relationship(
        ProductImage,
        primaryjoin=lambda: ListedProduct.id == foreign(ProductImage.product_id),
        order_by=ProductImage.position,
        viewonly=True,
        lazy="raise",
    )

    @property
    def cover(self) -> ProductImage | None:
        return self.images[0] if self.images else None

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None

    def __repr__(self) -> str:
        return f"<ListedProduct id={self.id} {self.title[:20]!r}>"


# PostgreSQL only (an expression index; Alembic does not compare those on SQLite): trigrams of the lower-cased
# title for "did you mean" and the type-ahead (pg_trgm).
Index(
    "ix_listed_products_title_trgm",
    func.lower(ListedProduct.title).label("title_lower"),
    postgresql_using="gin",
    postgresql_ops={"title_lower": "gin_trgm_ops"},
)


class SearchLog(Base):
    """One storefront search, for the search-term report: what was asked and how many results it found.

    ``result_count`` is the count the shopper saw, capped like every storefront count
    (``search.queries.COUNT_CAP``); what the report needs is the searches that found nothing or little.
    """

    __tablename__ = "search_logs"
    __audit__ = False  # shoppers' activity, not a staff mutation

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    # The normalised tokens of the query (space-separated, as marketplace.catalog.tokens.query_tokens made them).
    tokens: Mapped[str] = mapped_column(String(500), default="")
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<SearchLog id={self.id} {self.query!r} {self.result_count}>"
