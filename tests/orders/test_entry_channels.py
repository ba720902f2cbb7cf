"""Orders entered by platform staff: phone orders for a shopper (paid later), gift orders (free), and group-buy
CSV imports (paid offline), each through checkout's place_orders; a bad entry places nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select, update

from marketplace.catalog.models import Sku
from marketplace.checkout.errors import NotFreeOfCharge
from marketplace.checkout.models import Checkout
from marketplace.checkout.services import place_orders
from marketplace.core.audit import SYSTEM, acting_as
from marketplace.extensions import db
from marketplace.identity.models import User
from marketplace.inventory.models import StockLevel
from marketplace.merchants.services import Fees, save_shipping_template
from marketplace.orders import entry, group_buy
from marketplace.orders.drafts import DeliveryAddress, OrderActor
from marketplace.orders.models import Order, OrderChannel, OrderStatus
from marketplace.payments.models import JournalEntry, Payment, PaymentStatus
from tests.factories import make_merchant
from tests.orders.oms_helpers import history, staff_client
from tests.orders.order_helpers import shopper_with_address, stocked_sku

ADDRESS = DeliveryAddress(
    recipient="Han Meimei", phone="13900139000", province="440000", city="Shenzhen", detail="2 Bay Road"
)


def _code(app, sku_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(Sku.code).where(Sku.id == sku_id))


def _orders(app) -> list[Order]:
    with app.app_context():
        found = list(db.session.scalars(select(Order).order_by(Order.id)))
        for o in found:
            db.session.expunge(o)
        return found


def _available(app, sku_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.sum(StockLevel.available)).where(StockLevel.sku_id == sku_id))


@pytest.fixture
def tea_shop(app):
    """A shop whose default shipping template charges 8 yuan, and its 25-yuan tea with 10 in stock."""
    shop = make_merchant(app, "Tea House")
    with app.app_context(), acting_as(SYSTEM):
        save_shipping_template(
            db.session, tenant_id=shop.id, name="Standard", fees=Fees(1000, 800, 1000, 200),
            free_shipping_threshold=None, is_default=True,
        )  # fmt: skip
        db.session.commit()
    sku = stocked_sku(app, shop, price=2500, stock=10, title="Green tea")
    return {"shop": shop, "sku": sku, "code": _code(app, sku)}


@pytest.fixture
def shopper(app):
    user, address_id = shopper_with_address(app, email="li@example.test")
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(phone="13800138000"))
        db.session.commit()
    return {"user": user, "address_id": address_id}


def test_a_phone_order_is_placed_for_the_shopper_who_pays_it_later(app, tea_shop, shopper):
    client, staff = staff_client(app, role="customer_service")
    by_phone = client.get("/admin/orders/new-phone", query_string={"shopper": "13800138000"})
    assert (
        by_phone.status_code == 200 and "li@example.test" in by_phone.text and "1 Test Road" in by_phone.text
    )
    form = {
        "shopper_id": shopper["user"].id,
        "address_id": shopper["address_id"],
        "sku_code": [tea_shop["code"], ""],
        "quantity": ["2", "1"],
        "note": "call before delivery",
    }

    preview = client.post("/admin/orders/new-phone", data={**form, "action": "preview"})

    assert preview.status_code == 200 and "¥58.00" in preview.text  # 2 × 25 + 8 shipping
    assert _orders(app) == []

    placed = client.post("/admin/orders/new-phone", data={**form, "action": "place", "entry_key": "k1"})
    again = client.post("/admin/orders/new-phone", data={**form, "action": "place", "entry_key": "k1"})

    [made] = _orders(app)
    assert placed.status_code == 302 and placed.headers["Location"].endswith(f"/admin/orders/{made.id}")
    assert again.status_code == 302  # a double submit: the same order, not a second one
    assert (made.channel, made.status, made.shopper_id) == (
        OrderChannel.PHONE,
        OrderStatus.PENDING_PAYMENT,
        shopper["user"].id,
    )
    assert (made.goods_amount, made.shipping_amount, made.total_amount) == (5000, 800, 5800)
    assert (made.recipient, made.note, made.email) == ("Li Lei", "call before delivery", "li@example.test")
    assert made.pay_deadline is not None
    assert history(app, made.id) == [("placed", None, None, "phone", staff.name)]
    assert _available(app, tea_shop["sku"]) == 8
    with app.app_context():
        assert db.session.get(Payment, made.payment_id).status is PaymentStatus.PENDING


def test_a_phone_order_with_bad_lines_or_address_is_refused_entry_by_entry(app, tea_shop, shopper):
    client, _staff = staff_client(app)

    response = client.post(
        "/admin/orders/new-phone",
        data={
            "shopper_id": shopper["user"].id,
            "address_id": "new",
            "recipient": "Han Meimei",
            "phone": "12345",
            "province": "440000",
            "city": "Shenzhen",
            "detail": "2 Bay Road",
            "sku_code": [tea_shop["code"], "NO-SUCH-CODE"],
            "quantity": ["0", "1"],
            "action": "place",
        },
    )

    assert response.status_code == 422
    assert "Enter a mobile number such as 13800138000" in response.text
    assert "The quantity must be from 1 to 9999." in response.text
    assert "There is no SKU with the code NO-SUCH-CODE." in response.text
    with app.app_context(), pytest.raises(entry.EntryRefused) as refused:
        entry.build_drafts(
            db.session,
            [entry.Wanted(tea_shop["code"], 0), entry.Wanted("NO-SUCH-CODE", 1)],
            address=ADDRESS,
        )
    assert [(key, message.format(**facts)) for key, message, facts in refused.value.problems] == [
        ("line-1", "The quantity must be from 1 to 9999."),
        ("line-2", "There is no SKU with the code NO-SUCH-CODE."),
    ]
    too_many = client.post(
        "/admin/orders/new-phone",
        data={"shopper_id": shopper["user"].id, "address_id": shopper["address_id"], "sku_code": [tea_shop["code"]], "quantity": ["11"], "action": "place"},
    )  # fmt: skip
    assert too_many.status_code == 422 and f"Only 10 left of {tea_shop['code']}." in too_many.text
    assert _orders(app) == []


def test_a_gift_order_is_free_and_goes_straight_to_the_warehouse(app, tea_shop, shopper):
    client, _staff = staff_client(app)

    placed = client.post(
        "/admin/orders/new-gift",
        data={
            "shopper_id": shopper["user"].id,
            "address_id": shopper["address_id"],
            "sku_code": [tea_shop["code"]],
            "quantity": ["1"],
            "action": "place",
        },
    )

    [gift] = _orders(app)
    assert placed.status_code == 302
    assert (gift.channel, gift.goods_amount, gift.shipping_amount, gift.total_amount) == (
        OrderChannel.GIFT,
        0,
        0,
        0,
    )
    assert gift.status is OrderStatus.AWAITING_SHIPMENT
    assert _available(app, tea_shop["sku"]) == 9


def test_a_gift_order_with_a_price_is_refused_and_nothing_is_written(app, tea_shop, shopper):
    with app.app_context(), acting_as(SYSTEM):
        with pytest.raises(entry.EntryRefused) as refused:
            entry.build_drafts(
                db.session, [entry.Wanted(tea_shop["code"], 1, unit_price=500)], address=ADDRESS, gift=True
            )
        assert refused.value.problems == [("line-1", "A gift order is free: the price must be 0.", {})]

        priced = entry.build_drafts(db.session, [entry.Wanted(tea_shop["code"], 1)], address=ADDRESS)
        with pytest.raises(NotFreeOfCharge):
            place_orders(
                db.session, priced, shopper_id=shopper["user"].id, channel=OrderChannel.GIFT,
                actor=OrderActor(None, "test"), settle="free",
            )  # fmt: skip
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Checkout)) == 0
    assert _orders(app) == []
    assert _available(app, tea_shop["sku"]) == 10


def _csv(*rows: str) -> bytes:
    header = "group_ref,recipient,phone,province,city,district,address,sku_code,quantity,unit_price"
    return ("\n".join([header, *rows]) + "\n").encode()


def test_a_group_buy_file_becomes_paid_orders_one_per_group_and_shop(app, tea_shop):
    cup_shop = make_merchant(app, "Cup Shop")
    cups = stocked_sku(app, cup_shop, price=3000, stock=10, title="Blue cup")
    cup_code, tea_code = _code(app, cups), tea_shop["code"]
    data = _csv(
        f"G-1,Han Meimei,13900139000,广东省,深圳市,南山区,2 Bay Road,{tea_code},2,19.90",
        f"G-1,Han Meimei,13900139000,广东省,深圳市,南山区,2 Bay Road,{cup_code},1,25",
        f"G-2,Wang Fang,13700137000,Shanghai,Shanghai,,9 River Road,{tea_code},1,19.90",
    )
    client, staff = staff_client(app)

    response = client.post("/admin/orders/import", data={"file": (io.BytesIO(data), "group.csv")})

    assert response.status_code == 200 and "Imported 2 groups." in response.text
    made = _orders(app)
    assert sorted((o.recipient, o.tenant_id, o.total_amount) for o in made) == sorted([
        ("Han Meimei", tea_shop["shop"].id, 3980),  # 2 × 19.90, no shipping: the group-buy price is all in
        ("Han Meimei", cup_shop.id, 2500),
        ("Wang Fang", tea_shop["shop"].id, 1990),
    ])  # fmt: skip
    assert {(o.channel, o.status, o.shopper_id) for o in made} == {
        (OrderChannel.GROUP_BUY, OrderStatus.AWAITING_SHIPMENT, None)
    }
    assert {o.province for o in made} == {"440000", "310000"}
    with app.app_context():
        for o in made:
            assert db.session.get(Payment, o.payment_id).status is PaymentStatus.PAID
            assert db.session.scalar(select(func.count()).where(JournalEntry.order_id == o.id)) >= 1
    assert history(app, made[0].id)[0] == ("placed", None, None, "group_buy", staff.name)

    again = client.post("/admin/orders/import", data={"file": (io.BytesIO(data), "group.csv")})

    assert again.status_code == 200 and len(_orders(app)) == 3  # the same file twice places nothing new
    assert _available(app, tea_shop["sku"]) == 7


def test_a_bad_row_imports_nothing_and_every_bad_row_is_named(app, tea_shop):
    tea_code = tea_shop["code"]
    data = _csv(
        f"G-1,Han Meimei,13900139000,广东,深圳,,2 Bay Road,{tea_code},1,19.90",
        "G-1,Han Meimei,13900139000,广东,深圳,,2 Bay Road,NO-SUCH,1,19.90",
        f"G-2,Wang Fang,12345,Shanghai,Shanghai,,9 River Road,{tea_code},two,19.90",
        f"G-1,Han Meimei,13900139000,广东,深圳,,3 Other Road,{tea_code},1,19.90",
    )
    client, _staff = staff_client(app)

    response = client.post("/admin/orders/import", data={"file": (io.BytesIO(data), "bad.csv")})

    assert response.status_code == 422 and "Nothing was imported." in response.text
    for sentence in (
        "Row 3: There is no SKU with the code NO-SUCH.",
        "Row 4: Enter a mobile number such as 13800138000 or a landline such as 021-12345678.",
        "Row 4: two is not a quantity.",
        "Row 5: The rows of group G-1 deliver to one address; row 2 gives another.",
    ):
        assert sentence in response.text, sentence
    assert "Row 2:" not in response.text
    assert _orders(app) == []
    with app.app_context(), pytest.raises(group_buy.GroupBuyRefused, match=r"Row 3: There is no SKU"):
        group_buy.plan_import(db.session, data)


def test_a_file_wanting_more_than_is_in_stock_names_its_rows_and_imports_nothing(app, tea_shop):
    tea_code = tea_shop["code"]
    data = _csv(
        f"G-1,Han Meimei,13900139000,广东,深圳,,2 Bay Road,{tea_code},6,19.90",
        f"G-2,Wang Fang,13700137000,上海,上海,,9 River Road,{tea_code},5,19.90",
    )
    with app.app_context(), pytest.raises(group_buy.GroupBuyRefused) as refused:
        group_buy.plan_import(db.session, data)

    assert [(e.row, e.message.format(**e.facts)) for e in refused.value.errors] == [
        (2, f"Only 10 left of {tea_code}; the file wants 11."),
        (3, f"Only 10 left of {tea_code}; the file wants 11."),
    ]
    with app.app_context(), pytest.raises(group_buy.GroupBuyRefused, match="Columns missing: unit_price"):
        group_buy.plan_import(
            db.session, b"group_ref,recipient,phone,province,city,address,sku_code,quantity\n"
        )


def test_entering_orders_needs_orders_create(app):
    client, _finance = staff_client(app, role="finance")  # sees orders, may not enter them

    assert client.get("/admin/orders").status_code == 200
    for path in ("/admin/orders/new-phone", "/admin/orders/new-gift", "/admin/orders/import"):
        assert client.get(path).status_code == 403, path
        assert client.post(path).status_code == 403, path
