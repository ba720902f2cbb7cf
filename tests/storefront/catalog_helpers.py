"""Builders for storefront tests: categories, brands and products made through the real catalogue services
(create → submit → approve), so prices, facets and search tokens are exactly what the storefront reads."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable

from flask import Flask
from PIL import Image
from sqlalchemy import update

from marketplace.catalog.models import Brand, Category, Product
from marketplace.catalog.services import (
    ProductInput,
    SkuInput,
    approve_product,
    create_product,
    save_brand,
    save_category,
    set_category_attributes,
    submit_product,
)
from marketplace.catalog.specs import combinations
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.core.storage import save_image
from marketplace.extensions import db
from marketplace.merchants.models import Merchant

_codes = itertools.count(1)


def make_category(
    app: Flask, name: str, *, name_en: str = "", parent: Category | None = None, specs: list | None = None
) -> Category:
    with app.app_context(), acting_as(SYSTEM):
        category = save_category(
            db.session, name=name, name_en=name_en, parent_id=parent.id if parent else None
        )
        if specs:
            set_category_attributes(db.session, category, specs)
        db.session.commit()
        return category


def make_brand(app: Flask, name: str, name_en: str = "") -> Brand:
    with app.app_context(), acting_as(SYSTEM):
        brand = save_brand(db.session, name=name, name_en=name_en)
        db.session.commit()
        return brand


def png(colour: str = "teal") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def make_product(
    app: Flask,
    shop: Merchant,
    category: Category,
    title: str,
    *,
    price: int | Callable[[dict[str, str]], int] = 1000,
    specs: list[dict] | None = None,
    stock: int | Callable[[dict[str, str]], int] = 10,
    brand: Brand | None = None,
    attributes: dict[str, str] | None = None,
    description_html: str = "",
    images: int = 1,
    approve: bool = True,
    sales_count: int = 0,
) -> int:
    """A product with one SKU per spec combination (``price`` and ``stock`` may depend on the combination),
    submitted and (unless ``approve=False``) approved, which lists it. Returns its id.

    ``sales_count`` is written straight to the column: paid orders will keep it, and they do not exist yet.
    """
    with app.app_context(), acting_as(SYSTEM):
        stored = [save_image(png(colour)) for colour in ["teal", "orange", "purple"][:images]]
        skus = [
            SkuInput(
                spec_values=combo,
                code=f"SKU-{next(_codes)}",
                price=price(combo) if callable(price) else price,
                stock=stock(combo) if callable(stock) else stock,
            )
            for combo in combinations(specs or [])
        ]
        product = create_product(
            db.session,
            tenant_id=shop.id,
            actor_id=None,
            data=ProductInput(
                title=title,
                category_id=category.id,
                brand_id=brand.id if brand else None,
                skus=skus,
                specs=specs or [],
                attributes=attributes or {},
                description_html=description_html,
                images=[(image.key, image.width, image.height) for image in stored],
            ),
        )
        if images:
            submit_product(db.session, product)
            if approve:
                approve_product(db.session, product, actor_id=0)
        if sales_count:
            db.session.execute(
                update(Product).where(Product.id == product.id).values(sales_count=sales_count)
            )
        db.session.commit()
        return product.id
