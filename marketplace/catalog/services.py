"""State changes of the catalogue: products, SKUs, approval, listing, and the platform's categories and brands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from marketplace.catalog import errors
from marketplace.catalog.models import (
    Brand,
    Category,
    CategoryAttribute,
    Product,
    ProductFacet,
    ProductImage,
    ProductRevision,
    ProductStatus,
    ProductTag,
    RevisionStatus,
    Sku,
    Tag,
)
from marketplace.catalog.revisions import live_snapshot, proposed_snapshot
from marketplace.catalog.richtext import sanitise
from marketplace.catalog.specs import (
    MAX_SKUS_PER_PRODUCT,
    combination_count,
    combinations,
    normalise_specs,
    spec_key,
)
from marketplace.catalog.tokens import document_tokens
from marketplace.core import audit
from marketplace.core.db import utcnow
from marketplace.core.errors import ValidationFailed
from marketplace.inventory.models import MovementKind
from marketplace.inventory.services import set_on_hand


@dataclass
class SkuInput:
    spec_values: dict[str, str]
    code: str
    price: int
    market_price: int | None = None
    barcode: str | None = None
    weight_g: int = 0
    stock: int | None = None  # None = leave stock as it is


@dataclass
class ProductInput:
    title: str
    category_id: int
    skus: list[SkuInput]
    brand_id: int | None = None
    description_html: str = ""
    video_url: str = ""
    weight_g: int = 0
    specs: list[dict[str, Any]] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    tag_names: list[str] = field(default_factory=list)
    images: list[tuple[str, int, int]] = field(default_factory=list)  # (key, width, height) in display order


# --- validation -------------------------------------------------------------------------------


def _validate(session: Session, data: ProductInput, *, tenant_id: int, product_id: int | None) -> None:
    problems: dict[str, list[str]] = {}
    if not data.title.strip():
        problems["title"] = [_("Enter a title.")]
    elif len(data.title.strip()) > 200:
        problems["title"] = [_("At most 200 characters.")]
    category = session.get(Category, data.category_id) if data.category_id else None
    if category is None or not category.is_active:
        problems["category_id"] = [errors.UnknownCategory().text]
    if data.brand_id is not None and session.get(Brand, data.brand_id) is None:
        problems["brand_id"] = [_("Unknown brand.")]
    if data.video_url and not data.video_url.startswith(("https://", "http://")):
        problems["video_url"] = [_("A video link starts with https://.")]
    if data.weight_g < 0:
        problems["weight_g"] = [_("Weight cannot be negative.")]
    count = combination_count(data.specs)
    if count > MAX_SKUS_PER_PRODUCT:
        raise errors.TooManySkus(count=count, limit=MAX_SKUS_PER_PRODUCT)
    expected = {spec_key(c) for c in combinations(data.specs)}
    given = {spec_key(s.spec_values) for s in data.skus}
    if given != expected:
        problems["skus"] = [_("Every spec combination needs exactly one SKU row.")]
    codes = [s.code.strip() for s in data.skus]
    for index, sku in enumerate(data.skus):
        messages = []
        if not sku.code.strip():
            messages.append(_("Enter a SKU code."))
        elif codes.count(sku.code.strip()) > 1:
            messages.append(_("SKU codes must differ."))
        if sku.price <= 0:
            messages.append(_("The price must be above 0."))
        if sku.market_price is not None and sku.market_price < 0:
            messages.append(_("The market price cannot be negative."))
        if sku.stock is not None and sku.stock < 0:
            messages.append(_("Stock cannot be negative."))
        if messages:
            problems[f"skus-{index}"] = messages
    taken = session.scalars(
        select(Sku.code).where(
            Sku.tenant_id == tenant_id, Sku.code.in_(codes), Sku.product_id != (product_id or 0)
        )
    ).all()
    if taken:
        problems.setdefault("skus", []).append(
            f"SKU code {', '.join(sorted(taken))} is already used in this shop."
        )
    if problems:
        raise ValidationFailed(problems)


# --- create and edit --------------------------------------------------------------------------


def create_product(session: Session, *, tenant_id: int, data: ProductInput, actor_id: int | None) -> Product:
    """A new product in draft, with one SKU per spec combination."""
    _validate(session, data, tenant_id=tenant_id, product_id=None)
    product = Product(
        tenant_id=tenant_id, status=ProductStatus.DRAFT, title=data.title.strip(), category_id=0
    )
    _apply_details(product, data)
    _apply_sensitive(session, product, data)
    session.add(product)
    session.flush()
    _sync_images(session, product, data.images)
    _sync_skus(session, product, data.skus, actor_id=actor_id)
    _sync_tags(session, product, data.tag_names)
    session.flush()
    return product


def update_product(
    session: Session, product: Product, *, data: ProductInput, actor_id: int | None
) -> ProductRevision | None:
    """Save an edit. A never-approved product changes in place (and goes back to draft if it was submitted).

    On an approved product, description, weight, attributes, tags and stock change at once; a change of title,
    category, brand, images, specs or prices becomes a pending revision and the approved version stays on sale.
    Returns the revision when one was created.
    """
    _validate(session, data, tenant_id=product.tenant_id, product_id=product.id)
    _apply_details(product, data)
    _sync_tags(session, product, data.tag_names)
    if product.status is not ProductStatus.APPROVED:
        _apply_sensitive(session, product, data)
        _sync_images(session, product, data.images)
        _sync_skus(session, product, data.skus, actor_id=actor_id)
        if product.status is ProductStatus.PENDING:
            product.status = ProductStatus.DRAFT
        session.flush()
        return None

    _apply_sku_details(session, product, data.skus, actor_id=actor_id)
    proposed = proposed_snapshot(data)
    if proposed == live_snapshot(product):
        _withdraw_pending(session, product)
        session.flush()
        return None
    _withdraw_pending(session, product)
    revision = ProductRevision(
        tenant_id=product.tenant_id, product_id=product.id, data=proposed, submitted_by_id=actor_id
    )
    session.add(revision)
    session.flush()
    return revision


def _apply_details(product: Product, data: ProductInput) -> None:
    """Fields that never need approval."""
    product.description_html = sanitise(data.description_html)
    product.video_url = data.video_url.strip()
    product.weight_g = data.weight_g
    product.attributes = {k.strip(): str(v).strip() for k, v in data.attributes.items() if k.strip()}


def _apply_sensitive(session: Session, product: Product, data: ProductInput) -> None:
    product.title = data.title.strip()
    product.category_id = data.category_id
    product.brand_id = data.brand_id
    product.specs = normalise_specs(data.specs)


def _sync_images(session: Session, product: Product, images: list[tuple[str, int, int]]) -> None:
    keep = {key for key, _, _ in images}
    for image in list(product.images):
        if image.key not in keep:
            product.images.remove(image)
            session.delete(image)
    existing = {image.key: image for image in product.images}
    for position, (key, width, height) in enumerate(images):
        image = existing.get(key)
        if image is None:
            image = ProductImage(
                tenant_id=product.tenant_id, product_id=product.id, key=key, width=width, height=height
            )
            session.add(image)
            product.images.append(image)
        image.position = position
    product.images.sort(key=lambda i: i.position)


def _sync_skus(session: Session, product: Product, skus: list[SkuInput], *, actor_id: int | None) -> None:
    """Make the SKU rows match the inputs: new combinations added, dropped ones deactivated (orders keep them)."""
    by_key = {s.spec_key: s for s in product.skus}
    wanted = set()
    for position, item in enumerate(skus):
        key = spec_key(item.spec_values)
        wanted.add(key)
        sku = by_key.get(key)
        if sku is None:
            sku = Sku(tenant_id=product.tenant_id, product_id=product.id, spec_key=key, price=item.price)
            session.add(sku)
            product.skus.append(sku)
        sku.spec_values = dict(item.spec_values)
        sku.code = item.code.strip()
        sku.price = item.price
        sku.market_price = item.market_price
        sku.barcode = (item.barcode or "").strip() or None
        sku.weight_g = item.weight_g
        sku.is_active = True
        sku.position = position
    for sku in product.skus:
        if sku.spec_key not in wanted:
            sku.is_active = False
    session.flush()
    _set_stock(session, product, skus, actor_id=actor_id)
    _refresh_prices(product)


def _apply_sku_details(
    session: Session, product: Product, skus: list[SkuInput], *, actor_id: int | None
) -> None:
    """On an approved product: barcode, market price, weight and stock change at once."""
    by_key = {s.spec_key: s for s in product.skus}
    for item in skus:
        sku = by_key.get(spec_key(item.spec_values))
        if sku is not None:
            sku.barcode = (item.barcode or "").strip() or None
            sku.market_price = item.market_price
            sku.weight_g = item.weight_g
    session.flush()
    _set_stock(session, product, skus, actor_id=actor_id)


def _set_stock(session: Session, product: Product, skus: list[SkuInput], *, actor_id: int | None) -> None:
    by_key = {s.spec_key: s for s in product.skus}
    for item in skus:
        sku = by_key.get(spec_key(item.spec_values))
        if sku is not None and item.stock is not None:
            set_on_hand(
                session,
                sku_id=sku.id,
                tenant_id=product.tenant_id,
                quantity=item.stock,
                kind=MovementKind.ADJUST,
                reason="product edit",
                actor_id=actor_id,
            )


def _refresh_prices(product: Product) -> None:
    prices = [s.price for s in product.skus if s.is_active]
    product.min_price = min(prices) if prices else 0
    product.max_price = max(prices) if prices else 0


def _sync_tags(session: Session, product: Product, names: list[str]) -> None:
    wanted = [n.strip() for n in names if n.strip()][:20]
    tags = [get_or_create_tag(session, name) for name in dict.fromkeys(wanted)]
    session.execute(delete(ProductTag).where(ProductTag.product_id == product.id))
    for tag in tags:
        session.add(ProductTag(tenant_id=product.tenant_id, product_id=product.id, tag_id=tag.id))


def get_or_create_tag(session: Session, name: str) -> Tag:
    tag = session.scalar(select(Tag).where(Tag.name == name))
    if tag is None:
        tag = Tag(name=name[:50])
        session.add(tag)
        session.flush()
    return tag


# --- approval ---------------------------------------------------------------------------------


def _require(product: Product, allowed: set[ProductStatus], action: str) -> None:
    if product.status not in allowed:
        raise errors.InvalidTransition(status=product.status.value, action=action)


def submit_product(session: Session, product: Product) -> None:
    """Send a draft (or a rejected product after its fix) to the platform's review queue."""
    _require(product, {ProductStatus.DRAFT, ProductStatus.REJECTED}, "submitted")
    missing = []
    if not any(s.is_active for s in product.skus):
        missing.append(_("at least one SKU"))
    if not product.images:
        missing.append(_("at least one image"))
    if missing:
        raise errors.IncompleteProduct(missing=", ".join(missing))
    product.status = ProductStatus.PENDING
    product.rejection_reason = None
    session.flush()


