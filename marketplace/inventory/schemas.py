"""Marshmallow schemas of the merchant API for stock (/api/v1/stock): per SKU, per warehouse.

Counts are JSON integers (strict): "3", 3.0 or true are refused, never coerced.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from marketplace.inventory.models import MAX_UNITS

# --- requests -------------------------------------------------------------------------------------


class StockListArgsSchema(Schema):
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Part of a SKU code or of the product's title."},
    )
    low = fields.Boolean(
        metadata={"description": "true: only SKUs at or below their low-stock threshold in some warehouse."}
    )
    warehouse_id = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "Only SKUs stocked in this warehouse, and only that warehouse's levels."},
    )
    cursor = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "`next_cursor` of the previous page."}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class WarehouseArgsSchema(Schema):
    warehouse_id = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "One warehouse only; default: all."}
    )
    cursor = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "`next_cursor` of the previous page."}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class _InWarehouse(Schema):
    warehouse_id = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "The warehouse; default: the shop's own (SHOP-<shop id>)."},
    )


class StockSetSchema(_InWarehouse):
    on_hand = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=MAX_UNITS),
        metadata={"description": "Units counted on hand; what open orders reserved is kept.", "example": 40},
    )
    reason = fields.String(
        load_default="api", validate=validate.Length(max=200), metadata={"example": "monthly count"}
    )


class StockAdjustSchema(_InWarehouse):
    delta = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=-MAX_UNITS, max=MAX_UNITS),
        metadata={"description": "Units to add (positive) or take off (negative); not 0.", "example": -2},
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Why: written to the stock ledger.", "example": "damaged in storage"},
    )

    @validates("delta")
    def _not_zero(self, value: int, **kwargs) -> None:
        if value == 0:
            raise ValidationError("A correction of 0 changes nothing.")

    @validates("reason")
    def _not_blank(self, value: str, **kwargs) -> None:
        if not value.strip():
            raise ValidationError("Give a reason for the correction.")


class ThresholdSchema(_InWarehouse):
    low_stock_threshold = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=MAX_UNITS),
        metadata={"description": "Alert when available falls to this or below; 0 turns the alert off."},
    )


# --- responses ------------------------------------------------------------------------------------


class WarehouseLevelSchema(Schema):
    warehouse_id = fields.Integer(dump_only=True, allow_none=True)
    warehouse_code = fields.String(dump_only=True, metadata={"example": "SHOP-12"})
    is_platform = fields.Boolean(
        dump_only=True, metadata={"description": "true: the platform's warehouse, counted by the platform."}
    )
    on_hand = fields.Integer(dump_only=True)
    reserved = fields.Integer(dump_only=True, metadata={"description": "Held by open orders."})
    available = fields.Integer(
        dump_only=True, metadata={"description": "on_hand - reserved: what can be sold."}
    )
    low_stock_threshold = fields.Integer(dump_only=True)
    is_low = fields.Boolean(dump_only=True, metadata={"description": "available <= low_stock_threshold > 0"})


class SkuLevelsSchema(Schema):
    sku_id = fields.Integer(dump_only=True)
    code = fields.String(dump_only=True)
    product_id = fields.Integer(dump_only=True)
    product_title = fields.String(dump_only=True)
    spec_values = fields.Dict(keys=fields.String(), values=fields.String(), dump_only=True)
    is_active = fields.Boolean(dump_only=True, metadata={"description": "false: dropped from the specs."})
    on_hand = fields.Integer(dump_only=True, metadata={"description": "Across the warehouses listed."})
    reserved = fields.Integer(dump_only=True)
    available = fields.Integer(dump_only=True)
    levels = fields.List(fields.Nested(WarehouseLevelSchema), dump_only=True)


class StockPageSchema(Schema):
    items = fields.List(fields.Nested(SkuLevelsSchema), dump_only=True)
    next_cursor = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null at the end."},
    )


class StockMovementSchema(Schema):
    id = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    warehouse_id = fields.Integer(dump_only=True, allow_none=True)
    kind = fields.Function(lambda m: m.kind.value, dump_only=True, metadata={"example": "reserve"})
    on_hand_delta = fields.Integer(dump_only=True)
    reserved_delta = fields.Integer(dump_only=True)
    available_before = fields.Integer(dump_only=True)
    available_after = fields.Integer(dump_only=True)
    reason = fields.String(dump_only=True)
    actor_id = fields.Integer(dump_only=True, allow_none=True)
    order_id = fields.Integer(dump_only=True, allow_none=True)


class StockMovementPageSchema(Schema):
    items = fields.List(fields.Nested(StockMovementSchema), dump_only=True)
    next_cursor = fields.Integer(dump_only=True, allow_none=True)
