"""The merchant API for stock per SKU per warehouse: /api/v1/stock.

Every call runs inside the API key's shop (see ``merchant_portal.api.authenticate_request``): another shop's
SKU or warehouse is a 404. Scopes: ``stock.view`` to read levels and the ledger, ``stock.edit`` to set on-hand
counts, correct them and set low-stock thresholds.

A SKU's stock is one level per warehouse: the shop's own (``SHOP-<shop id>``, the default of every write) and
possibly the platform's warehouse, which the platform counts (the shop reads it and may set its threshold, but
its quantities are refused with 409 ``stock.warehouse_not_editable``). Every change is a row of the stock ledger.

Errors are problem JSON (RFC 9457). Invalid input is a 422 ``validation_failed`` with ``errors`` per field and
changes nothing; a refused change (below what open orders reserved, more than is there) is a 409
``stock.insufficient`` and changes nothing either.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.inventory import queries, services
from marketplace.inventory.errors import WarehouseNotEditable
from marketplace.inventory.schemas import (
    SkuLevelsSchema,
    StockAdjustSchema,
    StockListArgsSchema,
    StockMovementPageSchema,
    StockPageSchema,
    StockSetSchema,
    ThresholdSchema,
    WarehouseArgsSchema,
)
from merchant_portal.api_catalog import ApiBlueprint

stock_blp = ApiBlueprint(
    "api_stock",
    __name__,
    url_prefix="/api/v1/stock",
    description="Stock per SKU per warehouse: read, set on hand, adjust with a reason, low-stock thresholds.",
)


def _sku(sku_id: int):
    return queries.sku_stock(db.session, tenant_id=g.tenant_id, sku_id=sku_id)  # another shop's: 404


def _warehouse(warehouse_id: int | None, *, quantities: bool) -> int | None:
    if warehouse_id is None:
        return None
    warehouse = queries.shop_warehouse(db.session, g.tenant_id, warehouse_id)  # another shop's: 404
    if quantities and warehouse.is_platform:
        raise WarehouseNotEditable(warehouse=warehouse.code)
    return warehouse.id


@stock_blp.route("")
class StockCollection(MethodView):
    @requires("stock.view")
    @stock_blp.arguments(StockListArgsSchema, location="query")
    @stock_blp.response(200, StockPageSchema)
    def get(self, args):
        """List the shop's SKUs with their stock per warehouse, newest SKU first.

        Filters combine: `q` (part of a SKU code or product title), `low` (only SKUs at or below a low-stock
        threshold), `warehouse_id` (only that warehouse). Keyset pagination: pass a response's `next_cursor`
        as `cursor` (at most `limit` items, 50 by default, 100 at most); `next_cursor` is null on the last page.
        """
        page = queries.stock_page(
            db.session,
            tenant_id=g.tenant_id,
            q=args.get("q", ""),
            low_only=bool(args.get("low")),
            warehouse_id=_warehouse(args.get("warehouse_id"), quantities=False),
            before=args.get("cursor"),
            size=args["limit"],
        )
        return {"items": page.items, "next_cursor": page.next_cursor}


@stock_blp.route("/<int:sku_id>", endpoint="sku")
class SkuStockItem(MethodView):
    @requires("stock.view")
    @stock_blp.response(200, SkuLevelsSchema)
    def get(self, sku_id):
        """One SKU's stock in every warehouse, with the totals."""
        return _sku(sku_id)

    @requires("stock.edit")
    @stock_blp.arguments(StockSetSchema)
    @stock_blp.response(200, SkuLevelsSchema)
    def put(self, body, sku_id):
        """Set the units on hand in one warehouse (a stock count); units reserved by open orders are kept.

        409 `stock.insufficient` when the number is below what open orders have reserved.
        """
        _sku(sku_id)
        services.set_on_hand(
            db.session,
            sku_id=sku_id,
            tenant_id=g.tenant_id,
            quantity=body["on_hand"],
            reason=body["reason"],
            actor_id=None,
            warehouse_id=_warehouse(body["warehouse_id"], quantities=True),
        )
        db.session.commit()
        return _sku(sku_id)


@stock_blp.route("/<int:sku_id>/adjust", endpoint="adjust")
class SkuStockAdjust(MethodView):
    @requires("stock.edit")
    @stock_blp.arguments(StockAdjustSchema)
    @stock_blp.response(200, SkuLevelsSchema)
    def post(self, body, sku_id):
        """Add (`delta` > 0) or take off (`delta` < 0) units in one warehouse, with the reason for the ledger.

        409 `stock.insufficient` when it would take on hand below 0 or below what open orders have reserved.
        """
        _sku(sku_id)
        services.adjust(
            db.session,
            sku_id=sku_id,
            tenant_id=g.tenant_id,
            delta=body["delta"],
            reason=body["reason"],
            actor_id=None,
            warehouse_id=_warehouse(body["warehouse_id"], quantities=True),
        )
        db.session.commit()
        return _sku(sku_id)


@stock_blp.route("/<int:sku_id>/threshold", endpoint="threshold")
class SkuStockThreshold(MethodView):
    @requires("stock.edit")
    @stock_blp.arguments(ThresholdSchema)
    @stock_blp.response(200, SkuLevelsSchema)
    def put(self, body, sku_id):
        """Set the low-stock threshold in one warehouse (0: no alert).

        When available stock falls to the threshold or below, the shop gets one alert (in the merchant portal
        and by e-mail to its contact) until stock rises above it again.
        """
        _sku(sku_id)
        services.set_threshold(
            db.session,
            sku_id=sku_id,
            tenant_id=g.tenant_id,
            threshold=body["low_stock_threshold"],
            warehouse_id=_warehouse(body["warehouse_id"], quantities=False),
        )
        db.session.commit()
        return _sku(sku_id)


@stock_blp.route("/<int:sku_id>/movements", endpoint="movements")
class SkuStockMovements(MethodView):
    @requires("stock.view")
    @stock_blp.arguments(WarehouseArgsSchema, location="query")
    @stock_blp.response(200, StockMovementPageSchema)
    def get(self, args, sku_id):
        """The SKU's stock ledger, newest first: every change with its kind, deltas, reason and order."""
        _sku(sku_id)
        page = queries.movement_page(
            db.session,
            tenant_id=g.tenant_id,
            sku_id=sku_id,
            warehouse_id=_warehouse(args.get("warehouse_id"), quantities=False),
            before=args.get("cursor"),
            size=args["limit"],
        )
        return {"items": page.items, "next_cursor": page.next_cursor}


API_STOCK_BLUEPRINTS = (stock_blp,)