def approve_product(session: Session, product: Product, *, actor_id: int) -> None:
    """Approve a submitted product; it goes on sale at once (the merchant can unlist it)."""
    _require(product, {ProductStatus.PENDING}, "approved")
    product.status = ProductStatus.APPROVED
    product.approved_at = utcnow()
    product.rejection_reason = None
    _list(product)
    reindex_product(session, product)
    audit.record(session, "product.approve", product)
    session.flush()


def reject_product(session: Session, product: Product, *, reason: str) -> None:
    _require(product, {ProductStatus.PENDING}, "rejected")
    if not reason.strip():
        raise ValidationFailed({"reason": [_("Give the merchant a reason.")]})
    product.status = ProductStatus.REJECTED
    product.rejection_reason = reason.strip()[:500]
    audit.record(session, "product.reject", product, reason=reason.strip())
    session.flush()


def _withdraw_pending(session: Session, product: Product) -> None:
    from marketplace.catalog.queries import pending_revision_for

    revision = pending_revision_for(session, product.id)
    if revision is not None:
        revision.status = RevisionStatus.WITHDRAWN


def approve_revision(session: Session, revision: ProductRevision, *, actor_id: int) -> None:
    """Copy an approved edit onto the live product."""
    if revision.status is not RevisionStatus.PENDING:
        raise errors.NothingPending()
    product = revision.product
    data = revision.data
    product.title = data["title"]
    product.category_id = data["category_id"]
    product.brand_id = data["brand_id"]
    product.specs = data["specs"]
    _sync_images(session, product, [tuple(i) for i in data["images"]])
    current = {s.spec_key: s for s in product.skus}
    inputs = []
    for item in data["skus"]:
        existing = current.get(spec_key(item["spec_values"]))
        inputs.append(
            SkuInput(
                spec_values=item["spec_values"],
                code=item["code"],
                price=item["price"],
                market_price=existing.market_price if existing else None,
                barcode=existing.barcode if existing else None,
                weight_g=existing.weight_g if existing else 0,
            )
        )
    _sync_skus(session, product, inputs, actor_id=actor_id)
    revision.status = RevisionStatus.APPROVED
    revision.decided_by_id = actor_id
    revision.decided_at = utcnow()
    reindex_product(session, product)
    audit.record(session, "product.approve_edit", product, changes={"revision": revision.id})
    session.flush()


