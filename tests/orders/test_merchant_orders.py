"""The merchant's orders: list and filters, the order page, shipping in parcels, the packing slip, cancelling
with a reason, and the tenant wall on every route."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.identity.models import UserKind
from marketplace.inventory.models import StockLevel
from marketplace.orders.models import Order, OrderEvent, OrderLine, OrderStatus, Shipment
from tests.factories import login, make_merchant, make_user
from tests.orders.order_helpers import place, place_paid, shopper_with_address, stocked_sku
from tests.page_helpers import english_client, field_errors, flashes


@pytest.fixture
def shop(app):
    return make_merchant(app, "Order Shop")


@pytest.fixture
def client(app, shop):
    owner = make_user(app, UserKind.MERCHANT, tenant=shop, is_owner=True)
    client = english_client(app)
    login(client, owner)
    return client


@dataclass
class Placed:
    id: int
    number: str
    line_id: int
    sku_id: int


def _paid(app, shop, *, quantity=3, phone="13800138000", title="Blue Teapot", paid=True) -> Placed:
    sku_id = stocked_sku(app, shop, price=1000, stock=10, title=title)
    shopper, address_id = shopper_with_address(app, phone=phone)
    placer = place_paid if paid else place
    number = placer(app, shopper, address_id, [(sku_id, quantity)]).order_numbers[0]
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        return Placed(order.id, number, order.lines[0].id, sku_id)


def _stock(app, sku_id) -> tuple[int, int, int]:
    with app.app_context():
        row = db.session.execute(
            select(
                func.sum(StockLevel.on_hand), func.sum(StockLevel.reserved), func.sum(StockLevel.available)
            ).where(StockLevel.sku_id == sku_id)
        ).one()
        return tuple(int(v) for v in row)


def _order(app, order_id) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        order.lines  # noqa: B018 - load before the context closes
        return order


def _shipments(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Shipment))


def test_the_list_shows_the_shops_orders_only_and_filters_them(app, shop, client):
    teapot = _paid(app, shop, phone="13900000001", title="Blue Teapot")
    cups = _paid(app, shop, phone="13900000002", title="Tea Cups")
    unpaid = _paid(app, shop, phone="13900000003", title="Kettle", paid=False)
    elsewhere = _paid(app, make_merchant(app), phone="13900000001", title="Blue Teapot")

    page = client.get("/merchant/orders")
    assert page.status_code == 200
    for order in (teapot, cups, unpaid):
        assert order.number in page.text
    assert elsewhere.number not in page.text

    def numbers(**args) -> set[str]:
        text = client.get("/merchant/orders", query_string=args, headers={"HX-Request": "true"}).text
        return set(re.findall(r"<code>(\d+)</code>", text))  # the order rows (the filter echoes the input)

    assert numbers(phone="13900000001") == {teapot.number}
    assert numbers(number=cups.number) == {cups.number}
    assert numbers(number=elsewhere.number) == set()
    assert numbers(status="awaiting_shipment") == {teapot.number, cups.number}
    assert numbers(status="pending_payment") == {unpaid.number}
    assert numbers(q="teapot") == {teapot.number}
    today = date.today()
    assert numbers(
        **{"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    ) == {
        teapot.number,
        cups.number,
        unpaid.number,
    }
    assert numbers(**{"from": (today + timedelta(days=2)).isoformat()}) == set()
    assert numbers(status="nonsense") == {teapot.number, cups.number, unpaid.number}  # ignored, not a 500


def test_load_more_returns_the_older_rows_after_the_cursor(app, shop, client):
    orders = [_paid(app, shop, phone=f"1390000000{n}") for n in range(3)]
    more = client.get(f"/merchant/orders?before={orders[2].id}", headers={"HX-Request": "true"}).text
    assert orders[0].number in more and orders[1].number in more and orders[2].number not in more
    assert "<html" not in more and "<tr" in more  # rows to append, not a page


def test_new_orders_are_highlighted_until_opened(app, shop, client):
    order = _paid(app, shop)
    listing = client.get("/merchant/orders").text
    assert f'<tr id="order-{order.id}" class="is-new">' in listing

    page = client.get(f"/merchant/orders/{order.id}")
    assert page.status_code == 200
    assert "new</span>" in page.text  # still marked on the visit that opens it
    assert f'<tr id="order-{order.id}" >' in client.get("/merchant/orders").text
    with app.app_context():
        assert db.session.get(Order, order.id).merchant_seen_at is not None
    assert "orders.update" not in client.get("/merchant/audit").text  # opening is not an edit


def test_the_order_page_shows_lines_address_note_invoice_and_history(app, shop, client):
    order = _paid(app, shop, quantity=2)
    page = client.get(f"/merchant/orders/{order.id}").text
    assert order.number in page
    assert "Li Lei" in page and "1 Test Road" in page and "13800138000" in page
    assert "not requested" in page  # invoice
    assert "awaiting shipment" in page
    assert "Ship</a>" in page and "Cancel order" in page
    assert "paid" in page and "released to the warehouse" in page  # history


def test_partial_shipment_then_the_rest_deducts_stock_and_records_parcels(app, shop, client):
    order = _paid(app, shop, quantity=3)
    assert _stock(app, order.sku_id) == (10, 3, 7)

    form = client.get(f"/merchant/orders/{order.id}/ship").text
    assert f'name="qty-{order.line_id}" value="3"' in form
    response = client.post(
        f"/merchant/orders/{order.id}/ship",
        data={"carrier": "顺丰速运", "waybill_no": "SF100", f"qty-{order.line_id}": "1"},
        follow_redirects=True,
    )
    assert ("success", "Shipped 1 units with 顺丰速运 SF100.") in flashes(response.text)
    assert _order(app, order.id).status is OrderStatus.PARTIALLY_SHIPPED
    assert _stock(app, order.sku_id) == (9, 2, 7)
    assert "SF100" in response.text and "partially shipped" in response.text

    response = client.post(
        f"/merchant/orders/{order.id}/ship",
        data={
            "carrier": "other",
            "carrier_other": "Local Courier",
            "waybill_no": "LC-2",
            f"qty-{order.line_id}": "2",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    shipped = _order(app, order.id)
    assert shipped.status is OrderStatus.SHIPPED and shipped.lines[0].shipped_quantity == 3
    assert _stock(app, order.sku_id) == (7, 0, 7)
    assert _shipments(app) == 2
    assert "Local Courier" in response.text
    # Nothing is left to ship: the form says so instead of offering lines.
    assert "there is nothing to ship" in client.get(f"/merchant/orders/{order.id}/ship").text


def test_shipping_more_than_is_open_is_refused_inline_and_changes_nothing(app, shop, client):
    order = _paid(app, shop, quantity=3)
    response = client.post(
        f"/merchant/orders/{order.id}/ship",
        data={"carrier": "顺丰速运", "waybill_no": "SF200", f"qty-{order.line_id}": "5"},
    )
    assert response.status_code == 422
    assert field_errors(response.text) == ["Only 3 left to ship."]
    assert 'value="SF200"' in response.text  # what was typed stays
    assert _order(app, order.id).status is OrderStatus.AWAITING_SHIPMENT
    assert _stock(app, order.sku_id) == (10, 3, 7)
    assert _shipments(app) == 0

    response = client.post(
        f"/merchant/orders/{order.id}/ship",
        data={"carrier": "", "waybill_no": "", f"qty-{order.line_id}": "x"},
    )
    assert response.status_code == 422
    assert set(field_errors(response.text)) == {
        "Choose the carrier, or type its name.",
        "Enter the waybill number.",
        "Enter a whole number from 0 to 3.",
    }
    response = client.post(
        f"/merchant/orders/{order.id}/ship",
        data={"carrier": "顺丰速运", "waybill_no": "SF1", f"qty-{order.line_id}": "0"},
    )
    assert response.status_code == 422 and "at least one line" in response.text
    assert _shipments(app) == 0


def test_an_unpaid_order_cannot_be_shipped(app, shop, client):
    order = _paid(app, shop, paid=False)
    response = client.post(
        f"/merchant/orders/{order.id}/ship",
        data={"carrier": "顺丰速运", "waybill_no": "SF9", f"qty-{order.line_id}": "1"},
    )
    assert response.status_code == 409
    assert "awaiting payment" in response.text and "cannot be shipped" in response.text
    assert _shipments(app) == 0


def test_cancel_with_a_reason_releases_the_stock(app, shop, client):
    order = _paid(app, shop, quantity=3)
    response = client.post(f"/merchant/orders/{order.id}/cancel", data={"reason": ""})
    assert response.status_code == 422 and "Give a reason." in response.text
    assert _order(app, order.id).status is OrderStatus.AWAITING_SHIPMENT

    response = client.post(
        f"/merchant/orders/{order.id}/cancel", data={"reason": "out of stock"}, follow_redirects=True
    )
    assert (f"Order {order.number} cancelled; its stock is released.") in [
        t for _, t in flashes(response.text)
    ]
    assert _order(app, order.id).status is OrderStatus.CANCELLED
    assert _stock(app, order.sku_id) == (10, 0, 10)
    with app.app_context():
        event = db.session.scalar(
            select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.action == "cancel")
        )
        assert event.reason == "out of stock" and event.actor_label
    assert "out of stock" in response.text


def test_cancel_after_shipment_is_refused_naming_the_state(app, shop, client):
    order = _paid(app, shop, quantity=1)
    client.post(
        f"/merchant/orders/{order.id}/ship",
        data={"carrier": "顺丰速运", "waybill_no": "SF300", f"qty-{order.line_id}": "1"},
    )
    assert "Cancel order" not in client.get(f"/merchant/orders/{order.id}").text  # not offered
    response = client.post(f"/merchant/orders/{order.id}/cancel", data={"reason": "changed my mind"})
    assert response.status_code == 409
    assert f"Order {order.number} is shipped; it cannot be cancelled now." in response.text
    assert _order(app, order.id).status is OrderStatus.SHIPPED
    assert _stock(app, order.sku_id) == (9, 0, 9)


def test_the_packing_slip_prints_the_lines_with_sku_codes(app, shop, client):
    order = _paid(app, shop, quantity=2)
    with app.app_context():
        code = db.session.get(OrderLine, order.line_id).sku_code
    slip = client.get(f"/merchant/orders/{order.id}/packing-slip")
    assert slip.status_code == 200
    text = slip.text
    assert "@media print" in text and "window.print()" in text
    assert order.number in text and "Li Lei" in text and "1 Test Road" in text
    assert code and f"<code>{code}</code>" in text
    assert '<td class="qty pack">2</td>' in text
    assert "¥" not in text  # a packing slip shows no prices


def test_another_shops_order_is_a_404_on_every_route(app, shop, client):
    theirs = _paid(app, make_merchant(app), quantity=2)
    for path in ("", "/ship", "/packing-slip"):
        assert client.get(f"/merchant/orders/{theirs.id}{path}").status_code == 404, path
    assert (
        client.post(
            f"/merchant/orders/{theirs.id}/ship",
            data={"carrier": "顺丰速运", "waybill_no": "X", f"qty-{theirs.line_id}": "1"},
        ).status_code
        == 404
    )
    assert client.post(f"/merchant/orders/{theirs.id}/cancel", data={"reason": "mine now"}).status_code == 404
    assert _order(app, theirs.id).status is OrderStatus.AWAITING_SHIPMENT
    assert _shipments(app) == 0


def test_routes_need_their_permissions(app, shop):
    order = _paid(app, shop)
    finance = make_user(app, UserKind.MERCHANT, tenant=shop, role="finance")  # orders.view only
    client = english_client(app)
    login(client, finance)
    page = client.get(f"/merchant/orders/{order.id}")
    assert page.status_code == 200 and "Ship</a>" not in page.text and "Cancel order" not in page.text
    assert client.get(f"/merchant/orders/{order.id}/ship").status_code == 403
    assert client.get(f"/merchant/orders/{order.id}/packing-slip").status_code == 403
    assert client.post(f"/merchant/orders/{order.id}/cancel", data={"reason": "x"}).status_code == 403
    assert _order(app, order.id).status is OrderStatus.AWAITING_SHIPMENT
