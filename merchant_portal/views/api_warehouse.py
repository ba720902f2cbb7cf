"""The merchant API for goods held in the platform's warehouses: /api/v1/warehouse.

Every call runs inside the API key's shop (see ``merchant_portal.api.authenticate_request``): the shop sees its
own SKUs' stock (per warehouse and per bin), the receipts of its goods (only its own lines: a receipt is a
platform document that may carry several shops' goods) and its shipments. Another shop's receipt or shipment
id is a 404, exactly like an id that does not exist. Scopes: ``stock.view`` for stock and receipts,
``orders.view`` for shipments.

Lists are keyset-paginated, newest first: pass a response's ``next_cursor`` as ``cursor``.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.fulfillment import queries, stock_queries
from marketplace.fulfillment.schemas import (
    InboundArgsSchema,
    InboundReceiptPageSchema,
    InboundReceiptSchema,
    ShipmentArgsSchema,
    WarehouseShipmentPageSchema,
    WarehouseShipmentSchema,
    WarehouseSkuStockSchema,
    WarehouseStockArgsSchema,
    WarehouseStockPageSchema,
)
from marketplace.fulfillment.stock_queries import ShipmentView, ShopReceipt, StockFilters
from marketplace.inventory.queries import shop_warehouse
from merchant_portal.api_catalog import ApiBlueprint

warehouse_blp = ApiBlueprint(
    "api_warehouse",
    __name__,
    url_prefix="/api/v1/warehouse",
    description="The shop's goods in the platform's warehouses: stock per warehouse and bin, receipts, shipments.",
)


def _platform_warehouse(warehouse_id: int | None) -> int | None:
    """A platform warehouse id from the query; a shop's own warehouse or an unknown id is a 404."""
    if warehouse_id is None:
        return None
    return queries.platform_warehouse(db.session, warehouse_id).id


def _receipt(shop_receipt: ShopReceipt, codes: dict[int, stock_queries.SkuLabel]) -> dict:
    receipt = shop_receipt.receipt
    return {
        "id": receipt.id,
        "number": receipt.number,
        "po_number": receipt.po.number,
        "is_return": receipt.po.is_return,
        "warehouse_id": receipt.warehouse_id,
        "warehouse_code": shop_receipt.warehouse_code,
        "received_at": receipt.created_at,
        "lines": [
            {
                "sku_id": line.sku_id,
                "sku_code": codes[line.sku_id].code if line.sku_id in codes else "",
                "quantity": line.quantity,
                "damaged_quantity": line.damaged_quantity,
                "good_quantity": line.good_quantity,
                "on_order": line.po_line_id is not None,
            }
            for line in shop_receipt.lines
        ],
    }


def _receipts(items: list[ShopReceipt]) -> list[dict]:
    """The receipts as JSON-ready dicts, with every SKU code found in one query."""
    codes = stock_queries.sku_labels(db.session, {line.sku_id for r in items for line in r.lines})
    return [_receipt(r, codes) for r in items]


def _shipment(view: ShipmentView) -> dict:
    shipment = view.shipment
    return {
        "id": shipment.id,
        "order_number": view.order_number,
        "carrier": shipment.carrier,
        "waybill_no": shipment.waybill_no,
        "warehouse_id": shipment.warehouse_id,
        "warehouse_code": view.warehouse_code,
        "shipped_at": shipment.created_at,
        "lines": [
            {
                "order_line_id": order_line.id,
                "sku_id": order_line.sku_id,
                "sku_code": order_line.sku_code,
                "title": order_line.title,
                "quantity": line.quantity,
            }
            for line, order_line in view.lines
        ],
    }