def reject_revision(session: Session, revision: ProductRevision, *, actor_id: int, reason: str) -> None:
    if revision.status is not RevisionStatus.PENDING:
        raise errors.NothingPending()
    if not reason.strip():
        raise ValidationFailed({"reason": [_("Give the merchant a reason.")]})
    revision.status = RevisionStatus.REJECTED
    revision.decided_by_id = actor_id
    revision.decided_at = utcnow()
    revision.reason = reason.strip()[:500]
    audit.record(session, "product.reject_edit", revision.product, reason=revision.reason)
    session.flush()


# --- listing ----------------------------------------------------------------------------------


def _list(product: Product) -> None:
    if not product.is_listed:
        product.is_listed = True
        product.listed_at = utcnow()


def list_product(session: Session, product: Product) -> None:
    _require(product, {ProductStatus.APPROVED}, "listed")
    _list(product)
    session.flush()


def unlist_product(session: Session, product: Product) -> None:
    _require(product, {ProductStatus.APPROVED}, "unlisted")
    product.is_listed = False
    session.flush()


def reorder_products(session: Session, *, tenant_id: int, ordered_ids: list[int]) -> None:
    """The merchant's order of products in the shop: position = place in the list."""
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ordered_ids)))}
    for position, product_id in enumerate(ordered_ids):
        product = products.get(product_id)
        if product is not None and product.tenant_id == tenant_id:
            product.shop_position = position
    session.flush()


