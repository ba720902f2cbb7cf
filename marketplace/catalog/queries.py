"""Read-side helpers of the catalogue for the portals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import (
    Brand,
    Category,
    Product,
    ProductRevision,
    ProductStatus,
    RevisionStatus,
    Sku,
)
from marketplace.core.errors import NotFound
from marketplace.core.pagination import Page, keyset_page
from marketplace.inventory.queries import available_by_sku
from marketplace.merchants.models import Merchant, MerchantStatus


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


# --- storefront: what shoppers see --------------------------------------------------------------
# A product appears on the storefront only while it is listed, approved, and its shop is active: a
# suspended shop's products disappear from every page at once. Listing pages and search read the search
# domain's listing index (marketplace/search); the category tree and the product page are read here.


def category_nav(session: Session) -> list[tuple[Category, list[Category]]]:
    """Active top-level categories with their active children, in tree order."""
    tree = category_tree(session, active_only=True)
    tops = [c for c in tree if c.parent_id is None]
    children: dict[int, list[Category]] = {}
    for category in tree:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(category)
    return [(top, children.get(top.id, [])) for top in tops]


@dataclass
class CategoryPlace:
    """A category as the storefront shows it: where it sits, what is under it."""

    category: Category
    ancestors: list[Category]
    children: list[Category]
    subtree_ids: list[int]


def storefront_category(session: Session, category_id: int) -> CategoryPlace:
    """An active category whose ancestors are active too; otherwise 404. Two queries."""
    category = session.get(Category, category_id) if 0 < category_id < 2**63 else None
    if category is None or not category.is_active:
        raise NotFound()
    rows = session.scalars(
        select(Category).where(
            Category.is_active.is_(True),
            or_(Category.id.in_(category.ancestor_ids), Category.path.like(f"{category.path}%")),
        )
    ).all()
    active = {c.id: c for c in rows}
    if any(i not in active for i in category.ancestor_ids):
        raise NotFound()
    # under an inactive subcategory nothing shows, even if its own children are active
    subtree = [
        c for c in rows if c.path.startswith(category.path) and all(i in active for i in c.ancestor_ids)
    ]
    return CategoryPlace(
        category=category,
        ancestors=[active[i] for i in category.ancestor_ids if i != category.id],
        children=sorted((c for c in subtree if c.parent_id == category.id), key=lambda c: (c.position, c.id)),
        subtree_ids=[c.id for c in subtree],
    )


def storefront_shop(session: Session, slug: str) -> Merchant:
    """An active shop by its slug; a pending or suspended shop is a 404 on the storefront."""
    merchant = session.scalar(
        select(Merchant).where(Merchant.slug == slug, Merchant.status == MerchantStatus.ACTIVE)
    )
    if merchant is None:
        raise NotFound()
    return merchant


@dataclass
class SpecOption:
    value: str
    selected: bool
    in_stock: bool  # some SKU with this value has stock
    fits: bool  # ... together with the other chosen values
    selection: dict[str, str]  # the choice after clicking it (clicking a chosen value unchooses it)


@dataclass
class SpecChoice:
    """The shopper's choice of spec values, and what it leads to: price, SKU, stock."""

    specs: list[tuple[str, list[SpecOption]]]
    selection: dict[str, str]
    sku: Sku | None  # once every spec is chosen (or when the product has a single SKU)
    available: int | None  # the chosen SKU's stock
    price_min: int  # over the SKUs that fit the choice so far
    price_max: int
    missing: list[str]  # spec names still to choose
    sold_out: bool  # no SKU has stock


@dataclass
class ProductPage:
    product: Product
    merchant: Merchant
    ancestors: list[Category]  # the category path, root first, the product's own category last
    choice: SpecChoice


