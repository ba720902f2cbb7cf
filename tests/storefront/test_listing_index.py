"""The listing index (listed_products) follows the catalogue through the database triggers of 0005_search."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from marketplace.catalog.models import Product, ProductFacet
from marketplace.catalog.services import (
    ProductInput,
    SkuInput,
    approve_revision,
    list_product,
    reindex_product,
    unlist_product,
    update_product,
)
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.search.models import FACET_SEPARATOR, ListedProduct
from tests.factories import make_merchant, make_user
from tests.storefront.catalog_helpers import make_category, make_product


def _row(app, product_id: int) -> dict | None:
    with app.app_context():
        row = db.session.get(ListedProduct, product_id)
        if row is None:
            return None
        facets = sorted(f.replace(FACET_SEPARATOR, "=") for f in row.facets)
        return {"title": row.title, "min_price": row.min_price, "sales": row.sales_count, "facets": facets}


def test_the_index_follows_approval_listing_edits_sales_and_deletion(app):
    shop = make_merchant(app)
    reviewer = make_user(app, UserKind.STAFF)
    category = make_category(app, "绿茶", name_en="Green tea")
    specs = [{"name": "规格", "values": ["100g", "250g"]}]
    pending = make_product(app, shop, category, "Pending tea", approve=False)
    product_id = make_product(
        app, shop, category, "龙井 Longjing", specs=specs, price=6800, attributes={"产地": "杭州"}
    )

    assert _row(app, pending) is None
    assert _row(app, product_id) == {
        "title": "龙井 Longjing",
        "min_price": 6800,
        "sales": 0,
        "facets": ["产地=杭州", "规格=100g", "规格=250g"],
    }

    with app.app_context(), acting_as(SYSTEM):
        product = db.session.get(Product, product_id)
        unlist_product(db.session, product)
        db.session.commit()
        assert _row(app, product_id) is None
        list_product(db.session, product)
        db.session.commit()
    assert _row(app, product_id)["title"] == "龙井 Longjing"

    with app.app_context(), acting_as(SYSTEM):  # an approved edit of the title and prices
        product = db.session.get(Product, product_id)
        skus = [SkuInput(spec_values=s.spec_values, code=s.code, price=s.price - 1000) for s in product.skus]
        data = ProductInput(
            title="西湖龙井 West Lake Longjing",
            category_id=category.id,
            skus=skus,
            specs=specs,
            attributes={"产地": "杭州"},
            images=[(i.key, i.width, i.height) for i in product.images],
        )
        revision = update_product(db.session, product, data=data, actor_id=None)
        db.session.commit()
        approve_revision(db.session, revision, actor_id=reviewer.id)
        db.session.commit()
    assert _row(app, product_id)["title"] == "西湖龙井 West Lake Longjing"
    assert _row(app, product_id)["min_price"] == 5800

    with app.app_context(), acting_as(SYSTEM):  # paid orders will do this
        db.session.execute(update(Product).where(Product.id == product_id).values(sales_count=7))
        db.session.commit()
    assert _row(app, product_id)["sales"] == 7

    with app.app_context(), acting_as(SYSTEM):  # attributes change at once; the facets on re-indexing
        product = db.session.get(Product, product_id)
        product.attributes = {"产地": "西湖"}
        reindex_product(db.session, product)
        db.session.commit()
    assert _row(app, product_id)["facets"] == ["产地=西湖", "规格=100g", "规格=250g"]

    with app.app_context(), acting_as(SYSTEM):
        db.session.execute(delete(ProductFacet).where(ProductFacet.product_id == product_id))
        db.session.execute(delete(Product).where(Product.id == product_id))
        db.session.commit()
        assert db.session.scalars(select(ListedProduct.id)).all() == []