def reindex_product(session: Session, product: Product) -> None:
    """Refresh what the storefront filters and searches on: facets and search tokens."""
    session.execute(delete(ProductFacet).where(ProductFacet.product_id == product.id))
    facets = {(spec["name"], value) for spec in product.specs for value in spec["values"]}
    facets |= {(name, value) for name, value in product.attributes.items() if value}
    for name, value in sorted(facets):
        session.add(
            ProductFacet(
                tenant_id=product.tenant_id, product_id=product.id, name=name[:50], value=value[:100]
            )
        )
    category = session.get(Category, product.category_id)
    # The whole category path is searchable: a green tea is found by 绿茶 and by its parent 茶叶 / tea.
    path = (
        list(session.scalars(select(Category).where(Category.id.in_(category.ancestor_ids))))
        if category
        else []
    )
    brand = session.get(Brand, product.brand_id) if product.brand_id else None
    tag_names = session.scalars(
        select(Tag.name)
        .join(ProductTag, ProductTag.tag_id == Tag.id)
        .where(ProductTag.product_id == product.id)
    ).all()
    product.search_tokens = document_tokens(
        product.title,
        brand.name if brand else "",
        brand.name_en if brand else "",
        " ".join(f"{c.name} {c.name_en}" for c in path),
        " ".join(tag_names),
    )


