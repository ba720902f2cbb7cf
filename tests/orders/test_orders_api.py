"""The merchant API for orders: list with filters and a cursor, detail, ship in parcels, cancel; scopes, the
tenant wall (404) on every endpoint, and domain refusals as problem JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.inventory.models import StockLevel
from marketplace.merchants.services import create_api_key
from marketplace.orders.models import Order, OrderStatus, Shipment
from tests.factories import make_merchant
from tests.orders.order_helpers import place, place_paid, shopper_with_address, stocked_sku

ALL = ("orders.view", "orders.ship", "orders.cancel")


def _key(app, shop, scopes=ALL) -> dict[str, str]:
    with app.app_context(), acting_as(SYSTEM):
        _, secret = create_api_key(
            db.session, tenant_id=shop.id, name="erp", scopes=list(scopes), created_by_id=None
        )
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def shop(app):
    return make_merchant(app, "API Shop")


@pytest.fixture
def headers(app, shop):
    return _key(app, shop)


def _order(app, shop, *, quantity=3, phone="13800138000", paid=True, skus=1) -> str:
    sku_ids = [stocked_sku(app, shop, price=1000, stock=10) for _ in range(skus)]
    shopper, address_id = shopper_with_address(app, phone=phone)
    placer = place_paid if paid else place
    return placer(app, shopper, address_id, [(s, quantity) for s in sku_ids]).order_numbers[0]


def _on_hand(app, number) -> list[int]:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        return [
            db.session.scalar(select(func.sum(StockLevel.on_hand)).where(StockLevel.sku_id == line.sku_id))
            for line in order.lines
        ]


def test_list_filters_and_keyset_cursor(app, client, shop, headers):
    first = _order(app, shop, phone="13900000001")
    second = _order(app, shop, phone="13900000002")
    unpaid = _order(app, shop, phone="13900000003", paid=False)
    _order(app, make_merchant(app), phone="13900000001")

    everything = client.get("/api/v1/orders", headers=headers).json
    assert [o["number"] for o in everything["items"]] == [unpaid, second, first]
    assert everything["next_cursor"] is None
    item = everything["items"][2]
    assert item["status"] == "awaiting_shipment" and item["address"]["recipient"] == "Li Lei"
    assert item["lines"][0]["quantity"] == 3 and item["lines"][0]["open_quantity"] == 3

    page1 = client.get("/api/v1/orders?limit=2", headers=headers).json
    assert [o["number"] for o in page1["items"]] == [unpaid, second]
    page2 = client.get(f"/api/v1/orders?limit=2&cursor={page1['next_cursor']}", headers=headers).json
    assert [o["number"] for o in page2["items"]] == [first] and page2["next_cursor"] is None

    def numbers(query: str) -> list[str]:
        response = client.get(f"/api/v1/orders?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [o["number"] for o in response.json["items"]]

    assert numbers("status=awaiting_shipment") == [second, first]
    assert numbers("status=pending_payment") == [unpaid]
    assert numbers("phone=13900000001") == [first]
    assert numbers(f"number={second}") == [second]
    now = datetime.now(UTC)
    assert numbers(f"created_from={(now - timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%S')}") == [
        unpaid,
        second,
        first,
    ]
    assert numbers(f"created_to={(now - timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%S')}") == []

    bad = client.get("/api/v1/orders?status=lost", headers=headers)
    assert (
        bad.status_code == 422 and bad.json["code"] == "validation_failed" and "status" in bad.json["errors"]
    )


def test_detail_by_number_with_shipments_and_history(app, client, shop, headers):
    number = _order(app, shop, quantity=2)
    response = client.get(f"/api/v1/orders/{number}", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["number"] == number and body["status"] == "awaiting_shipment"
    assert body["goods_amount"] == 2000 and body["invoice"]["type"] == "none"
    assert body["address"]["detail"] == "1 Test Road" and body["shipments"] == []
    assert [e["action"] for e in body["history"]][:2] == ["placed", "pay"]


def test_ship_in_two_parcels_then_cancel_is_refused_naming_the_state(app, client, shop, headers):
    number = _order(app, shop, quantity=3, skus=2)
    detail = client.get(f"/api/v1/orders/{number}", headers=headers).json
    line_a, line_b = (line["id"] for line in detail["lines"])

    response = client.post(
        f"/api/v1/orders/{number}/shipments",
        json={
            "carrier": "顺丰速运",
            "waybill_no": "SF1",
            "lines": [{"line_id": line_a, "quantity": 3}, {"line_id": line_b, "quantity": 1}],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.json
    assert response.headers["Location"].endswith(f"/api/v1/orders/{number}")
    assert response.json["status"] == "partially_shipped"
    assert [(line["shipped_quantity"], line["open_quantity"]) for line in response.json["lines"]] == [
        (3, 0),
        (1, 2),
    ]
    assert _on_hand(app, number) == [7, 9]

    rest = client.post(
        f"/api/v1/orders/{number}/shipments",
        json={"carrier": "中通快递", "waybill_no": "ZT2"},
        headers=headers,
    )
    assert rest.status_code == 201
    assert rest.json["status"] == "shipped"
    assert [(s["waybill_no"], s["lines"]) for s in rest.json["shipments"]] == [
        ("SF1", [{"line_id": line_a, "quantity": 3}, {"line_id": line_b, "quantity": 1}]),
        ("ZT2", [{"line_id": line_b, "quantity": 2}]),
    ]
    assert _on_hand(app, number) == [7, 7]

    cancel = client.post(f"/api/v1/orders/{number}/cancel", json={"reason": "too late"}, headers=headers)
    assert cancel.status_code == 409
    assert cancel.mimetype == "application/problem+json"
    assert cancel.json["code"] == "order.illegal_transition"
    assert "is shipped" in cancel.json["title"]


def test_a_quantity_above_the_open_one_is_refused_and_nothing_changes(app, client, shop, headers):
    number = _order(app, shop, quantity=2)
    line = client.get(f"/api/v1/orders/{number}", headers=headers).json["lines"][0]["id"]
    response = client.post(
        f"/api/v1/orders/{number}/shipments",
        json={"carrier": "顺丰速运", "waybill_no": "SF1", "lines": [{"line_id": line, "quantity": 3}]},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json["code"] == "order.ship_quantity_too_large"
    unknown_line = client.post(
        f"/api/v1/orders/{number}/shipments",
        json={"carrier": "顺丰速运", "waybill_no": "SF1", "lines": [{"line_id": 999999, "quantity": 1}]},
        headers=headers,
    )
    assert unknown_line.status_code == 422 and unknown_line.json["code"] == "order.nothing_to_ship"
    missing = client.post(f"/api/v1/orders/{number}/shipments", json={"carrier": "顺丰速运"}, headers=headers)
    assert missing.status_code == 422 and "waybill_no" in missing.json["errors"]
    twice = client.post(
        f"/api/v1/orders/{number}/shipments",
        json={
            "carrier": "x",
            "waybill_no": "y",
            "lines": [{"line_id": line, "quantity": 1}, {"line_id": line, "quantity": 1}],
        },
        headers=headers,
    )
    assert twice.status_code == 422 and "lines" in twice.json["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Shipment)) == 0
        assert (
            db.session.scalar(select(Order.status).where(Order.number == number))
            is OrderStatus.AWAITING_SHIPMENT
        )
    assert _on_hand(app, number) == [10]


def test_cancel_with_a_reason_releases_stock(app, client, shop, headers):
    number = _order(app, shop, quantity=4)
    assert client.post(f"/api/v1/orders/{number}/cancel", json={}, headers=headers).status_code == 422
    response = client.post(
        f"/api/v1/orders/{number}/cancel", json={"reason": "out of stock"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert response.json["history"][-1]["reason"] == "out of stock"
    with app.app_context():
        sku_id = db.session.scalar(select(Order).where(Order.number == number)).lines[0].sku_id
        level = db.session.execute(
            select(func.sum(StockLevel.reserved), func.sum(StockLevel.available)).where(
                StockLevel.sku_id == sku_id
            )
        ).one()
    assert tuple(level) == (0, 10)


def test_another_shops_order_is_a_404_on_every_endpoint(app, client, shop, headers):
    theirs = _order(app, make_merchant(app), quantity=1)
    assert client.get(f"/api/v1/orders/{theirs}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/orders?number={theirs}", headers=headers).json["items"] == []
    shipped = client.post(
        f"/api/v1/orders/{theirs}/shipments", json={"carrier": "x", "waybill_no": "y"}, headers=headers
    )
    assert shipped.status_code == 404 and shipped.json["code"] == "not_found"
    cancelled = client.post(f"/api/v1/orders/{theirs}/cancel", json={"reason": "mine"}, headers=headers)
    assert cancelled.status_code == 404
    assert client.get("/api/v1/orders/00000000000000000000", headers=headers).status_code == 404
    with app.app_context():
        assert (
            db.session.scalar(select(Order.status).where(Order.number == theirs))
            is OrderStatus.AWAITING_SHIPMENT
        )


def test_each_endpoint_needs_its_scope(app, client, shop):
    number = _order(app, shop, quantity=1)
    view_only = _key(app, shop, ("orders.view",))
    no_orders = _key(app, shop, ("catalog.view",))
    assert client.get("/api/v1/orders", headers=no_orders).status_code == 403
    assert client.get(f"/api/v1/orders/{number}", headers=no_orders).status_code == 403
    assert client.get(f"/api/v1/orders/{number}", headers=view_only).status_code == 200
    ship = client.post(
        f"/api/v1/orders/{number}/shipments", json={"carrier": "x", "waybill_no": "y"}, headers=view_only
    )
    assert ship.status_code == 403
    assert (
        client.post(f"/api/v1/orders/{number}/cancel", json={"reason": "r"}, headers=view_only).status_code
        == 403
    )
    assert client.get("/api/v1/orders").status_code == 401


def test_the_endpoints_are_documented(client):
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    assert {"get"} <= set(paths["/api/v1/orders"])
    assert {"get"} <= set(paths["/api/v1/orders/{number}"])
    assert {"post"} <= set(paths["/api/v1/orders/{number}/shipments"])
    assert {"post"} <= set(paths["/api/v1/orders/{number}/cancel"])
    assert "OrderDetail" in spec["components"]["schemas"]