def storefront_product(session: Session, product_id: int, wanted: Mapping[str, str]) -> ProductPage:
    """A product on sale with the shopper's spec choice (``wanted``: spec name → value); otherwise 404.

    Five queries: product with category and brand, its SKUs, its images, their stock, the category path.
    """
    if not 0 < product_id < 2**63:  # not a BIGINT: no such product
        raise NotFound()
    row = session.execute(
        select(Product, Merchant)
        .join(Merchant, Merchant.id == Product.tenant_id)
        .where(
            Product.id == product_id,
            Product.is_listed.is_(True),
            Product.status == ProductStatus.APPROVED,
            Merchant.status == MerchantStatus.ACTIVE,
        )
    ).first()
    if row is None:
        raise NotFound()
    product, merchant = row
    skus = [s for s in product.skus if s.is_active]
    stock = available_by_sku(session, [s.id for s in skus])
    path = product.category.ancestor_ids
    categories = {c.id: c for c in session.scalars(select(Category).where(Category.id.in_(path)))}
    return ProductPage(
        product=product,
        merchant=merchant,
        ancestors=[categories[i] for i in path if i in categories],
        choice=spec_choice(product, skus, stock, wanted),
    )


def spec_choice(
    product: Product, skus: list[Sku], stock: Mapping[int, int], wanted: Mapping[str, str]
) -> SpecChoice:
    """Which values can be chosen next: a value whose SKUs are all out of stock is disabled."""
    specs = [(spec["name"], list(spec["values"])) for spec in product.specs]
    selection = {name: wanted[name] for name, values in specs if wanted.get(name) in values}

    def fits(sku: Sku, chosen: Mapping[str, str]) -> bool:
        return all(sku.spec_values.get(name) == value for name, value in chosen.items())

    def in_stock(sku: Sku) -> bool:
        return stock.get(sku.id, 0) > 0

    options = []
    for name, values in specs:
        others = {n: v for n, v in selection.items() if n != name}
        row = []
        for value in values:
            with_value = [s for s in skus if s.spec_values.get(name) == value]
            fits_others = any(in_stock(s) and fits(s, others) for s in with_value)
            chosen = selection.get(name) == value
            if chosen:
                after = others
            elif fits_others:
                after = {**selection, name: value}
            else:  # it does not go with the other choices: start the choice again from this value
                after = {name: value}
            after = {n: after[n] for n, _ in specs if n in after}  # spec order, for stable URLs
            row.append(SpecOption(value, chosen, any(in_stock(s) for s in with_value), fits_others, after))
        options.append((name, row))
    matching = [s for s in skus if fits(s, selection)]
    sku = matching[0] if matching and len(selection) == len(specs) else None
    prices = [s.price for s in matching] or [product.min_price]
    return SpecChoice(
        specs=options,
        selection=selection,
        sku=sku,
        available=stock.get(sku.id, 0) if sku else None,
        price_min=min(prices),
        price_max=max(prices),
        missing=[name for name, _ in specs if name not in selection],
        sold_out=not any(in_stock(s) for s in skus),
    )


def on_sale_product(session: Session, product_id: int) -> Product:
    """A product shoppers may see (listed, approved, its shop open); anything else is a 404."""
    product = session.scalar(
        select(Product)
        .join(Merchant, Merchant.id == Product.tenant_id)
        .where(
            Product.id == product_id,
            Product.is_listed.is_(True),
            Product.status == ProductStatus.APPROVED,
            Merchant.status == MerchantStatus.ACTIVE,
        )
    )
    if product is None:
        raise NotFound()
    return product


def api_products(
    session: Session,
    *,
    tenant_id: int,
    status: str | None = None,
    listed: bool | None = None,
    updated_since=None,
    q: str | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> Page[Product]:
    """A shop's products for its API, newest first, keyset-paginated; ``q`` matches a title or an exact SKU code."""
    stmt = select(Product).where(Product.tenant_id == tenant_id)
    if status:
        stmt = stmt.where(Product.status == ProductStatus(status))
    if listed is not None:
        stmt = stmt.where(Product.is_listed.is_(listed))
    if updated_since is not None:
        stmt = stmt.where(Product.updated_at >= updated_since)
    if q:
        text = q.strip()
        stmt = stmt.where(
            or_(
                Product.title.icontains(text, autoescape=True),
                Product.id.in_(select(Sku.product_id).where(Sku.code == text)),
            )
        )
    return keyset_page(session, stmt, Product.id, cursor, size=limit)


def get_sku(session: Session, sku_id: int) -> Sku:
    """A SKU of the active tenant; another shop's is a 404."""
    sku = session.scalar(select(Sku).where(Sku.id == sku_id))
    if sku is None:
        raise NotFound()
    return sku
