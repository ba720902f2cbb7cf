"""Marshmallow schemas of orders for the merchant API and the order webhook (one shape for both).

Amounts are integers in fen. Times are ISO 8601 in UTC. An order is named by its ``number`` (never its
database id) in URLs, bodies and webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from marketplace.orders.models import Order, OrderStatus

# --- requests ---------------------------------------------------------------------------------------


class OrderListArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in OrderStatus]))
    created_from = fields.AwareDateTime(
        default_timezone=UTC,
        metadata={"description": "ISO 8601 (UTC when no zone is given): orders placed at or after."},
    )
    created_to = fields.AwareDateTime(
        default_timezone=UTC, metadata={"description": "ISO 8601: orders placed before (exclusive)."}
    )
    number = fields.String(
        validate=validate.Length(min=1, max=32), metadata={"description": "Exact order number."}
    )
    phone = fields.String(
        validate=validate.Length(min=1, max=20), metadata={"description": "Exact recipient phone."}
    )
    cursor = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "`next_cursor` of the previous page."}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class ShipLineSchema(Schema):
    line_id = fields.Integer(
        strict=True, required=True, metadata={"description": "`lines[].id` of the order."}
    )
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))


class ShipmentCreateSchema(Schema):
    carrier = fields.String(
        required=True, validate=validate.Length(min=1, max=50), metadata={"example": "顺丰速运"}
    )
    waybill_no = fields.String(
        required=True, validate=validate.Length(min=1, max=64), metadata={"example": "SF1234567890"}
    )
    lines = fields.List(
        fields.Nested(ShipLineSchema),
        validate=validate.Length(min=1, max=500),
        metadata={
            "description": "The lines and quantities in this parcel (a partial shipment). Left out: every "
            "open quantity of every line."
        },
    )

    @validates_schema
    def _one_entry_per_line(self, data: dict[str, Any], **kwargs) -> None:
        ids = [item["line_id"] for item in data.get("lines", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("Name each line once.", "lines")


class CancelSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "Why; kept in the order's history.", "example": "out of stock"},
    )


# --- responses --------------------------------------------------------------------------------------


@dataclass
class OrderView:
    """An order for dumping: the address and invoice as nested objects; other reads fall through."""

    order: Order

    def __getattr__(self, name: str) -> Any:
        return getattr(self.order, name)

    @property
    def address(self) -> Order:
        return self.order

    @property
    def invoice(self) -> Order:
        return self.order


class AddressSchema(Schema):
    recipient = fields.String(dump_only=True)
    phone = fields.String(dump_only=True)
    province = fields.String(dump_only=True, metadata={"description": "Province code."})
    city = fields.String(dump_only=True)
    district = fields.String(dump_only=True)
    detail = fields.String(attribute="address_detail", dump_only=True)
    postal_code = fields.String(dump_only=True)


class InvoiceSchema(Schema):
    type = fields.String(attribute="invoice_type.value", dump_only=True, metadata={"example": "none"})
    title = fields.String(attribute="invoice_title", dump_only=True)
    tax_no = fields.String(attribute="invoice_tax_no", dump_only=True)


class OrderLineSchema(Schema):
    id = fields.Integer(dump_only=True)
    sku_id = fields.Integer(dump_only=True)
    sku_code = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    spec = fields.String(dump_only=True)
    unit_price = fields.Integer(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    shipped_quantity = fields.Integer(dump_only=True)
    open_quantity = fields.Integer(dump_only=True, metadata={"description": "Still to ship."})
    amount = fields.Integer(dump_only=True)


class OrderSchema(Schema):
    number = fields.String(dump_only=True)
    status = fields.Enum(OrderStatus, by_value=True, dump_only=True)
    currency = fields.String(dump_only=True)
    goods_amount = fields.Integer(dump_only=True)
    shipping_amount = fields.Integer(dump_only=True)
    discount_amount = fields.Integer(dump_only=True)
    total_amount = fields.Integer(dump_only=True)
    refunded_amount = fields.Integer(dump_only=True)
    address = fields.Nested(AddressSchema, dump_only=True)
    shipping_method = fields.String(dump_only=True)
    note = fields.String(dump_only=True)
    invoice = fields.Nested(InvoiceSchema, dump_only=True)
    lines = fields.List(fields.Nested(OrderLineSchema), dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    paid_at = fields.DateTime(dump_only=True, allow_none=True)
    shipped_at = fields.DateTime(dump_only=True, allow_none=True)
    cancelled_at = fields.DateTime(dump_only=True, allow_none=True)


class ShipmentLineSchema(Schema):
    line_id = fields.Integer(attribute="order_line_id", dump_only=True)
    quantity = fields.Integer(dump_only=True)


class ShipmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    carrier = fields.String(dump_only=True)
    waybill_no = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    lines = fields.List(fields.Nested(ShipmentLineSchema), dump_only=True)


class OrderEventSchema(Schema):
    action = fields.String(dump_only=True, metadata={"example": "ship_part"})
    from_status = fields.String(dump_only=True, allow_none=True)
    to_status = fields.String(dump_only=True, allow_none=True)
    reason = fields.String(dump_only=True)
    actor = fields.String(attribute="actor_label", dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class OrderDetailSchema(OrderSchema):
    shipments = fields.List(fields.Nested(ShipmentSchema), dump_only=True)
    history = fields.List(fields.Nested(OrderEventSchema), attribute="events", dump_only=True)


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema), dump_only=True)
    next_cursor = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null at the end."},
    )


def order_json(order: Order) -> dict[str, Any]:
    """An order as the webhook body carries it (the API's list shape)."""
    return OrderSchema().dump(OrderView(order))