# --- platform: categories and brands ----------------------------------------------------------


def save_category(
    session: Session,
    *,
    name: str,
    name_en: str = "",
    parent_id: int | None = None,
    position: int = 0,
    commission_rate_bp: int = 500,
    is_active: bool = True,
    category: Category | None = None,
) -> Category:
    problems: dict[str, list[str]] = {}
    if not name.strip():
        problems["name"] = [_("Enter a name.")]
    if not 0 <= commission_rate_bp <= 10000:
        problems["commission_rate_bp"] = [_("Commission is between 0 and 100 %.")]
    parent = session.get(Category, parent_id) if parent_id else None
    if parent_id and parent is None:
        problems["parent_id"] = [_("Unknown parent category.")]
    if category is not None and parent is not None and category.id in parent.ancestor_ids:
        problems["parent_id"] = [_("A category cannot move under itself.")]
    if problems:
        raise ValidationFailed(problems)
    if category is None:
        category = Category()
        session.add(category)
    old_path = category.path if category.id else None
    category.name = name.strip()
    category.name_en = name_en.strip()
    category.parent_id = parent.id if parent else None
    category.position = position
    category.commission_rate_bp = commission_rate_bp
    category.is_active = is_active
    session.flush()
    category.path = f"{parent.path if parent else '/'}{category.id}/"
    category.depth = parent.depth + 1 if parent else 0
    if old_path and old_path != category.path:
        for child in session.scalars(
            select(Category).where(Category.path.like(f"{old_path}%"), Category.id != category.id)
        ):
            child.path = category.path + child.path[len(old_path) :]
            child.depth = child.path.count("/") - 2
    session.flush()
    return category


def set_category_attributes(session: Session, category: Category, specs: list[dict[str, Any]]) -> None:
    """Replace a category's attributes: [{"name": "颜色", "values": [...], "is_spec": true}, ...]."""
    category.attributes.clear()
    session.flush()
    for position, spec in enumerate(specs):
        name = str(spec.get("name", "")).strip()
        values = [str(v).strip() for v in spec.get("values", []) if str(v).strip()]
        if name:
            category.attributes.append(
                CategoryAttribute(
                    name=name[:50], values=values, is_spec=bool(spec.get("is_spec", True)), position=position
                )
            )
    session.flush()


def delete_category(session: Session, category: Category) -> None:
    products = session.scalar(
        select(func.count()).select_from(Product).where(Product.category_id == category.id)
    )
    children = session.scalar(
        select(func.count()).select_from(Category).where(Category.parent_id == category.id)
    )
    if products or children:
        raise errors.CategoryInUse(count=(products or 0) + (children or 0))
    session.delete(category)
    session.flush()


def save_brand(session: Session, *, name: str, name_en: str = "", brand: Brand | None = None) -> Brand:
    if not name.strip():
        raise ValidationFailed({"name": [_("Enter a name.")]})
    clash = session.scalar(select(Brand).where(Brand.name == name.strip()))
    if clash is not None and clash is not brand:
        raise ValidationFailed({"name": [_("This brand exists already.")]})
    if brand is None:
        brand = Brand()
        session.add(brand)
    brand.name = name.strip()
    brand.name_en = name_en.strip()
    session.flush()
    return brand
