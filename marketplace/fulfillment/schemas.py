"""Marshmallow schemas of the merchant API for the platform warehouse (/api/v1/warehouse).

What a shop may see of the goods the platform holds for it: stock per warehouse and per bin, the receipts of
its goods (its own lines only) and its shipments. Names start with ``Warehouse``/``Inbound`` so the OpenAPI
components do not clash with the order API's ``Shipment``.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class _PageArgs(Schema):
    warehouse_id = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "One platform warehouse only; default: all."}
    )
    cursor = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "`next_cursor` of the previous page."}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class WarehouseStockArgsSchema(_PageArgs):
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Part of a SKU code or product title, or a SKU barcode."},
    )
    bin = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Only SKUs in bins whose code starts with this (or with this bin barcode)."},
    )


class InboundArgsSchema(_PageArgs):
    pass


class ShipmentArgsSchema(_PageArgs):
    warehouse_id = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "Only shipments from this warehouse (the shop's own or a platform one)."},
    )


class WarehouseBinSchema(Schema):
    bin_id = fields.Integer(dump_only=True)
    bin_code = fields.String(dump_only=True, metadata={"example": "A-01-02"})
    zone_code = fields.String(dump_only=True, metadata={"example": "A"})
    quantity = fields.Integer(dump_only=True, metadata={"description": "Units of the SKU in this bin."})


class WarehouseStockSchema(Schema):
    sku_id = fields.Integer(dump_only=True)
    sku_code = fields.String(dump_only=True)
    barcode = fields.String(dump_only=True, allow_none=True)
    product_title = fields.String(dump_only=True, attribute="title")
    warehouse_id = fields.Integer(dump_only=True)
    warehouse_code = fields.String(dump_only=True, metadata={"example": "PLATFORM"})
    on_hand = fields.Integer(dump_only=True)
    reserved = fields.Integer(dump_only=True, metadata={"description": "Held by open orders."})
    available = fields.Integer(
        dump_only=True, metadata={"description": "on_hand - reserved: what can be sold."}
    )
    low_stock_threshold = fields.Integer(dump_only=True)
    in_bins = fields.Integer(dump_only=True, metadata={"description": "Units put away into bins."})
    awaiting_putaway = fields.Integer(
        dump_only=True, metadata={"description": "Units received but not yet put into a bin."}
    )
    bins = fields.List(fields.Nested(WarehouseBinSchema), dump_only=True)


class WarehouseStockPageSchema(Schema):
    items = fields.List(fields.Nested(WarehouseStockSchema), dump_only=True)
    next_cursor = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null at the end."},
    )


class WarehouseSkuStockSchema(Schema):
    levels = fields.List(fields.Nested(WarehouseStockSchema), dump_only=True)


class InboundLineSchema(Schema):
    sku_id = fields.Integer(dump_only=True)
    sku_code = fields.String(dump_only=True)
    quantity = fields.Integer(dump_only=True, metadata={"description": "Units delivered."})
    damaged_quantity = fields.Integer(dump_only=True)
    good_quantity = fields.Integer(dump_only=True, metadata={"description": "Units booked into stock."})
    on_order = fields.Boolean(
        dump_only=True, metadata={"description": "false: an item the order did not list."}
    )


class InboundReceiptSchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True, metadata={"example": "PO2026000012-1"})
    po_number = fields.String(dump_only=True)
    is_return = fields.Boolean(
        dump_only=True, metadata={"description": "true: goods sent back to the supplier."}
    )
    warehouse_id = fields.Integer(dump_only=True)
    warehouse_code = fields.String(dump_only=True)
    received_at = fields.DateTime(dump_only=True)
    lines = fields.List(
        fields.Nested(InboundLineSchema), dump_only=True, metadata={"description": "The shop's goods only."}
    )


class InboundReceiptPageSchema(Schema):
    items = fields.List(fields.Nested(InboundReceiptSchema), dump_only=True)
    next_cursor = fields.Integer(dump_only=True, allow_none=True)


class WarehouseShipmentLineSchema(Schema):
    order_line_id = fields.Integer(dump_only=True)
    sku_id = fields.Integer(dump_only=True)
    sku_code = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    quantity = fields.Integer(dump_only=True)


class WarehouseShipmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    order_number = fields.String(dump_only=True)
    carrier = fields.String(dump_only=True, metadata={"example": "SF Express"})
    waybill_no = fields.String(dump_only=True)
    warehouse_id = fields.Integer(dump_only=True, allow_none=True)
    warehouse_code = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "null: shipped before warehouses were kept."},
    )
    shipped_at = fields.DateTime(dump_only=True)
    lines = fields.List(fields.Nested(WarehouseShipmentLineSchema), dump_only=True)


class WarehouseShipmentPageSchema(Schema):
    items = fields.List(fields.Nested(WarehouseShipmentSchema), dump_only=True)
    next_cursor = fields.Integer(dump_only=True, allow_none=True)
