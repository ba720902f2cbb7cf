"""Helpers of the import tests: a signed-in shop, CSV building, uploads, snapshots of what was imported."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from marketplace.catalog.import_format import COLUMN_KEYS
from marketplace.catalog.import_models import ProductImport
from marketplace.catalog.models import Product, ProductTag, Tag
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.inventory.models import StockLevel
from tests.factories import login, make_merchant, make_user
from tests.jobs_helpers import run_jobs
from tests.page_helpers import english_client

IMPORT_URL = "/merchant/products/import"


def _shop(app):
    shop = make_merchant(app)
    owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)
    client = english_client(app)
    login(client, owner)
    return shop, owner, client


def _csv(rows: list[dict[str, str]], columns=COLUMN_KEYS) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buffer.getvalue()


def _upload(app, client, data: bytes, name: str = "products.csv", good_rows_only: bool = False):
    form = {"file": (io.BytesIO(data), name)}
    if good_rows_only:
        form["good_rows_only"] = "y"
    response = client.post(IMPORT_URL, data=form, content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    run_jobs(app)
    import_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    return import_id


def _import(app, import_id: int) -> ProductImport:
    with app.app_context():
        return db.session.get(ProductImport, import_id)


def _tee_rows(category: int | str, prefix: str = "TEE") -> list[dict[str, str]]:
    """A colour × size tea cup (four SKUs) and a mug without specs."""
    first = {
        "product_ref": "CUP",
        "title": "白瓷茶杯 Porcelain cup",
        "category_id": str(category),
        "brand": "青山",
        "description": "<p>Thin <script>alert(1)</script><b>porcelain</b></p>",
        "weight_g": "200",
        "tags": "夏季, gift，夏季",
    }
    combos = [("白", "S", "59.00", "79.00", "10"), ("白", "L", "59.50", "", "0"), ("青", "S", "60", "", "5")]
    combos.append(("青", "L", "61.00", "", "7"))
    rows = []
    for index, (colour, size, price, market, stock) in enumerate(combos):
        row = first if index == 0 else {"product_ref": "CUP"}
        row = {
            **row,
            "spec_1_name": "颜色",
            "spec_1_value": colour,
            "spec_2_name": "尺码",
            "spec_2_value": size,
            "sku_code": f"{prefix}-{colour}-{size}",
            "price": price,
            "market_price": market,
            "stock": stock,
        }
        if index == 0:
            row["barcode"] = "6901234567892"
        rows.append(row)
    rows.append(
        {
            "product_ref": "MUG",
            "title": "Mug",
            "category_id": str(category),
            "weight_g": "400",
            "sku_code": f"{prefix}-MUG",
            "price": "35.5",
            "stock": "3",
        }
    )
    return rows


def _snapshot(app, tenant_id: int) -> list[tuple]:
    """A shop's products as comparable data (no ids)."""
    with app.app_context():
        products = db.session.scalars(
            select(Product).where(Product.tenant_id == tenant_id).order_by(Product.title)
        ).all()
        result = []
        for p in products:
            tags = db.session.scalars(
                select(Tag.name)
                .join(ProductTag, ProductTag.tag_id == Tag.id)
                .where(ProductTag.product_id == p.id)
                .order_by(Tag.name)
            ).all()
            skus = []
            for s in sorted((s for s in p.skus if s.is_active), key=lambda s: s.position):
                level = db.session.scalar(select(StockLevel).where(StockLevel.sku_id == s.id))
                skus.append(
                    (s.code, s.barcode, s.spec_values, s.spec_key, s.price, s.market_price, s.position)
                    + (level.on_hand, level.available)
                )
            result.append(
                (p.title, p.category_id, p.brand_id, p.description_html, p.weight_g, p.specs, p.status)
                + (p.is_listed, p.min_price, p.max_price, tuple(tags), tuple(skus))
            )
        return result
