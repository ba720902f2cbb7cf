"""The merchant API for products and SKUs: /api/v1/products and /api/v1/skus.

Every call runs inside the API key's shop (see ``merchant_portal.api.authenticate_request``): another shop's
product or SKU id is a 404. Scopes: ``catalog.view`` to read, ``catalog.edit`` to create, edit and submit
products and change prices, ``stock.edit`` to set stock.

Errors are problem JSON (RFC 9457). Invalid input is a 422 with ``code: validation_failed`` and ``errors``
mapping each field to its messages; nested fields are dotted paths (``skus.0.price``).

The product list is keyset-paginated, newest first: a response carries ``next_cursor``; send it back as
``cursor`` for the next page (``null`` means there is none). Pages stay stable while products are added.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g, jsonify, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from marketplace.catalog import queries as catalog_queries
from marketplace.catalog import services as catalog_services
from marketplace.catalog.models import Product
from marketplace.catalog.schemas import (
    PriceUpdateSchema,
    ProductCreateSchema,
    ProductDetailSchema,
    ProductListArgsSchema,
    ProductPageSchema,
    ProductUpdateSchema,
    ProductView,
    RevisionAcceptedSchema,
    SkuSchema,
    SkuStockSchema,
    SkuView,
    StockNumbers,
    StockUpdateSchema,
    editable_input,
    product_input,
)
from marketplace.catalog.specs import spec_key
from marketplace.core.errors import ValidationFailed
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.inventory import queries as inventory_queries
from marketplace.inventory.models import MovementKind
from marketplace.inventory.services import set_on_hand


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"skus.0.price": [...]}."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    items = messages if isinstance(messages, list) else [messages]
    return {prefix or "_schema": [str(m) for m in items]}


class _ProblemParser(FlaskParser):
    """Request validation errors in the same shape as the services' ValidationFailed (field → messages)."""

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        flat: dict[str, list[str]] = {}
        for messages in error.messages.values():  # keyed by location (json, query): drop that level
            flat.update(_flatten(messages))
        raise ValidationFailed(flat)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = _ProblemParser()


products_blp = ApiBlueprint(
    "api_products",
    __name__,
    url_prefix="/api/v1/products",
    description="The shop's products: list, read, create, edit, submit for approval.",
)
skus_blp = ApiBlueprint(
    "api_skus", __name__, url_prefix="/api/v1/skus", description="One SKU's stock and price."
)


# --- helpers ----------------------------------------------------------------------------------------


def _stock(sku_ids: list[int]) -> dict[int, StockNumbers]:
    levels = inventory_queries.levels_by_sku(db.session, sku_ids)
    return {sku_id: StockNumbers(*numbers) for sku_id, numbers in levels.items()}


def _view(product: Product) -> ProductView:
    pending = catalog_queries.pending_revision_for(db.session, product.id)
    return ProductView(
        product,
        stock=_stock([s.id for s in product.skus]),
        tags=catalog_queries.tag_names(db.session, product.id),
        pending_revision_id=pending.id if pending else None,
    )


def _editable(product: Product):
    pending = catalog_queries.pending_revision_for(db.session, product.id)
    return editable_input(
        product,
        tag_names=catalog_queries.tag_names(db.session, product.id),
        pending=pending.data if pending else None,
    )


@contextmanager
def _api_field_names() -> Iterator[None]:
    """The services name a SKU row ``skus-0``; the API says ``skus.0`` like the request validation does."""
    try:
        yield
    except ValidationFailed as exc:
        raise ValidationFailed(
            {key.replace("skus-", "skus.", 1): messages for key, messages in exc.fields.items()}
        ) from None


def _accepted(revision) -> tuple:
    body = RevisionAcceptedSchema().dump(
        {
            "revision_id": revision.id,
            "product_id": revision.product_id,
            "status": revision.status.value,
            "message": "The product is approved: the change waits for the platform's review; "
            "the approved version stays on sale until then.",
        }
    )
    return jsonify(body), 202


# --- products ---------------------------------------------------------------------------------------


@products_blp.route("")
class ProductCollection(MethodView):
    @requires("catalog.view")
    @products_blp.arguments(ProductListArgsSchema, location="query")
    @products_blp.response(200, ProductPageSchema)
    def get(self, args):
        """List the shop's products, newest first.

        Filters combine: `status` (draft, pending, approved, rejected), `listed`, `updated_since`, `q`.
        Keyset pagination: pass a response's `next_cursor` as `cursor` to get the next page (at most
        `limit` items, 50 by default, 100 at most); `next_cursor` is null on the last page.
        """
        page = catalog_queries.api_products(
            db.session,
            tenant_id=g.tenant_id,
            status=args.get("status"),
            listed=args.get("listed"),
            updated_since=args.get("updated_since"),
            q=args.get("q"),
            cursor=args.get("cursor"),
            limit=args["limit"],
        )
        return {"items": page.items, "next_cursor": page.next_cursor}

    @requires("catalog.edit")
    @products_blp.arguments(ProductCreateSchema)
    @products_blp.response(201, ProductDetailSchema)
    def post(self, body):
        """Create a product as a draft, with one SKU per combination of its specs.

        Prices are in fen. `stock` of a SKU sets its units on hand. Images are uploaded in the merchant
        portal; a product needs one before it can be submitted.
        """
        with _api_field_names():
            product = catalog_services.create_product(
                db.session, tenant_id=g.tenant_id, data=product_input(body), actor_id=None
            )
        db.session.commit()
        location = url_for("api_products.product", product_id=product.id)
        return _view(product), 201, {"Location": location}


