"""The shop's catalogue as rows of the import format, so an export imported into an empty shop recreates it.

Products are read in keyset batches (three queries per batch of products: products, SKUs with stock, tags), so a
large catalogue streams with bounded memory. Only active SKUs are exported: they are the product's current spec
combinations. Text that would start a spreadsheet formula gets a leading apostrophe, which the import removes.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from marketplace.catalog.import_format import MAX_SPECS, escape_cell, headers
from marketplace.catalog.models import Brand, Product, ProductTag, Sku, Tag
from marketplace.inventory.models import StockLevel
from marketplace.inventory.queries import default_warehouse_id

BATCH = 500


def yuan(amount: int | None) -> str:
    """Fen as the import reads them: ``1250`` → ``12.50`` (no currency sign, no thousands separator)."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 100)
    return f"{sign}{major}.{minor:02d}"


def export_rows(session: Session, *, tenant_id: int, language: str = "zh") -> Iterator[list[str]]:
    """The header, then one row per active SKU of the shop's products, products in id order."""
    yield headers(language)
    brands: dict[int, str] = {}
    last_id = 0
    # Stock is the shop's own warehouse's, where an import puts it: an export imported again changes nothing.
    warehouse_id = default_warehouse_id(session, tenant_id)
    while True:
        products = session.execute(
            select(
                Product.id,
                Product.title,
                Product.category_id,
                Product.brand_id,
                Product.description_html,
                Product.weight_g,
                Product.specs,
            )
            .where(Product.tenant_id == tenant_id, Product.id > last_id)
            .order_by(Product.id)
            .limit(BATCH)
        ).all()
        if not products:
            return
        last_id = products[-1].id
        ids = [p.id for p in products]
        skus: dict[int, list] = {}
        for sku in session.execute(
            select(
                Sku.product_id,
                Sku.code,
                Sku.barcode,
                Sku.spec_values,
                Sku.price,
                Sku.market_price,
                StockLevel.on_hand,
            )
            .outerjoin(StockLevel, and_(StockLevel.sku_id == Sku.id, StockLevel.warehouse_id == warehouse_id))
            .where(Sku.tenant_id == tenant_id, Sku.product_id.in_(ids), Sku.is_active.is_(True))
            .order_by(Sku.product_id, Sku.position, Sku.id)
        ):
            skus.setdefault(sku.product_id, []).append(sku)
        tags: dict[int, list[str]] = {}
        for product_id, name in session.execute(
            select(ProductTag.product_id, Tag.name)
            .join(Tag, Tag.id == ProductTag.tag_id)
            .where(ProductTag.tenant_id == tenant_id, ProductTag.product_id.in_(ids))
            .order_by(ProductTag.product_id, Tag.id)
        ):
            tags.setdefault(product_id, []).append(name)
        wanted = {p.brand_id for p in products if p.brand_id and p.brand_id not in brands}
        if wanted:
            brands.update(
                {
                    row.id: row.name
                    for row in session.execute(select(Brand.id, Brand.name).where(Brand.id.in_(wanted)))
                }
            )
        for product in products:
            names = [spec["name"] for spec in (product.specs or [])][:MAX_SPECS]
            common = [
                escape_cell(product.title),
                str(product.category_id),
                escape_cell(brands.get(product.brand_id, "") if product.brand_id else ""),
                escape_cell(product.description_html or ""),
                str(product.weight_g or 0),
            ]
            tag_text = escape_cell(",".join(tags.get(product.id, [])))
            for sku in skus.get(product.id, []):
                spec_cells: list[str] = []
                for n in range(MAX_SPECS):
                    name = names[n] if n < len(names) else ""
                    value = (sku.spec_values or {}).get(name, "") if name else ""
                    spec_cells += [escape_cell(name), escape_cell(value)]
                yield [
                    str(product.id),
                    *common,
                    *spec_cells,
                    escape_cell(sku.code),
                    escape_cell(sku.barcode or ""),
                    yuan(sku.price),
                    yuan(sku.market_price),
                    str(sku.on_hand or 0),
                    tag_text,
                ]
