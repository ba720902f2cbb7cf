"""The merchant API for orders: /api/v1/orders.

Every call runs inside the API key's shop (see ``merchant_portal.api.authenticate_request``): another shop's
order number is a 404, exactly like a number that does not exist. Scopes: ``orders.view`` to read,
``orders.ship`` to ship, ``orders.cancel`` to cancel.

Orders are named by their number. Amounts are integers in fen. Refusals are problem JSON (RFC 9457) with a
stable ``code``: ``order.illegal_transition`` (409) when the order's status does not allow the step (the
title names the status), ``order.ship_quantity_too_large`` / ``order.nothing_to_ship`` (422) for bad
quantities, ``validation_failed`` (422) with ``errors`` per field for malformed input.

The list is keyset-paginated, newest first: pass a response's ``next_cursor`` as ``cursor``.
"""

from __future__ import annotations

from flask import g, url_for
from flask.views import MethodView

from marketplace.core.errors import NotFound
from marketplace.core.permissions import requires
from marketplace.extensions import db
from marketplace.orders import queries, services
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.queries import OrderFilters
from marketplace.orders.schemas import (
    CancelSchema,
    OrderDetailSchema,
    OrderListArgsSchema,
    OrderPageSchema,
    OrderView,
    ShipmentCreateSchema,
)
from merchant_portal.api_catalog import ApiBlueprint

orders_blp = ApiBlueprint(
    "api_orders",
    __name__,
    url_prefix="/api/v1/orders",
    description="The shop's orders: list, read, ship (in one or several parcels), cancel before shipment.",
)


def _by_number(number: str) -> Order:
    """The shop's order with this number, with lines, shipments and history; anything else is a 404."""
    page = queries.search_orders(db.session, OrderFilters(number=number, tenant_id=g.tenant_id), size=1)
    if not page.items:
        raise NotFound()
    return queries.get_order(db.session, page.items[0].id)


def _actor() -> services.OrderActor:
    return services.OrderActor(None, f"api:{g.api_key.prefix}")


@orders_blp.route("")
class OrderCollection(MethodView):
    @requires("orders.view")
    @orders_blp.arguments(OrderListArgsSchema, location="query")
    @orders_blp.response(200, OrderPageSchema)
    def get(self, args):
        """List the shop's orders, newest first.

        Filters combine: `status`, `created_from` / `created_to` (placement time), `number`, `phone`.
        Orders waiting to be shipped are `status=awaiting_shipment` (and `partially_shipped` for the rest of
        a split parcel). At most `limit` items (50 by default, 100 at most); `next_cursor` is null on the last
        page.
        """
        filters = OrderFilters(
            tenant_id=g.tenant_id,
            number=args.get("number", ""),
            status=OrderStatus(args["status"]) if args.get("status") else None,
            phone=args.get("phone", ""),
            created_from=args.get("created_from"),
            created_to=args.get("created_to"),
        )
        page = queries.search_orders(db.session, filters, before=args.get("cursor"), size=args["limit"])
        return {"items": [OrderView(o) for o in page.items], "next_cursor": page.next_cursor}


@orders_blp.route("/<string:number>", endpoint="order")
class OrderItem(MethodView):
    @requires("orders.view")
    @orders_blp.response(200, OrderDetailSchema)
    def get(self, number):
        """One order with its lines (shipped and open quantities), address, invoice request, shipments and
        history."""
        return OrderView(_by_number(number))


@orders_blp.route("/<string:number>/shipments", endpoint="shipments")
class OrderShipments(MethodView):
    @requires("orders.ship")
    @orders_blp.arguments(ShipmentCreateSchema)
    @orders_blp.response(201, OrderDetailSchema)
    def post(self, body, number):
        """Ship a parcel: the carrier, the waybill number and, for a partial shipment, the lines and quantities
        in it (left out: everything still open).

        The order becomes `partially_shipped` while something is left to ship, then `shipped`; stock on hand
        goes down by what was shipped. 422 `order.ship_quantity_too_large` when a quantity is above what is
        still open on its line (nothing is changed), 409 `order.illegal_transition` when the order is not
        awaiting shipment (unpaid, held for review, cancelled, shipped already).
        """
        order = _by_number(number)
        quantities = None
        if "lines" in body:
            quantities = {item["line_id"]: item["quantity"] for item in body["lines"]}
        services.ship_by_shop(
            db.session,
            order,
            quantities=quantities,
            carrier=body["carrier"],
            waybill_no=body["waybill_no"],
            actor=_actor(),
        )
        db.session.commit()
        location = url_for("api_orders.order", number=number)
        return OrderView(_by_number(number)), 201, {"Location": location}


@orders_blp.route("/<string:number>/cancel", endpoint="cancel")
class OrderCancel(MethodView):
    @requires("orders.cancel")
    @orders_blp.arguments(CancelSchema)
    @orders_blp.response(200, OrderDetailSchema)
    def post(self, body, number):
        """Cancel an order before anything of it shipped, with a reason: its stock is released and a paid
        order is refunded. 409 `order.illegal_transition` once a parcel has shipped (the title names the
        order's status)."""
        order = _by_number(number)
        services.cancel_order(db.session, order, actor=_actor(), reason=body["reason"])
        db.session.commit()
        return OrderView(_by_number(number))


API_ORDER_BLUEPRINTS = (orders_blp,)
