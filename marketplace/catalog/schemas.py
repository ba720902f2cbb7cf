"""Marshmallow schemas of the merchant API for products and SKUs, and the bridge to the catalogue services.

Request bodies load into plain dicts; :func:`product_input` turns one into the ``ProductInput`` that
``create_product`` / ``update_product`` take, on top of :func:`editable_input` (the product as the merchant is
editing it, pending revision included) for partial updates. Responses dump :class:`ProductView` /
:class:`SkuView`, the models with their stock and tags attached.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC
from typing import Any

from marshmallow import Schema, fields, validate

from marketplace.catalog.models import Product, ProductStatus, Sku
from marketplace.catalog.services import ProductInput, SkuInput
from marketplace.catalog.specs import MAX_SKUS_PER_PRODUCT, spec_key
from marketplace.core.errors import ValidationFailed

# --- request bodies -----------------------------------------------------------------------------
# Amounts and counts are JSON integers (strict): "12.5", 12.5 or "3" are refused, never rounded.


class SpecSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50), metadata={"example": "颜色"})
    values = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"example": ["红", "蓝"]},
    )


class SkuInSchema(Schema):
    spec_values = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        load_default=dict,
        metadata={
            "description": "One value of each spec; {} for a product without specs.",
            "example": {"颜色": "红"},
        },
    )
    code = fields.String(
        required=True, validate=validate.Length(min=1, max=64), metadata={"example": "TEE-RED"}
    )
    price = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1),
        metadata={"description": "Price in fen (minor units).", "example": 5900},
    )
    market_price = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=0)
    )
    barcode = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64))
    weight_g = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0))
    stock = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0),
        metadata={"description": "Units on hand; null or absent leaves the stock as it is."},
    )


class ProductUpdateSchema(Schema):
    """Every field is optional: what is left out keeps its current value (pending edits included)."""

    title = fields.String(validate=validate.Length(min=1, max=200))
    category_id = fields.Integer(strict=True)
    brand_id = fields.Integer(strict=True, allow_none=True)
    description_html = fields.String(metadata={"description": "HTML; scripts and unsafe markup are removed."})
    video_url = fields.String(validate=validate.Length(max=500))
    weight_g = fields.Integer(strict=True, validate=validate.Range(min=0))
    specs = fields.List(fields.Nested(SpecSchema), validate=validate.Length(max=10))
    attributes = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=50)),
        values=fields.String(validate=validate.Length(max=100)),
        metadata={"example": {"材质": "棉"}},
    )
    tags = fields.List(
        fields.String(validate=validate.Length(min=1, max=50)), validate=validate.Length(max=20)
    )
    images = fields.List(
        fields.String(),
        metadata={
            "description": "Keys of the product's existing images in display order (upload new ones in the "
            "merchant portal); a key left out removes that image."
        },
    )
    skus = fields.List(
        fields.Nested(SkuInSchema),
        validate=validate.Length(min=1, max=MAX_SKUS_PER_PRODUCT),
        metadata={"description": "The whole SKU list: exactly one SKU per combination of the specs' values."},
    )


class ProductCreateSchema(ProductUpdateSchema):
    class Meta:
        exclude = ("images",)

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    category_id = fields.Integer(strict=True, required=True)
    skus = fields.List(
        fields.Nested(SkuInSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_SKUS_PER_PRODUCT),
        metadata={"description": "Exactly one SKU per combination of the specs' values."},
    )


class StockUpdateSchema(Schema):
    on_hand = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0),
        metadata={"description": "Units counted on hand."},
    )


class PriceUpdateSchema(Schema):
    price = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1), metadata={"description": "In fen."}
    )


class ProductListArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in ProductStatus]))
    listed = fields.Boolean(metadata={"description": "true: on sale now; false: not on sale."})
    updated_since = fields.AwareDateTime(
        default_timezone=UTC,
        metadata={
            "description": "ISO 8601 (UTC when no zone is given): products whose own fields changed since."
        },
    )
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Part of the title, or a SKU code."},
    )
    cursor = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "`next_cursor` of the previous page."}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


# --- responses ------------------------------------------------------------------------------------


@dataclass
class StockNumbers:
    on_hand: int = 0
    reserved: int = 0
    available: int = 0


@dataclass
class SkuView:
    """A SKU with its stock, for dumping; attribute reads fall through to the model."""

    sku: Sku
    stock: StockNumbers = field(default_factory=StockNumbers)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sku, name)


@dataclass
class ProductView:
    product: Product
    stock: dict[int, StockNumbers] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    pending_revision_id: int | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.product, name)

    @property
    def skus(self) -> list[SkuView]:
        return [SkuView(s, self.stock.get(s.id, StockNumbers())) for s in self.product.skus]


class StockSchema(Schema):
    on_hand = fields.Integer(dump_only=True)
    reserved = fields.Integer(dump_only=True, metadata={"description": "Held by open orders."})
    available = fields.Integer(
        dump_only=True, metadata={"description": "on_hand - reserved: what can be sold."}
    )


class SkuStockSchema(StockSchema):
    sku_id = fields.Integer(dump_only=True)


class SkuSchema(Schema):
    id = fields.Integer(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    barcode = fields.String(dump_only=True, allow_none=True)
    spec_values = fields.Dict(keys=fields.String(), values=fields.String(), dump_only=True)
    price = fields.Integer(dump_only=True, metadata={"description": "Live price in fen."})
    market_price = fields.Integer(dump_only=True, allow_none=True)
    weight_g = fields.Integer(dump_only=True)
    is_active = fields.Boolean(dump_only=True, metadata={"description": "false: dropped from the specs."})
    stock = fields.Nested(StockSchema, dump_only=True)


class ImageSchema(Schema):
    key = fields.String(dump_only=True)
    width = fields.Integer(dump_only=True)
    height = fields.Integer(dump_only=True)


class ProductSchema(Schema):
    id = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    status = fields.Enum(ProductStatus, by_value=True, dump_only=True)
    is_listed = fields.Boolean(dump_only=True)
    category_id = fields.Integer(dump_only=True)
    brand_id = fields.Integer(dump_only=True, allow_none=True)
    min_price = fields.Integer(dump_only=True)
    max_price = fields.Integer(dump_only=True)
    sales_count = fields.Integer(dump_only=True)
    rating_count = fields.Integer(dump_only=True)
    rating_average = fields.Float(dump_only=True, allow_none=True)
    rejection_reason = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    listed_at = fields.DateTime(dump_only=True, allow_none=True)
    approved_at = fields.DateTime(dump_only=True, allow_none=True)


class ProductDetailSchema(ProductSchema):
    description_html = fields.String(dump_only=True)
    video_url = fields.String(dump_only=True)
    weight_g = fields.Integer(dump_only=True)
    specs = fields.List(fields.Nested(SpecSchema), dump_only=True)
    attributes = fields.Dict(keys=fields.String(), values=fields.String(), dump_only=True)
    tags = fields.List(fields.String(), dump_only=True)
    images = fields.List(fields.Nested(ImageSchema), dump_only=True)
    skus = fields.List(fields.Nested(SkuSchema), dump_only=True)
    pending_revision_id = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "An edit of the approved product waiting for the platform's review."},
    )


class ProductPageSchema(Schema):
    items = fields.List(fields.Nested(ProductSchema), dump_only=True)
    next_cursor = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null at the end."},
    )


class RevisionAcceptedSchema(Schema):
    revision_id = fields.Integer(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={"example": "pending"})
    message = fields.String(dump_only=True)


# --- API payload → service input ------------------------------------------------------------------


def editable_input(product: Product, *, tag_names: list[str], pending: dict[str, Any] | None) -> ProductInput:
    """The product as the merchant is editing it: the live version, with a pending revision's changes on top.

    A partial update starts from this, so changing only the description never withdraws a pending price edit.
    """
    live_skus = {s.spec_key: s for s in product.skus}

    def sku_input(spec_values: dict[str, str], code: str, price: int) -> SkuInput:
        live = live_skus.get(spec_key(spec_values))
        return SkuInput(
            spec_values=dict(spec_values),
            code=code,
            price=price,
            market_price=live.market_price if live else None,
            barcode=live.barcode if live else None,
            weight_g=live.weight_g if live else 0,
        )

    data = ProductInput(
        title=product.title,
        category_id=product.category_id,
        brand_id=product.brand_id,
        description_html=product.description_html,
        video_url=product.video_url,
        weight_g=product.weight_g,
        specs=[dict(s) for s in product.specs],
        attributes=dict(product.attributes),
        tag_names=list(tag_names),
        images=[(i.key, i.width, i.height) for i in product.images],
        skus=[sku_input(s.spec_values, s.code, s.price) for s in product.skus if s.is_active],
    )
    if pending:
        data = replace(
            data,
            title=pending["title"],
            category_id=pending["category_id"],
            brand_id=pending["brand_id"],
            specs=[dict(s) for s in pending["specs"]],
            images=[tuple(i) for i in pending["images"]],
            skus=[sku_input(s["spec_values"], s["code"], s["price"]) for s in pending["skus"]],
        )
    return data


def product_input(body: dict[str, Any], base: ProductInput | None = None) -> ProductInput:
    """A loaded request body as service input; fields the body leaves out come from ``base`` (or defaults)."""
    base = base or ProductInput(title="", category_id=0, skus=[])
    images = base.images
    if "images" in body:
        known = {key: (key, width, height) for key, width, height in base.images}
        unknown = [key for key in body["images"] if key not in known]
        if unknown:
            raise ValidationFailed({"images": [f"Unknown image key: {', '.join(unknown)}."]})
        images = [known[key] for key in dict.fromkeys(body["images"])]
    skus = base.skus
    if "skus" in body:
        skus = [
            SkuInput(
                spec_values=item["spec_values"],
                code=item["code"],
                price=item["price"],
                market_price=item["market_price"],
                barcode=item["barcode"],
                weight_g=item["weight_g"],
                stock=item["stock"],
            )
            for item in body["skus"]
        ]
    return ProductInput(
        title=body.get("title", base.title),
        category_id=body.get("category_id", base.category_id),
        brand_id=body.get("brand_id", base.brand_id),
        description_html=body.get("description_html", base.description_html),
        video_url=body.get("video_url", base.video_url),
        weight_g=body.get("weight_g", base.weight_g),
        specs=body.get("specs", base.specs),
        attributes=body.get("attributes", base.attributes),
        tag_names=body.get("tags", base.tag_names),
        images=images,
        skus=skus,
    )
