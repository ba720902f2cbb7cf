"""The admin OMS: the order list with its filters and tabs, "new" until opened, marking invalid, bulk removal of
invalid orders (soft, audited, hidden) and restore by super admins only, and the order page's money and history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from marketplace.core.audit import SYSTEM, AuditEntry, acting_as
from marketplace.core.errors import NotFound, PermissionDenied
from marketplace.extensions import db
from marketplace.identity.models import User
from marketplace.orders import oms, queries, services
from marketplace.orders.models import Order, OrderStatus
from tests.factories import make_merchant
from tests.orders.oms_helpers import (
    audit_actions,
    complete,
    highlighted,
    history,
    listed,
    mark_invalid,
    order,
    placed_at,
    set_columns,
    staff_client,
)
from tests.orders.order_helpers import place, place_paid, shopper_with_address, stocked_sku
from tests.page_helpers import flashes

HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop_orders(app):
    """Three orders of two shops: o1 (tea, placed in January 2024), o2 (cup, paid), o3 (tea, newest)."""
    tea_shop, cup_shop = make_merchant(app, "Tea House"), make_merchant(app, "Cup Shop")
    tea = stocked_sku(app, tea_shop, price=2500, title="Green tea")
    cup = stocked_sku(app, cup_shop, price=1200, title="Blue cup")
    li, li_address = shopper_with_address(app, phone="13800000001")
    wang, wang_address = shopper_with_address(app, phone="13900000002", email="wang@example.test")
    o1 = place(app, li, li_address, [(tea, 1)]).order_ids[0]
    o2 = place_paid(app, wang, wang_address, [(cup, 1)]).order_ids[0]
    o3 = place(app, wang, wang_address, [(tea, 2)]).order_ids[0]
    placed_at(app, o1, datetime(2024, 1, 10, 8, 0, tzinfo=UTC))
    return {"o1": o1, "o2": o2, "o3": o3, "tea_shop": tea_shop, "cup_shop": cup_shop}


def test_order_list_is_newest_first_and_every_filter_narrows_it(app, shop_orders):
    client, _staff = staff_client(app)
    o1, o2, o3 = shop_orders["o1"], shop_orders["o2"], shop_orders["o3"]

    def ids(**args):
        response = client.get("/admin/orders", query_string=args)
        assert response.status_code == 200
        return listed(response.text)

    assert ids() == [o3, o2, o1]
    assert ids(number=order(app, o2).number) == [o2]
    assert ids(phone="13800000001") == [o1]
    assert ids(status="awaiting_shipment") == [o2] == ids(tab="shipping")
    assert ids(status="pending_payment") == [o3, o1]
    assert ids(**{"from": "2024-01-01", "to": "2024-01-31"}) == [o1]
    assert ids(**{"from": "2024-01-11"}) == [o3, o2]
    assert ids(shop="Cup Shop") == [o2]
    assert ids(shop=shop_orders["tea_shop"].slug) == [o3, o1]
    assert ids(shop=str(shop_orders["cup_shop"].id)) == [o2]
    assert ids(shop="No Such Shop") == []
    assert ids(keyword="tea") == [o3, o1]
    assert ids(keyword="blue") == [o2]
    assert ids(customer="wang@example.test") == [o3, o2]
    assert ids(customer="Li Lei") == [o3, o2, o1]  # the recipient name of every address here
    assert ids(status="pending_payment", phone="13900000002") == [o3]
    assert ids(tab="completed") == [] and ids(tab="timeout") == [] and ids(tab="invalid") == []


def test_filters_answer_htmx_with_the_results_only_and_pages_follow_each_other(app, shop_orders):
    client, _staff = staff_client(app)

    partial = client.get(
        "/admin/orders", query_string={"keyword": "tea"}, headers={**HTMX, "HX-Target": "order-results"}
    )

    assert partial.status_code == 200
    assert "</html>" not in partial.text and 'id="order-results"' in partial.text
    assert listed(partial.text) == [shop_orders["o3"], shop_orders["o1"]]
    with app.app_context():
        seen, before = [], None
        while True:
            page = queries.search_orders(db.session, queries.OrderFilters(), before=before, size=1)
            seen += [o.id for o in page.items]
            if not page.has_more:
                break
            before = page.next_cursor
    assert seen == [shop_orders["o3"], shop_orders["o2"], shop_orders["o1"]]


def test_new_orders_are_highlighted_until_a_staff_member_opens_them(app, shop_orders):
    client, _staff = staff_client(app)
    o2 = shop_orders["o2"]
    assert o2 in highlighted(client.get("/admin/orders").text)
    audited_before = audit_actions(app, o2)

    assert client.get(f"/admin/orders/{o2}").status_code == 200

    page = client.get("/admin/orders").text
    assert o2 in listed(page) and o2 not in highlighted(page)
    assert listed(client.get("/admin/orders?new=1").text) == [shop_orders["o3"], shop_orders["o1"]]
    assert listed(client.get("/admin/orders?tab=new").text) == [shop_orders["o3"], shop_orders["o1"]]
    assert order(app, o2).admin_seen_at is not None
    assert audit_actions(app, o2) == audited_before  # looking is not a change


def test_marking_invalid_needs_a_reason_and_an_order_nothing_more_happens_to(app, shop_orders):
    client, staff = staff_client(app)
    o1, o2 = shop_orders["o1"], shop_orders["o2"]

    refused = client.post(f"/admin/orders/{o1}/invalid", data={"reason": "  "}, follow_redirects=True)

    assert ("error", "Give a reason.") in flashes(refused.text)
    assert order(app, o1).invalid_at is None

    in_progress = client.post(f"/admin/orders/{o2}/invalid", data={"reason": "fraud"}, follow_redirects=True)

    assert ("error", f"Order {order(app, o2).number} is awaiting shipment; cancel it (or reject its review)"
            " before marking it invalid.") in flashes(in_progress.text)  # fmt: skip
    assert order(app, o2).invalid_at is None

    done = client.post(f"/admin/orders/{o1}/invalid", data={"reason": "test order"}, follow_redirects=True)

    assert ("success", "The order is marked invalid.") in flashes(done.text)
    marked = order(app, o1)
    assert marked.invalid_reason == "test order" and marked.invalid_at is not None
    assert marked.status is OrderStatus.CANCELLED  # unpaid: cancelled first, its stock released
    assert history(app, o1)[-2:] == [
        ("cancel", "pending_payment", "cancelled", "test order", staff.name),
        ("marked_invalid", None, None, "test order", staff.name),
    ]
    assert "order.mark_invalid" in audit_actions(app, o1)
    assert listed(client.get("/admin/orders?tab=invalid").text) == [o1]


def test_bulk_removal_removes_only_invalid_orders_audited_and_hidden(app, shop_orders):
    client, staff = staff_client(app)
    o1, o2, o3 = shop_orders["o1"], shop_orders["o2"], shop_orders["o3"]
    complete(app, o2)
    mark_invalid(app, o1, "spam")
    mark_invalid(app, o2, "test order")

    response = client.post(
        "/admin/orders/remove-invalid?tab=invalid", data={"ids": [o1, o2, o3]}, headers=HTMX
    )

    assert response.status_code == 200 and "</html>" not in response.text
    assert "Removed 2 invalid orders." in response.text
    assert "1 chosen order was left alone: it is not marked invalid." in response.text
    assert listed(response.text) == []  # the invalid tab, refreshed
    assert listed(client.get("/admin/orders").text) == [o3]
    assert listed(client.get("/admin/orders?tab=removed").text) == [o2, o1]
    assert order(app, o3).deleted_at is None
    assert history(app, o1)[-1] == ("removed", None, None, "spam", staff.name)
    with app.app_context():
        removal = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == str(o2), AuditEntry.action == "order.remove")
        ).one()
        update = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_id == str(o2), AuditEntry.action == "orders.update")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert (removal.actor_id, removal.reason) == (staff.id, "test order")
        assert update.changes["deleted_at"][0] is None and update.changes["deleted_at"][1]
        with pytest.raises(NotFound):  # the merchant portal and the shopper no longer find it
            queries.get_order(db.session, o1)
    assert client.get(f"/admin/orders/{o1}").status_code == 200  # the removed tab still opens it


def test_only_holders_of_orders_restore_bring_a_removed_order_back(app, shop_orders):
    o1 = shop_orders["o1"]
    mark_invalid(app, o1)
    admin, _ = staff_client(app)
    admin.post("/admin/orders/remove-invalid", data={"ids": [o1]})
    assert order(app, o1).deleted_at is not None
    service_desk, agent = staff_client(app, role="customer_service")

    assert service_desk.post(f"/admin/orders/{o1}/restore").status_code == 403
    assert service_desk.post("/admin/orders/restore", data={"ids": [o1]}).status_code == 403
    assert service_desk.post("/admin/orders/remove-invalid", data={"ids": [o1]}).status_code == 403
    with app.app_context(), acting_as(SYSTEM), pytest.raises(PermissionDenied):
        oms.restore_order(db.session, db.session.get(Order, o1), user=db.session.get(User, agent.id))
    assert order(app, o1).deleted_at is not None

    restored = admin.post("/admin/orders/restore?tab=removed", data={"ids": [o1]}, headers=HTMX)

    assert "Restored 1 order." in restored.text and listed(restored.text) == []
    assert order(app, o1).deleted_at is None and order(app, o1).invalid_at is not None
    assert listed(admin.get("/admin/orders?tab=invalid").text) == [o1]
    assert "order.restore" in audit_actions(app, o1)
    assert history(app, o1)[-1][0] == "restored"


def test_the_order_page_shows_lines_history_payment_ledger_and_shipments(app):
    tea_shop, cup_shop = make_merchant(app, "Tea House"), make_merchant(app, "Cup Shop")
    tea = stocked_sku(app, tea_shop, price=2500, title="Green tea")
    cup = stocked_sku(app, cup_shop, price=1200, title="Blue cup")
    shopper, address_id = shopper_with_address(app)
    placed = place_paid(app, shopper, address_id, [(tea, 2), (cup, 1)])
    tea_order = next(i for i in placed.order_ids if order(app, i).tenant_id == tea_shop.id)
    with app.app_context(), acting_as(SYSTEM):
        services.ship_order(
            db.session, db.session.get(Order, tea_order), quantities=None, carrier="SF", waybill_no="SF1234567",
            actor=services.SYSTEM,
        )  # fmt: skip
        db.session.commit()
    client, _staff = staff_client(app)

    page = client.get(f"/admin/orders/{tea_order}").text

    for text in (
        "Green tea",
        "¥50.00",
        placed.payment_number,
        "SF1234567",
        "Li Lei",
        f"merchant_payable:{tea_shop.id}",
    ):
        assert text in page, text
    assert "Blue cup" not in page
    with app.app_context():
        detail = queries.order_detail(db.session, tea_order)
        assert {line.order_id for line in detail.ledger} <= {None, tea_order}  # not the cup shop's allocation
        assert sum(line.amount for line in detail.ledger) == 0  # whole entries only: each balances
        assert [e.action for e in detail.order.events][:1] == ["placed"]
        assert detail.order.events[-1].to_status == "shipped"


def test_timed_out_and_completed_tabs(app, shop_orders):
    o1, o2, o3 = shop_orders["o1"], shop_orders["o2"], shop_orders["o3"]
    complete(app, o2)
    set_columns(app, o1, pay_deadline=datetime(2024, 1, 10, 8, 30, tzinfo=UTC))
    with app.app_context(), acting_as(SYSTEM):
        assert services.expire_unpaid(db.session) == 1  # o1's deadline passed
        services.cancel_order(
            db.session, db.session.get(Order, o3), actor=services.SYSTEM, reason="changed my mind"
        )
        db.session.commit()
    client, _staff = staff_client(app)

    assert listed(client.get("/admin/orders?tab=timeout").text) == [o1]
    assert listed(client.get("/admin/orders?tab=completed").text) == [o2]
    assert listed(client.get("/admin/orders?status=cancelled").text) == [o3, o1]
