"""Read-side helpers of the catalogue for the portals."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import (
    Brand,
    Category,
    Product,
    ProductRevision,
    ProductStatus,
    RevisionStatus,
)
from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page


def category_tree(session: Session, *, active_only: bool = False) -> list[Category]:
    """All categories in tree order (parents before children, siblings by position)."""
    stmt = select(Category)
    if active_only:
        stmt = stmt.where(Category.is_active.is_(True))
    categories = list(session.scalars(stmt))
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)
    ordered: list[Category] = []

    def walk(parent_id: int | None) -> None:
        for child in sorted(by_parent.get(parent_id, []), key=lambda c: (c.position, c.id)):
            ordered.append(child)
            walk(child.id)

    walk(None)
    return ordered


def get_category(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound()
    return category


def spec_templates(session: Session, category: Category) -> list[dict]:
    """Attributes a product of ``category`` may use: its own and its ancestors'."""
    ids = category.ancestor_ids
    categories = {c.id: c for c in session.scalars(select(Category).where(Category.id.in_(ids)))}
    result = []
    for category_id in ids:
        for attribute in categories[category_id].attributes:
            result.append({"name": attribute.name, "values": attribute.values, "is_spec": attribute.is_spec})
    return result


def brands(session: Session) -> list[Brand]:
    return list(session.scalars(select(Brand).order_by(Brand.name)))


def shop_products(
    session: Session, *, status: str = "", search: str = "", listed: str = "", before: int | None = None
) -> Page[Product]:
    """The active tenant's products (the tenant filter scopes the query)."""
    stmt = select(Product)
    if status:
        stmt = stmt.where(Product.status == status)
    if listed in {"yes", "no"}:
        stmt = stmt.where(Product.is_listed.is_(listed == "yes"))
    if search:
        stmt = stmt.where(Product.title.like(f"%{search.strip()}%"))
    return keyset_page(session, stmt, Product.id, before)


def get_product(session: Session, product_id: int) -> Product:
    """A product of the active tenant (or any product for platform staff); otherwise 404."""
    product = session.scalar(select(Product).where(Product.id == product_id))
    if product is None:
        raise NotFound()
    return product


def approval_queue(session: Session, *, kind: str = "new", before: int | None = None) -> Page:
    """Submitted products (``new``) or pending edits of listed products (``edits``), oldest ids last."""
    if kind == "edits":
        stmt = select(ProductRevision).where(ProductRevision.status == RevisionStatus.PENDING)
        return keyset_page(session, stmt, ProductRevision.id, before)
    stmt = select(Product).where(Product.status == ProductStatus.PENDING)
    return keyset_page(session, stmt, Product.id, before)


def get_revision(session: Session, revision_id: int) -> ProductRevision:
    revision = session.get(ProductRevision, revision_id)
    if revision is None:
        raise NotFound()
    return revision


def all_products(
    session: Session, *, search: str = "", status: str = "", before: int | None = None
) -> Page[Product]:
    """Every shop's products, for platform staff."""
    stmt = select(Product)
    if status:
        stmt = stmt.where(Product.status == status)
    if search:
        like = f"%{search.strip()}%"
        stmt = stmt.where(or_(Product.title.like(like)))
    return keyset_page(session, stmt, Product.id, before)


def tag_names(session: Session, product_id: int) -> list[str]:
    from marketplace.catalog.models import ProductTag, Tag

    stmt = (
        select(Tag.name)
        .join(ProductTag, ProductTag.tag_id == Tag.id)
        .where(ProductTag.product_id == product_id)
    )
    return list(session.scalars(stmt.order_by(Tag.name)))


def pending_revision_for(session: Session, product_id: int) -> ProductRevision | None:
    stmt = select(ProductRevision).where(
        ProductRevision.product_id == product_id, ProductRevision.status == RevisionStatus.PENDING
    )
    return session.scalar(stmt)


def latest_rejected_revision(session: Session, product_id: int) -> ProductRevision | None:
    stmt = (
        select(ProductRevision)
        .where(ProductRevision.product_id == product_id, ProductRevision.status == RevisionStatus.REJECTED)
        .order_by(ProductRevision.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def names_for(session: Session, *, category_ids: set[int], brand_ids: set[int]) -> dict[str, dict[int, str]]:
    """Display names of categories and brands referenced by snapshots (for the approval diff)."""
    categories = dict(
        session.execute(select(Category.id, Category.name).where(Category.id.in_(category_ids))).all()
    )
    brand_names = dict(session.execute(select(Brand.id, Brand.name).where(Brand.id.in_(brand_ids))).all())
    return {"category": categories, "brand": brand_names}