@products_blp.route("/<int:product_id>", endpoint="product")
class ProductItem(MethodView):
    @requires("catalog.view")
    @products_blp.response(200, ProductDetailSchema)
    def get(self, product_id):
        """One product with its SKUs and their stock."""
        return _view(catalog_queries.get_product(db.session, product_id))

    @requires("catalog.edit")
    @products_blp.arguments(ProductUpdateSchema)
    @products_blp.response(200, ProductDetailSchema)
    @products_blp.alt_response(202, schema=RevisionAcceptedSchema, description="The change waits for review.")
    def patch(self, body, product_id):
        """Change a product; fields left out keep their values.

        A product that was never approved changes at once (a submitted one goes back to draft). On an approved
        product, description, weight, attributes, tags and stock change at once, while a change of title,
        category, brand, specs, images or prices becomes a pending revision for the platform to review: the
        answer is then 202 with the revision's id, and the approved version stays on sale meanwhile.
        """
        product = catalog_queries.get_product(db.session, product_id)
        with _api_field_names():
            data = product_input(body, _editable(product))
            revision = catalog_services.update_product(db.session, product, data=data, actor_id=None)
        db.session.commit()
        if revision is not None:
            return _accepted(revision)
        return _view(product)


@products_blp.route("/<int:product_id>/submit", endpoint="submit")
class ProductSubmit(MethodView):
    @requires("catalog.edit")
    @products_blp.response(200, ProductDetailSchema)
    def post(self, product_id):
        """Send a draft (or a rejected product after its fix) to the platform's review.

        It needs at least one active SKU and one image. 409 `product.invalid_transition` when the product is
        pending or approved already, 422 `product.incomplete` when something is missing.
        """
        product = catalog_queries.get_product(db.session, product_id)
        catalog_services.submit_product(db.session, product)
        db.session.commit()
        return _view(product)


# --- SKUs -------------------------------------------------------------------------------------------


@skus_blp.route("/<int:sku_id>/stock", endpoint="stock")
class SkuStock(MethodView):
    @requires("stock.edit")
    @skus_blp.arguments(StockUpdateSchema)
    @skus_blp.response(200, SkuStockSchema)
    def put(self, body, sku_id):
        """Set a SKU's units on hand (a stock count); units reserved by open orders are kept.

        409 `stock.insufficient` when the number is below what open orders have reserved.
        """
        sku = catalog_queries.get_sku(db.session, sku_id)
        level = set_on_hand(
            db.session,
            sku_id=sku.id,
            tenant_id=sku.tenant_id,
            quantity=body["on_hand"],
            kind=MovementKind.ADJUST,
            reason="api",
            actor_id=None,
        )
        db.session.commit()
        return {
            "sku_id": sku.id,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.available,
        }


@skus_blp.route("/<int:sku_id>/price", endpoint="price")
class SkuPrice(MethodView):
    @requires("catalog.edit")
    @skus_blp.arguments(PriceUpdateSchema)
    @skus_blp.response(200, SkuSchema)
    @skus_blp.alt_response(202, schema=RevisionAcceptedSchema, description="The change waits for review.")
    def put(self, body, sku_id):
        """Change a SKU's price (in fen).

        On an approved product the new price waits for the platform's review (202 with the revision's id) and
        the approved price stays on sale meanwhile; otherwise it applies at once.
        """
        sku = catalog_queries.get_sku(db.session, sku_id)
        product = sku.product
        data = _editable(product)
        row = next((s for s in data.skus if spec_key(s.spec_values) == sku.spec_key), None)
        if row is None:
            raise ValidationFailed({"sku_id": ["This SKU is no longer part of the product's specs."]})
        row.price = body["price"]
        with _api_field_names():
            revision = catalog_services.update_product(db.session, product, data=data, actor_id=None)
        db.session.commit()
        if revision is not None:
            return _accepted(revision)
        return SkuView(sku, _stock([sku.id]).get(sku.id, StockNumbers()))


API_CATALOG_BLUEPRINTS = (products_blp, skus_blp)