@warehouse_blp.route("/stock")
class WarehouseStockCollection(MethodView):
    @requires("stock.view")
    @warehouse_blp.arguments(WarehouseStockArgsSchema, location="query")
    @warehouse_blp.response(200, WarehouseStockPageSchema)
    def get(self, args):
        """List the shop's SKUs held in platform warehouses: totals per warehouse and the bins holding them.

        One item per SKU per warehouse, newest first. Filters: `q` (SKU code, title or barcode), `bin` (bin
        code prefix), `warehouse_id`. `awaiting_putaway` counts units received but not yet in a bin.
        """
        filters = StockFilters(
            q=args.get("q", ""),
            bin_code=args.get("bin", ""),
            warehouse_id=_platform_warehouse(args.get("warehouse_id")),
            tenant_id=g.tenant_id,
        )
        page = stock_queries.stock_page(db.session, filters, before=args.get("cursor"), size=args["limit"])
        return {"items": page.items, "next_cursor": page.next_cursor}


@warehouse_blp.route("/stock/<int:sku_id>", endpoint="sku")
class WarehouseSkuStock(MethodView):
    @requires("stock.view")
    @warehouse_blp.response(200, WarehouseSkuStockSchema)
    def get(self, sku_id):
        """One SKU of the shop in every platform warehouse, with its bins; 404 when none holds it."""
        return {"levels": stock_queries.sku_levels(db.session, sku_id, tenant_id=g.tenant_id)}


@warehouse_blp.route("/receipts")
class InboundReceiptCollection(MethodView):
    @requires("stock.view")
    @warehouse_blp.arguments(InboundArgsSchema, location="query")
    @warehouse_blp.response(200, InboundReceiptPageSchema)
    def get(self, args):
        """Receipts of the shop's goods into platform warehouses, newest first, with the shop's lines only."""
        page = stock_queries.shop_receipt_page(
            db.session,
            tenant_id=g.tenant_id,
            warehouse_id=_platform_warehouse(args.get("warehouse_id")),
            before=args.get("cursor"),
            size=args["limit"],
        )
        return {"items": _receipts(page.items), "next_cursor": page.next_cursor}


@warehouse_blp.route("/receipts/<int:receipt_id>", endpoint="receipt")
class InboundReceiptItem(MethodView):
    @requires("stock.view")
    @warehouse_blp.response(200, InboundReceiptSchema)
    def get(self, receipt_id):
        """One receipt with the shop's lines; a receipt holding none of the shop's goods is a 404."""
        found = stock_queries.shop_receipt(db.session, tenant_id=g.tenant_id, receipt_id=receipt_id)
        return _receipts([found])[0]


@warehouse_blp.route("/shipments")
class WarehouseShipmentCollection(MethodView):
    @requires("orders.view")
    @warehouse_blp.arguments(ShipmentArgsSchema, location="query")
    @warehouse_blp.response(200, WarehouseShipmentPageSchema)
    def get(self, args):
        """The shop's shipments, newest first: order, carrier, waybill, warehouse and the units of each line."""
        warehouse_id = args.get("warehouse_id")
        if warehouse_id is not None:  # the shop's own or a platform warehouse; another shop's is a 404
            warehouse_id = shop_warehouse(db.session, g.tenant_id, warehouse_id).id
        page = stock_queries.shop_shipment_page(
            db.session,
            tenant_id=g.tenant_id,
            warehouse_id=warehouse_id,
            before=args.get("cursor"),
            size=args["limit"],
        )
        return {"items": [_shipment(v) for v in page.items], "next_cursor": page.next_cursor}


@warehouse_blp.route("/shipments/<int:shipment_id>", endpoint="shipment")
class WarehouseShipmentItem(MethodView):
    @requires("orders.view")
    @warehouse_blp.response(200, WarehouseShipmentSchema)
    def get(self, shipment_id):
        """One of the shop's shipments; another shop's id is a 404."""
        return _shipment(
            stock_queries.shop_shipment(db.session, tenant_id=g.tenant_id, shipment_id=shipment_id)
        )


API_WAREHOUSE_BLUEPRINTS = (warehouse_blp,)
