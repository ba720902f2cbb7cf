"""Marshmallow schemas of the merchant API."""

from marshmallow import Schema, fields


class ShopSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    slug = fields.String(dump_only=True)
    status = fields.Function(lambda m: m.status.value, dump_only=True)
    contact_name = fields.String(dump_only=True)
    contact_email = fields.String(dump_only=True)
    contact_phone = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    service_phone = fields.String(dump_only=True)
    service_email = fields.String(dump_only=True)
    service_hours = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
